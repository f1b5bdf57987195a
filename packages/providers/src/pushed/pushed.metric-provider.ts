import type { MetricProvider, MetricProviderFactory, SideMeasurement } from '@glidepath/core';
import { Type } from 'typebox';
import { configChecker } from '../registry/check-config.ts';

/** Where pushed samples are read from (PostgreSQL in practice): sums over a window, per side. */
export interface PushedMetricsReader {
  sum(request: { environmentId: string; canaryVersion: string; from: Date; to: Date }): Promise<{ canary: SideMeasurement; baseline: SideMeasurement } | null>;
}

const PushedConfig = Type.Object({}, { additionalProperties: false });

/**
 * Metrics an agent pushes to POST /api/v1/environments/:id/metrics. Read back exactly like
 * Prometheus' answers, so the judge cannot tell the sources apart.
 */
export function pushedMetricProvider(): MetricProviderFactory<object, { pushedMetrics: PushedMetricsReader }> {
  return {
    type: 'pushed',
    validateConfig: configChecker(PushedConfig),
    create(_config, { pushedMetrics }): MetricProvider {
      return {
        type: 'pushed',
        async measure(request) {
          const sums = await pushedMetrics.sum({
            environmentId: request.environmentId,
            canaryVersion: request.canaryVersion,
            from: request.from,
            to: request.to,
          });
          return sums && { ...sums, source: { type: 'pushed', from: request.from.toISOString(), to: request.to.toISOString() } };
        },
        close: async () => {},
      };
    },
  };
}

import type { PrismaClient } from '@glidepath/db';
import { createMetricRegistry, prometheusMetricProvider, pushedMetricProvider, type Egress, type PushedMetricsReader } from '@glidepath/providers';
import { createPushedMetricsReader } from './pushed-metrics.reader.ts';

export function createWorkerMetricSources(prisma: PrismaClient, egress: Egress) {
  return createMetricRegistry<{ pushedMetrics: PushedMetricsReader; egress: Egress }>([prometheusMetricProvider(), pushedMetricProvider()], {
    pushedMetrics: createPushedMetricsReader(prisma),
    egress,
  });
}

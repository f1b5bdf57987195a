import type { PrismaClient } from '@glidepath/db';
import { createMetricRegistry, prometheusMetricProvider, pushedMetricProvider } from '@glidepath/providers';
import { createPushedMetricsReader } from './pushed-metrics.reader.ts';

export function createWorkerMetricSources(prisma: PrismaClient) {
  return createMetricRegistry([prometheusMetricProvider(), pushedMetricProvider()], { pushedMetrics: createPushedMetricsReader(prisma) });
}

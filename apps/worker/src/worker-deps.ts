import type { AuditedTransaction, EventBus, JobQueue, PrismaClient } from '@glidepath/db';
import type { MetricRegistry, RouterRegistry } from '@glidepath/providers';
import type { WorkerMetrics } from './metrics.ts';

/** Everything a job handler may use, wired once in worker.ts. */
export interface WorkerDeps {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  bus: EventBus;
  jobs: JobQueue;
  routers: RouterRegistry;
  metricSources: MetricRegistry;
  metrics: WorkerMetrics;
}

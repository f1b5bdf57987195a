import type { AuditedTransaction, EventBus, JobQueue, PrismaClient, SecretBox } from '@glidepath/db';
import type { WorkerConfig } from './config.ts';
import type { DeployerRegistry, Egress, MetricRegistry, RouterRegistry } from '@glidepath/providers';
import type { WorkerMetrics } from './metrics.ts';

/** Everything a job handler may use, wired once in worker.ts. */
export interface WorkerDeps {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  bus: EventBus;
  jobs: JobQueue;
  routers: RouterRegistry;
  /** Deployers of environments whose slots alternate (none, webhook, command). */
  deployers: DeployerRegistry;
  metricSources: MetricRegistry;
  metrics: WorkerMetrics;
  /** Opens sealed webhook secrets. */
  secrets: SecretBox;
  webhookConfig: WorkerConfig['webhooks'];
  /** Every outbound call (gates, webhook deliveries, routers, metrics) goes through it. */
  egress: Egress;
  /** Signs webhook gate requests; unsigned only outside production, when unset. */
  gateSigningSecret: string | undefined;
  /** The mirroring proxies' control token (shadow steps). */
  mirrorToken: string | undefined;
}

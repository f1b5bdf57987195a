import type { AddressInfo } from 'node:net';
import { QUEUE_NAME } from '@glidepath/core';
import {
  createAuditedTransaction,
  createJobQueue,
  createSecretBox,
  createPrismaClient,
  createRedisEventBus,
  migrate,
  MIGRATIONS_DIR,
  type JobQueue,
  type PrismaClient,
} from '@glidepath/db';
import { createEgress } from '@glidepath/providers';
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerConfig } from './config.ts';
import { startDrillScheduler } from './drills/drill-scheduler.ts';
import { createDispatcher } from './jobs/job-catalogue.ts';
import { reconcileReleaseJob, runDeployJob, runGateJob } from './jobs/release.jobs.ts';
import { VERIFY_AUDIT_CHAIN, verifyAuditChainJob } from './jobs/verify-audit-chain.job.ts';
import { createWorkerMetrics, serveMetrics } from './metrics.ts';
import { createWorkerMetricSources } from './providers/metrics.ts';
import { createWorkerDeployers } from './providers/deployers.ts';
import { createWorkerRouters } from './providers/routers.ts';
import { startReleaseSweeper } from './releases/release-sweeper.ts';
import { startSlotCleanup } from './releases/slot-cleanup.ts';
import type { WorkerDeps } from './worker-deps.ts';
import { deliverWebhooksJob } from './webhooks/deliver-webhooks.job.ts';
import { startWebhookOutbox } from './webhooks/webhook-outbox.ts';

export interface RunningWorker {
  prisma: PrismaClient;
  jobs: JobQueue;
  metricsUrl: string;
  close(): Promise<void>;
}

/** Migrates, then consumes the glidepath queue until closed. */
export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  await migrate({ databaseUrl: config.databaseUrl, migrationsDir: MIGRATIONS_DIR, createDatabase: config.createDatabase, log: (m) => log.info(m) });
  // A job may hold one connection in its release transaction while a provider (the recording
  // router, pushed metrics) needs a second: two per job, or the pool deadlocks under load.
  // A job that waits 5 s for a row or the audit chain fails and is retried rather than hanging.
  const prisma = createPrismaClient(config.databaseUrl, config.concurrency * 2 + 5, { lockTimeoutMs: 5000 });
  const bus = createRedisEventBus(config.redisUrl, (error) => log.warn({ err: error }, 'event bus error'), config.queuePrefix);
  const jobs = createJobQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  // GLIDEPATH_EGRESS_*; the database and Redis named here are refused to everything admins register.
  const egress = createEgress(config.egress, { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl });
  const deps: WorkerDeps = {
    prisma,
    bus,
    audited: createAuditedTransaction(prisma, bus, (error) => log.warn({ err: error }, 'could not publish an audit event')),
    jobs,
    routers: createWorkerRouters(prisma, { production: config.production, egress }),
    deployers: createWorkerDeployers({ egress, commandDirs: config.deployCommandDirs, stateDir: config.deployStateDir }),
    metricSources: createWorkerMetricSources(prisma, egress),
    egress,
    metrics: createWorkerMetrics({ prisma, queue: jobs.queue }),
    secrets: createSecretBox(config.secretsKey.key),
    webhookConfig: config.webhooks,
    gateSigningSecret: config.gateSigningSecret,
    mirrorToken: config.mirrorToken,
  };
  if (config.secretsKey.development) log.warn('no GLIDEPATH_SECRETS_KEY: webhook secrets are opened with the built-in development key');
  if (!config.gateSigningSecret) log.warn('no GLIDEPATH_GATE_SIGNING_SECRET: webhook gate requests go out unsigned');
  const dispatch = createDispatcher([verifyAuditChainJob, reconcileReleaseJob, runGateJob, runDeployJob, deliverWebhooksJob], deps, log);
  const worker = new Worker(QUEUE_NAME, dispatch, {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.jobLockMs,
  });
  // How long due jobs wait for a free worker: the first sign of a worker that cannot keep up.
  worker.on('active', (job) => {
    if (job.processedOn) deps.metrics.jobWait.observe({ job: job.name }, Math.max(0, job.processedOn - job.timestamp - (job.delay ?? 0)) / 1000);
  });
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: error }, 'job failed'));
  worker.on('error', (error) => log.warn({ err: error }, 'worker connection error'));

  // Schedulers live in Redis, which keeps nothing on disk: the sweeper puts this one back too.
  const scheduleVerification = async () => {
    await deps.jobs.queue.upsertJobScheduler(VERIFY_AUDIT_CHAIN, { every: config.auditVerifyEveryMs }, { name: VERIFY_AUDIT_CHAIN, data: {} });
  };
  await scheduleVerification();
  const sweeper = startReleaseSweeper({ prisma, jobs: deps.jobs, log, onSweep: scheduleVerification }, config.sweepEveryMs);
  const outbox = startWebhookOutbox({ prisma, jobs: deps.jobs, log }, config.webhooks.pollMs);
  const drills = startDrillScheduler({ prisma, audited: deps.audited, jobs: deps.jobs, log }, config.sweepEveryMs);
  const slotCleanup = startSlotCleanup({ prisma, audited: deps.audited, deployers: deps.deployers, log }, config.sweepEveryMs);
  const ready = async () => ({
    postgres: await prisma.$queryRaw`SELECT 1`.then(
      () => true,
      () => false,
    ),
    redis: await jobs.queue.getJobCounts('waiting').then(
      () => true,
      () => false,
    ),
  });
  const metricsServer = await serveMetrics(deps.metrics, config.metricsHost, config.metricsPort, config.metricsToken, ready);
  log.info({ concurrency: config.concurrency, metricsPort: (metricsServer.address() as AddressInfo).port }, 'worker started');

  return {
    prisma,
    jobs: deps.jobs,
    metricsUrl: `http://${config.metricsHost}:${(metricsServer.address() as AddressInfo).port}/metrics`,
    async close() {
      await sweeper.stop();
      await drills.stop();
      await outbox.stop();
      const cleanupStopped = slotCleanup.stop();
      // A deploy may take minutes: stop waiting on it (it goes on; a later call with its id picks it up).
      await deps.deployers.close();
      await cleanupStopped;
      // Lets running jobs finish; a job cut off by a kill is picked up again as stalled.
      await worker.close();
      await deps.jobs.close();
      await deps.routers.close();
      await deps.metricSources.close();
      await bus.close();
      metricsServer.close();
      await prisma.$disconnect();
    },
  };
}

import { createPrismaClient, migrate, MIGRATIONS_DIR, type PrismaClient } from '@glidepath/db';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { createDispatcher, QUEUE_NAME } from './jobs/job-catalogue.ts';
import { VERIFY_AUDIT_CHAIN, verifyAuditChainJob } from './jobs/verify-audit-chain.job.ts';
import type { WorkerConfig } from './config.ts';
import { createWorkerMetrics, serveMetrics } from './metrics.ts';

export interface RunningWorker {
  prisma: PrismaClient;
  queue: Queue;
  metricsUrl: string;
  close(): Promise<void>;
}

/** Migrates, then consumes the glidepath queue until closed. */
export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  await migrate({ databaseUrl: config.databaseUrl, migrationsDir: MIGRATIONS_DIR, createDatabase: config.createDatabase, log: (m) => log.info(m) });
  const prisma = createPrismaClient(config.databaseUrl);
  const metrics = createWorkerMetrics();
  const connection = { url: config.redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue(QUEUE_NAME, { connection, prefix: config.queuePrefix });
  const dispatch = createDispatcher([verifyAuditChainJob], { prisma, metrics }, log);
  const worker = new Worker(QUEUE_NAME, dispatch, { connection, prefix: config.queuePrefix, concurrency: config.concurrency });
  worker.on('failed', (job, error) => log.error({ jobId: job?.id, job: job?.name, err: error }, 'job failed'));
  worker.on('error', (error) => log.warn({ err: error }, 'worker connection error'));

  // One scheduler, whatever the number of workers: BullMQ keys it by id.
  await queue.upsertJobScheduler(VERIFY_AUDIT_CHAIN, { every: config.auditVerifyEveryMs }, { name: VERIFY_AUDIT_CHAIN, data: {} });
  const metricsServer = await serveMetrics(metrics, config.metricsHost, config.metricsPort);
  log.info({ concurrency: config.concurrency, metricsPort: config.metricsPort }, 'worker started');

  return {
    prisma,
    queue,
    metricsUrl: `http://${config.metricsHost}:${(metricsServer.address() as AddressInfo).port}/metrics`,
    async close() {
      // Lets running jobs finish; a job cut off by a kill is picked up again as stalled.
      await worker.close();
      await queue.close();
      metricsServer.close();
      await prisma.$disconnect();
    },
  };
}

import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '@glidepath/db/testing';
import pino from 'pino';
import { loadConfig } from '../config.ts';
import { startWorker, type RunningWorker } from '../worker.ts';

/**
 * A real worker in this process, on a database and queue prefix of its own; `env` adds or
 * overrides settings. TEST_LOG_LEVEL shows its log. stop() empties the queue and drops the database.
 */
export async function startTestWorker(env: Record<string, string> = {}): Promise<{ worker: RunningWorker; stop: () => Promise<void> }> {
  const db = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL,
    GLIDEPATH_WORKER_METRICS_PORT: '0',
    GLIDEPATH_QUEUE_PREFIX: `gp-test-${randomBytes(4).toString('hex')}`,
    GLIDEPATH_AUDIT_VERIFY_EVERY_MS: '3600000',
    ...env,
  });
  const worker = await startWorker(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return {
    worker,
    async stop() {
      await worker.jobs.queue.obliterate({ force: true });
      await worker.close();
      await db.drop();
    },
  };
}

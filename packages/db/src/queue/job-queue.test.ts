import { randomBytes, randomUUID } from 'node:crypto';
import { QUEUE_NAME } from '@glidepath/core';
import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobQueue } from './job-queue.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `gp-test-queue-${randomBytes(4).toString('hex')}`;
const jobs = createJobQueue({ redisUrl, prefix });
// No processor: jobs are taken one at a time with getNextJob, in the order a worker would get them.
const worker = new Worker(QUEUE_NAME, null, { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix });

afterAll(async () => {
  await worker.close();
  await jobs.queue.obliterate({ force: true });
  await jobs.close();
});

describe('job queue', () => {
  it('hands out running releases’ reconciles before the starts of new ones queued earlier', async () => {
    const starts = [randomUUID(), randomUUID(), randomUUID()];
    const running = randomUUID();
    for (const id of starts) await jobs.startRelease(id, 'inbox-1');
    await jobs.reconcile(running, 'inbox-7');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const job = await worker.getNextJob('test-token');
      order.push((job!.data as { releaseId: string }).releaseId);
      await job!.moveToCompleted(null, 'test-token', false);
    }
    expect(order).toEqual([running, ...starts]);
  });
});

import { dueWebhookQueues, fillWebhookOutbox, type JobQueue, type PrismaClient } from '@glidepath/db';
import type { Logger } from 'pino';

/**
 * Turns audit events into webhook deliveries and hands due queues to the senders, every
 * `everyMs`. Both read PostgreSQL only, so after a Redis or worker restart nothing is lost:
 * the next round finds the same work. Several workers may run it; the outbox cursor is locked.
 */
export function startWebhookOutbox(deps: { prisma: PrismaClient; jobs: JobQueue; log: Logger }, everyMs: number) {
  let running = false;
  let stopped = false;
  const round = async () => {
    if (running || stopped) return;
    running = true;
    try {
      while ((await fillWebhookOutbox(deps.prisma)).read > 0 && !stopped);
      const trigger = `poll-${Math.floor(Date.now() / everyMs)}`;
      for (const due of await dueWebhookQueues(deps.prisma)) await deps.jobs.deliverWebhooks(due.subscriptionId, due.orderingKey, trigger);
    } catch (error) {
      deps.log.warn({ err: error }, 'webhook outbox round failed; the next round tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), everyMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

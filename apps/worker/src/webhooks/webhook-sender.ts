import { findSubscription, nextPendingDelivery, recordWebhookAttempt, type JobQueue, type PrismaClient, type SecretBox } from '@glidepath/db';
import { signStandardWebhook, type Egress } from '@glidepath/providers';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config.ts';
import type { WorkerMetrics } from '../metrics.ts';

export interface SenderDeps {
  prisma: PrismaClient;
  jobs: JobQueue;
  secrets: SecretBox;
  egress: Egress;
  metrics: WorkerMetrics;
  log: Logger;
  config: WorkerConfig['webhooks'];
}

/** At most this many deliveries per job, so one busy queue does not hold a worker slot for long. */
const BATCH = 50;

/**
 * Sends one queue's due deliveries (one subscription, one ordering key: a release) oldest
 * first, and stops at the first that fails: nothing behind it goes out before it does. A
 * transaction-scoped advisory lock makes this the only sender of the queue; attempts are
 * recorded as they happen, outside that transaction, so a crash loses none of them.
 */
export async function sendDueWebhooks(deps: SenderDeps, subscriptionId: string, orderingKey: string): Promise<{ sent: number }> {
  return deps.prisma.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<Array<{ locked: boolean }>>`
        SELECT pg_try_advisory_xact_lock(hashtextextended(${`webhook|${subscriptionId}|${orderingKey}`}, 0)) AS locked`;
      if (!lock?.locked) return { sent: 0 }; // another worker is sending this queue
      let sent = 0;
      while (sent < BATCH) {
        const subscription = await findSubscription(deps.prisma, subscriptionId);
        if (!subscription?.active) return { sent };
        const delivery = await nextPendingDelivery(deps.prisma, subscriptionId, orderingKey);
        if (!delivery) return { sent };
        const now = new Date();
        if (delivery.nextAttemptAt > now) {
          await deps.jobs.deliverWebhooks(
            subscriptionId,
            orderingKey,
            `retry-${delivery.id}-${delivery.attempts}`,
            delivery.nextAttemptAt.getTime() - now.getTime(),
          );
          return { sent };
        }
        const secrets = [subscription.secretCiphertext];
        if (subscription.previousCiphertext && subscription.previousExpiresAt && subscription.previousExpiresAt > now)
          secrets.push(subscription.previousCiphertext);
        const attempt = await post(
          deps.egress,
          subscription.url,
          delivery.id,
          JSON.stringify(delivery.payload),
          secrets.map((s) => deps.secrets.open(s)),
          deps.config.timeoutMs,
        );
        const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
        deps.metrics.webhookAttempts.inc({ outcome: ok ? 'delivered' : 'failed' });
        deps.metrics.webhookLatency.observe(attempt.latencyMs / 1000);
        if (ok) {
          await recordWebhookAttempt(deps.prisma, delivery, attempt, { delivered: true });
          sent++;
          continue;
        }
        const age = now.getTime() - delivery.createdAt.getTime();
        const delay = Math.min(deps.config.retryBaseMs * 2 ** delivery.attempts, 3_600_000) * (0.8 + Math.random() * 0.4);
        const retryAt = age + delay < deps.config.retryForMs ? new Date(now.getTime() + delay) : null;
        await recordWebhookAttempt(deps.prisma, delivery, attempt, { delivered: false, retryAt });
        deps.log.warn(
          { subscriptionId, deliveryId: delivery.id, statusCode: attempt.statusCode, error: attempt.error, retryAt },
          retryAt ? 'webhook delivery failed; will retry' : 'webhook delivery failed; gave up after the retry period',
        );
        if (!retryAt) {
          deps.metrics.webhookGaveUp.inc();
          continue; // the next one may go: this one stays in the log, and can be redelivered
        }
        await deps.jobs.deliverWebhooks(subscriptionId, orderingKey, `retry-${delivery.id}-${delivery.attempts + 1}`, delay);
        return { sent };
      }
      // More left: another job carries on.
      await deps.jobs.deliverWebhooks(subscriptionId, orderingKey, `more-${Date.now()}`);
      return { sent };
    },
    { timeout: 10 * 60_000, maxWait: 10_000 },
  );
}

/** One signed POST (Standard Webhooks); during a secret rotation the signature header carries both signatures. */
async function post(egress: Egress, url: string, id: string, body: string, secrets: string[], timeoutMs: number) {
  const at = new Date();
  const timestamp = Math.floor(at.getTime() / 1000);
  const started = performance.now();
  try {
    // A refusal by the network policy is a failed attempt whose error says why.
    const response = await egress.fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'glidepath-webhooks',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': secrets.map((secret) => signStandardWebhook(secret, id, timestamp, body)).join(' '),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    return { at, statusCode: response.status, latencyMs: Math.round(performance.now() - started), error: response.ok ? null : `answered ${response.status}` };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { at, statusCode: null, latencyMs: Math.round(performance.now() - started), error: reason };
  }
}

import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient, WebhookDelivery, WebhookSubscription } from '../generated/prisma/client.ts';
import { auditEventJson } from '../audit/audit-log.ts';

/** The owner of webhook_subscription, webhook_delivery, webhook_attempt and webhook_cursor. */

export interface SubscriptionInput {
  url: string;
  events: string[];
  serviceId: string | null;
  environmentId: string | null;
  description: string | null;
}

/** The public form: never a secret, sealed or not. */
export function subscriptionJson(s: WebhookSubscription) {
  return {
    id: s.id,
    url: s.url,
    events: s.events,
    serviceId: s.serviceId,
    environmentId: s.environmentId,
    description: s.description,
    active: s.active,
    previousSecretExpiresAt: s.previousExpiresAt && s.previousExpiresAt > new Date() ? s.previousExpiresAt.toISOString() : null,
    createdBy: s.createdBy,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export async function insertSubscription(tx: Prisma.TransactionClient, input: SubscriptionInput, sealedSecret: string, createdBy: string) {
  return tx.webhookSubscription.create({ data: { id: randomUUID(), ...input, secretCiphertext: sealedSecret, createdBy } });
}

export async function listSubscriptions(db: PrismaClient | Prisma.TransactionClient) {
  return db.webhookSubscription.findMany({ orderBy: { createdAt: 'asc' } });
}

export async function findSubscription(db: PrismaClient | Prisma.TransactionClient, id: string) {
  return db.webhookSubscription.findUnique({ where: { id } });
}

export async function updateSubscription(tx: Prisma.TransactionClient, id: string, changes: Partial<SubscriptionInput> & { active?: boolean }) {
  return tx.webhookSubscription.update({ where: { id }, data: { ...changes, updatedAt: new Date() } });
}

export async function deleteSubscription(tx: Prisma.TransactionClient, id: string) {
  return tx.webhookSubscription.delete({ where: { id } });
}

/** A new secret; the old one keeps signing beside it until `previousExpiresAt`, so receivers can switch without a gap. */
export async function rotateSubscriptionSecret(tx: Prisma.TransactionClient, current: WebhookSubscription, sealedSecret: string, previousExpiresAt: Date) {
  return tx.webhookSubscription.update({
    where: { id: current.id },
    data: { secretCiphertext: sealedSecret, previousCiphertext: current.secretCiphertext, previousExpiresAt, updatedAt: new Date() },
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "*", "release.*" or an exact event type. */
export function eventMatches(patterns: string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/**
 * Reads the audit log past the outbox's cursor and makes one delivery per matching
 * subscription and event, in one transaction with the cursor's move: an event is turned into
 * deliveries exactly once, however many workers run this at once (the cursor row is locked).
 */
export async function fillWebhookOutbox(prisma: PrismaClient, batch = 500): Promise<{ read: number; created: number }> {
  return prisma.$transaction(async (tx) => {
    const [cursor] = await tx.$queryRaw<Array<{ last_seq: bigint }>>`SELECT last_seq FROM webhook_cursor WHERE id = 1 FOR UPDATE`;
    const lastSeq = cursor?.last_seq ?? 0n;
    const events = await tx.auditEvent.findMany({ where: { seq: { gt: lastSeq } }, orderBy: { seq: 'asc' }, take: batch });
    if (!events.length) return { read: 0, created: 0 };
    const subscriptions = await tx.webhookSubscription.findMany({ where: { active: true } });
    let created = 0;
    if (subscriptions.length) {
      const environmentIds = [...new Set(events.map((e) => e.environmentId).filter((id): id is string => Boolean(id)))];
      const environments = await tx.environment.findMany({ where: { id: { in: environmentIds } }, include: { service: true } });
      const environmentById = new Map(environments.map((e) => [e.id, e]));
      // Subject ids are free text in the log: only UUIDs can name a release row.
      const releaseIds = [...new Set(events.filter((e) => e.subjectType === 'release' && UUID.test(e.subjectId)).map((e) => e.subjectId))];
      const releases = await tx.release.findMany({ where: { id: { in: releaseIds } }, include: { artifact: true } });
      const releaseById = new Map(releases.map((r) => [r.id, r]));
      const rows: Prisma.WebhookDeliveryCreateManyInput[] = [];
      for (const event of events) {
        const environment = event.environmentId ? environmentById.get(event.environmentId) : undefined;
        const release = event.subjectType === 'release' ? releaseById.get(event.subjectId) : undefined;
        for (const s of subscriptions) {
          if (!eventMatches(s.events, event.action)) continue;
          if (s.environmentId && s.environmentId !== event.environmentId) continue;
          if (s.serviceId && s.serviceId !== (environment?.serviceId ?? (event.subjectType === 'service' ? event.subjectId : null))) continue;
          rows.push({
            id: randomUUID(),
            subscriptionId: s.id,
            auditSeq: event.seq,
            eventType: event.action,
            orderingKey: release ? `release:${release.id}` : 'global',
            payload: {
              type: event.action,
              timestamp: event.createdAt.toISOString(),
              data: {
                event: auditEventJson(event),
                ...(environment ? { service: environment.service.name, environment: environment.name } : {}),
                ...(release ? { release: { id: release.id, phase: release.phase, version: release.artifact.version, digest: release.artifact.digest } } : {}),
              },
            } as Prisma.InputJsonValue,
            createdAt: new Date(),
            nextAttemptAt: new Date(),
          });
        }
      }
      if (rows.length) created = (await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true })).count;
    }
    await tx.webhookCursor.update({ where: { id: 1 }, data: { lastSeq: events[events.length - 1]!.seq } });
    return { read: events.length, created };
  });
}

/** The (subscription, ordering key) pairs with a delivery due now: the sender's work list. */
export async function dueWebhookQueues(prisma: PrismaClient, now = new Date(), limit = 200) {
  return prisma.$queryRaw<Array<{ subscriptionId: string; orderingKey: string }>>`
    SELECT DISTINCT subscription_id::text AS "subscriptionId", ordering_key AS "orderingKey"
      FROM webhook_delivery
     WHERE status = 'pending' AND next_attempt_at <= ${now}
     LIMIT ${limit}`;
}

/** The oldest delivery of a queue not yet answered: nothing behind it goes out before it. */
export async function nextPendingDelivery(db: PrismaClient | Prisma.TransactionClient, subscriptionId: string, orderingKey: string) {
  return db.webhookDelivery.findFirst({ where: { subscriptionId, orderingKey, status: 'pending' }, orderBy: { auditSeq: 'asc' } });
}

export interface AttemptResult {
  at: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  manual?: boolean;
}

/** Records an attempt and what follows: delivered, another try at `retryAt`, or given up. */
export async function recordWebhookAttempt(
  prisma: PrismaClient,
  delivery: WebhookDelivery,
  attempt: AttemptResult,
  next: { delivered: true } | { delivered: false; retryAt: Date | null },
) {
  await prisma.$transaction([
    prisma.webhookAttempt.create({ data: { deliveryId: delivery.id, ...attempt, manual: attempt.manual ?? false } }),
    prisma.webhookDelivery.update({
      where: { id: delivery.id },
      data: next.delivered
        ? { status: 'delivered', attempts: { increment: 1 }, deliveredAt: attempt.at }
        : next.retryAt
          ? { attempts: { increment: 1 }, nextAttemptAt: next.retryAt }
          : { status: 'failed', attempts: { increment: 1 } },
    }),
  ]);
}

/** Deliveries of a subscription, newest first, each with its attempts. */
export async function listWebhookDeliveries(prisma: PrismaClient, subscriptionId: string, limit: number, beforeSeq?: bigint) {
  return prisma.webhookDelivery.findMany({
    where: { subscriptionId, ...(beforeSeq !== undefined ? { auditSeq: { lt: beforeSeq } } : {}) },
    orderBy: { auditSeq: 'desc' },
    take: limit,
    include: { log: { orderBy: { id: 'asc' } } },
  });
}

export function deliveryJson(
  d: WebhookDelivery & { log: Array<{ at: Date; statusCode: number | null; latencyMs: number; error: string | null; manual: boolean }> },
) {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    auditSeq: d.auditSeq.toString(),
    eventType: d.eventType,
    status: d.status as 'pending' | 'delivered' | 'failed',
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    log: d.log.map((a) => ({ at: a.at.toISOString(), statusCode: a.statusCode, latencyMs: a.latencyMs, error: a.error, manual: a.manual })),
  };
}

/** Sends a delivery again now, whatever became of it (a receiver that lost it, or one that was down past the retry period). */
export async function requeueWebhookDelivery(tx: Prisma.TransactionClient, id: string) {
  return tx.webhookDelivery.update({ where: { id }, data: { status: 'pending', nextAttemptAt: new Date(), deliveredAt: null } });
}

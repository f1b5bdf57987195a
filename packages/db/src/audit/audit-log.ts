import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../generated/prisma/client.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../prisma-client.ts';
import { GENESIS_HASH, auditHash } from './audit-hash.ts';

/** Serialises appenders across processes so the chain never forks. */
const AUDIT_CHAIN_LOCK_KEY = 7_201_246_118_400_002n;

export type ActorType = 'user' | 'token' | 'system';
export interface Actor {
  type: ActorType;
  id: string;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  subject: { type: string; id: string };
  environmentId?: string | null;
  before?: unknown;
  after?: unknown;
  payload?: unknown;
  reason?: string | null;
  requestId?: string | null;
}

export type { AuditEvent };

/**
 * Appends one event to the chain. Call it inside the transaction that makes the change it
 * records: the advisory lock is held until that transaction ends, so concurrent appenders
 * from any process queue up and each links to the event committed just before it.
 */
export async function appendAuditEvent(tx: Prisma.TransactionClient, input: AuditInput): Promise<AuditEvent> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  const fields = {
    seq: (last?.seq ?? 0n) + 1n,
    id: randomUUID(),
    actorType: input.actor.type,
    actorId: input.actor.id,
    action: input.action,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    environmentId: input.environmentId ?? null,
    // Round-trip through JSON so the hashed value is exactly what jsonb will give back.
    before: toJson(input.before),
    after: toJson(input.after),
    payload: toJson(input.payload),
    reason: input.reason ?? null,
    requestId: input.requestId ?? null,
    createdAt: new Date(),
  };
  const prevHash = last?.hash ?? GENESIS_HASH;
  return tx.auditEvent.create({
    data: {
      ...fields,
      before: fields.before ?? Prisma.DbNull,
      after: fields.after ?? Prisma.DbNull,
      payload: fields.payload ?? Prisma.DbNull,
      prevHash,
      hash: auditHash(prevHash, fields),
    },
  });
}

function toJson(value: unknown): Prisma.InputJsonValue | null {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  lastSeq: string | null;
  firstBroken?: { seq: string; id: string; problem: string };
}

/** Walks the whole chain in order and reports the first event whose link or hash is wrong. */
export async function verifyAuditChain(db: Db, batchSize = 2000): Promise<ChainVerification> {
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1n;
  let checked = 0;
  for (;;) {
    const batch = await db.auditEvent.findMany({ where: { seq: { gte: expectedSeq } }, orderBy: { seq: 'asc' }, take: batchSize });
    for (const event of batch) {
      const problem =
        event.seq !== expectedSeq
          ? `expected event #${expectedSeq} next, found #${event.seq} (events missing)`
          : event.prevHash !== expectedPrev
            ? 'prev_hash does not match the hash of the event before it'
            : event.hash !== auditHash(event.prevHash, event)
              ? 'hash does not match the event content (the event was altered)'
              : null;
      if (problem) {
        return {
          ok: false,
          checked,
          lastSeq: checked ? (expectedSeq - 1n).toString() : null,
          firstBroken: { seq: event.seq.toString(), id: event.id, problem },
        };
      }
      expectedPrev = event.hash;
      expectedSeq += 1n;
      checked += 1;
    }
    if (batch.length < batchSize) break;
  }
  return { ok: true, checked, lastSeq: checked ? (expectedSeq - 1n).toString() : null };
}

export interface AuditFilter {
  actorId?: string;
  actorType?: ActorType;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  environmentId?: string;
  from?: Date;
  to?: Date;
  /** Return events older than this sequence number (newest first). */
  beforeSeq?: bigint;
}

export function auditWhere(filter: AuditFilter): Prisma.AuditEventWhereInput {
  return {
    actorId: filter.actorId,
    actorType: filter.actorType,
    action: filter.action,
    subjectType: filter.subjectType,
    subjectId: filter.subjectId,
    environmentId: filter.environmentId,
    createdAt: filter.from || filter.to ? { gte: filter.from, lt: filter.to } : undefined,
    seq: filter.beforeSeq !== undefined ? { lt: filter.beforeSeq } : undefined,
  };
}

export async function listAuditEvents(db: Db, filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
  return db.auditEvent.findMany({ where: auditWhere(filter), orderBy: { seq: 'desc' }, take: limit });
}

/** The public JSON form of an event (API, stream, NDJSON export). */
export function auditEventJson(event: AuditEvent) {
  return {
    seq: event.seq.toString(),
    id: event.id,
    actor: { type: event.actorType, id: event.actorId },
    action: event.action,
    subject: { type: event.subjectType, id: event.subjectId },
    environmentId: event.environmentId,
    before: event.before,
    after: event.after,
    payload: event.payload,
    reason: event.reason,
    requestId: event.requestId,
    createdAt: event.createdAt.toISOString(),
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
export type AuditEventJson = ReturnType<typeof auditEventJson>;

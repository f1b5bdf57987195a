import { randomUUID } from 'node:crypto';
import { redactUrlCredentials } from '@glidepath/core';
import type { AuditEvent } from '../generated/prisma/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Db } from '../prisma-client.ts';
import { GENESIS_HASH, auditHash } from './audit-hash.ts';

export type ActorType = 'user' | 'token' | 'system';
export interface Actor {
  type: ActorType;
  /** user id, token name, or the system part */
  id: string;
  /** a person's email (or name), recorded beside their id */
  name?: string | null;
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
 * records: the lock on the chain head is held until that transaction ends, so concurrent
 * appenders from any process queue up and each links to the event committed just before it.
 * Raw statements because every audited change pays for them while holding that lock.
 */
export async function appendAuditEvent(tx: Prisma.TransactionClient, input: AuditInput): Promise<AuditEvent> {
  // Serialised before taking the lock, which every audited change in every process waits on.
  // Credentials inside URLs (a Prometheus or webhook URL) never reach the audit log.
  const json = {
    before: jsonText(redactUrlCredentials(input.before)),
    after: jsonText(redactUrlCredentials(input.after)),
    payload: jsonText(redactUrlCredentials(input.payload)),
  };
  // FOR UPDATE waits for the previous appender's commit, then returns the row as that commit left it.
  const [head] = await tx.$queryRaw<Array<{ seq: bigint; hash: string }>>`SELECT seq, hash FROM audit_chain_head FOR UPDATE`;
  if (!head) throw new Error('audit_chain_head has no row: the audit_chain_head migration did not run');
  const fields = {
    seq: head.seq + 1n,
    id: randomUUID(),
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorName: input.actor.name ?? null,
    action: input.action,
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    environmentId: input.environmentId ?? null,
    // Parsed back from the stored text so the hashed value is exactly what jsonb will give back.
    before: parseJson(json.before),
    after: parseJson(json.after),
    payload: parseJson(json.payload),
    reason: input.reason ? redactUrlCredentials(input.reason) : null,
    requestId: input.requestId ?? null,
    createdAt: new Date(),
  };
  const event: AuditEvent = { ...fields, prevHash: head.hash, hash: auditHash(head.hash, fields) };
  await tx.$executeRaw`
    INSERT INTO audit_event (seq, id, actor_type, actor_id, actor_name, action, subject_type, subject_id, environment_id,
                             before, after, payload, reason, request_id, created_at, prev_hash, hash)
    VALUES (${event.seq}, ${event.id}::uuid, ${event.actorType}::"ActorType", ${event.actorId}, ${event.actorName}, ${event.action},
            ${event.subjectType}, ${event.subjectId}, ${event.environmentId}, ${json.before}::jsonb,
            ${json.after}::jsonb, ${json.payload}::jsonb, ${event.reason}, ${event.requestId},
            ${event.createdAt}, ${event.prevHash}, ${event.hash})`;
  return event;
}

function jsonText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function parseJson(text: string | null): Prisma.JsonValue | null {
  return text === null ? null : (JSON.parse(text) as Prisma.JsonValue);
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
  /** Who acted, by id or by recorded name (an email, a token's name), the latter in any case. */
  actor?: string;
  actorType?: ActorType;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  environmentId?: string;
  /** Events of one service: the service itself and everything in its environments. */
  service?: { id: string; environmentIds: string[] };
  /** Events one API request caused (a control's result links to them). */
  requestId?: string;
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
    requestId: filter.requestId,
    AND: [
      filter.actor ? { OR: [{ actorId: filter.actor }, { actorName: { equals: filter.actor, mode: 'insensitive' as const } }] } : {},
      filter.service ? { OR: [{ subjectType: 'service', subjectId: filter.service.id }, { environmentId: { in: filter.service.environmentIds } }] } : {},
    ],
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
    actor: { type: event.actorType, id: event.actorId, ...(event.actorName ? { name: event.actorName } : {}) },
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

import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields an audit hash covers: everything except the hashes themselves. */
export interface HashedAuditFields {
  seq: bigint;
  id: string;
  actorType: string;
  actorId: string;
  actorName?: string | null;
  action: string;
  subjectType: string;
  subjectId: string;
  environmentId: string | null;
  before: unknown;
  after: unknown;
  payload: unknown;
  reason: string | null;
  requestId: string | null;
  createdAt: Date;
}

/** hash = sha256(prev_hash || canonical JSON (RFC 8785) of the event). */
export function auditHash(prevHash: string, event: HashedAuditFields): string {
  // Fields are picked one by one: a stored row also carries its hashes, which must not count.
  const canonical = canonicalize({
    seq: event.seq.toString(),
    id: event.id,
    actorType: event.actorType,
    actorId: event.actorId,
    // Only when present: events from before people signed in carry none and must still verify.
    ...(event.actorName ? { actorName: event.actorName } : {}),
    action: event.action,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    environmentId: event.environmentId,
    before: event.before ?? null,
    after: event.after ?? null,
    payload: event.payload ?? null,
    reason: event.reason,
    requestId: event.requestId,
    createdAt: event.createdAt.toISOString(),
  });
  return createHash('sha256')
    .update(prevHash)
    .update(canonical ?? '')
    .digest('hex');
}

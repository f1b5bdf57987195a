import type { ActorType } from './audit-log.ts';
import { isoUtc, jsonArray, Params, statement, type Queryable } from '../sql/reply-sql.ts';

/** The filters of GET /audit; `serviceName` is looked up in the same statement. */
export interface AuditPageFilter {
  actorId?: string;
  /** Who acted, by id or by recorded name (an email, a token's name), the latter in any case. */
  actor?: string;
  actorType?: ActorType;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  environmentId?: string;
  /** The service itself and everything in its environments. */
  serviceName?: string;
  requestId?: string;
  from?: Date;
  to?: Date;
  /** Events older than this sequence number (newest first). */
  beforeSeq?: bigint;
}

/**
 * One audit event as the API's AuditEvent schema writes it (auditEventJson, same keys, same
 * order), built by PostgreSQL so that the API only passes the text on.
 */
export const AUDIT_EVENT_JSON = `json_build_object(
  'seq', ev.seq::text,
  'id', ev.id,
  'actor', CASE WHEN coalesce(ev.actor_name, '') <> ''
    THEN json_build_object('type', ev.actor_type, 'id', ev.actor_id, 'name', ev.actor_name)
    ELSE json_build_object('type', ev.actor_type, 'id', ev.actor_id) END,
  'action', ev.action,
  'subject', json_build_object('type', ev.subject_type, 'id', ev.subject_id),
  'environmentId', ev.environment_id,
  'before', ev.before,
  'after', ev.after,
  'payload', ev.payload,
  'reason', ev.reason,
  'requestId', ev.request_id,
  'createdAt', ${isoUtc('ev.created_at')},
  'prevHash', ev.prev_hash,
  'hash', ev.hash)`;

/**
 * A page of the audit log, newest first, as the JSON text of `{ items, nextCursor }`: one
 * statement (the service, when one is named, is found in it too). Null when the named service
 * does not exist.
 */
export async function readAuditPage(db: Queryable, filter: AuditPageFilter, limit: number): Promise<string | null> {
  const p = new Params();
  const where: string[] = [];
  const equal = (column: string, value: unknown, cast = '') => value !== undefined && where.push(`${column} = ${p.add(value, cast)}`);
  equal('ev.actor_id', filter.actorId);
  equal('ev.actor_type', filter.actorType, '::"ActorType"');
  equal('ev.action', filter.action);
  equal('ev.subject_type', filter.subjectType);
  equal('ev.subject_id', filter.subjectId);
  equal('ev.environment_id', filter.environmentId);
  equal('ev.request_id', filter.requestId);
  if (filter.actor !== undefined) {
    const actor = p.add(filter.actor);
    where.push(`(ev.actor_id = ${actor} OR lower(ev.actor_name) = lower(${actor}))`);
  }
  if (filter.from) where.push(`ev.created_at >= ${p.add(filter.from)}`);
  if (filter.to) where.push(`ev.created_at < ${p.add(filter.to)}`);
  if (filter.beforeSeq !== undefined) where.push(`ev.seq < ${p.add(filter.beforeSeq.toString(), '::bigint')}`);
  let service = '';
  if (filter.serviceName !== undefined) {
    service = `WITH svc AS (SELECT id FROM service WHERE name = ${p.add(filter.serviceName)}) `;
    where.push(`((ev.subject_type = 'service' AND ev.subject_id = (SELECT id::text FROM svc))
      OR ev.environment_id IN (SELECT en.id::text FROM environment en JOIN svc ON en.service_id = svc.id))`);
  }
  const page = `SELECT ev.seq::text AS seq, ${AUDIT_EVENT_JSON}::text AS json FROM audit_event ev
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ev.seq DESC LIMIT ${p.add(limit + 1)}`;
  const text =
    filter.serviceName === undefined
      ? page
      : `${service}SELECT f.found, page.seq, page.json FROM (SELECT EXISTS (SELECT 1 FROM svc) AS found) f
         LEFT JOIN LATERAL (${page}) page ON true ORDER BY page.seq::bigint DESC`;
  const { rows } = await db.query<{ seq: string | null; json: string | null; found?: boolean }>(statement(text, p.values));
  if (filter.serviceName !== undefined && !rows[0]?.found) return null;
  const events = rows.filter((r): r is { seq: string; json: string } => r.json !== null);
  const items = events.slice(0, limit);
  const nextCursor = events.length > limit ? JSON.stringify(items.at(-1)!.seq) : 'null';
  return `{"items":${jsonArray(items.map((e) => e.json))},"nextCursor":${nextCursor}}`;
}

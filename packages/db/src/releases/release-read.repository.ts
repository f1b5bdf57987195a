import { isoUtc, jsonArray, Params, statement, type Queryable } from '../sql/reply-sql.ts';

// The owner of the release reads the API serves: each builds its reply in one statement, in
// the API's Release schema (same keys, same order, same values as release-json.ts with the
// route's serialiser), so the API only passes the text on.

/**
 * The releases chosen by `page` (a statement over `release r`, at most a page of rows) joined
 * with what their JSON names: s service, e environment, a artifact, p plan, and rs.state, the
 * state decompressed once. A stored state is compressed (pglz): every `r.state -> …` would
 * decompress it again, twenty times a release; the LATERAL copy (OFFSET 0 keeps the planner
 * from inlining it back) is decompressed once and read in memory.
 */
function fromPage(page: string): string {
  return `(${page}) r
  JOIN service s ON s.id = r.service_id
  JOIN environment e ON e.id = r.environment_id
  JOIN artifact a ON a.id = r.artifact_id
  JOIN release_plan p ON p.id = r.plan_id
  CROSS JOIN LATERAL (SELECT r.state || '{}'::jsonb AS state OFFSET 0) rs`;
}

/**
 * An approval as the Step schema's serialiser writes it: the required keys first (actorId,
 * comment, at), then `display` and `binding` only when present (a null display is ""). Text,
 * because json_build_object cannot leave a key out.
 */
const APPROVAL_JSON = `('{"actorId":' || coalesce((ap.v -> 'actorId')::text, 'null')
  || ',"comment":' || coalesce((ap.v -> 'comment')::text, 'null')
  || ',"at":' || coalesce((ap.v -> 'at')::text, 'null')
  || CASE jsonb_typeof(ap.v -> 'display') WHEN 'string' THEN ',"display":' || (ap.v -> 'display')::text WHEN 'null' THEN ',"display":""' ELSE '' END
  || CASE jsonb_typeof(ap.v -> 'binding') WHEN 'object' THEN ',"binding":' || json_build_object(
       'digest', ap.v #> '{binding,digest}', 'environmentId', ap.v #> '{binding,environmentId}',
       'planVersion', ap.v #> '{binding,planVersion}', 'evidenceHash', ap.v #> '{binding,evidenceHash}')::text
     WHEN 'null' THEN ',"binding":{}' ELSE '' END
  || '}')::json`;

/** Each step of the plan with its state: `{ index, ...state.steps[index], spec }` in the Step schema's keys. */
const STEPS_JSON = `(SELECT coalesce(json_agg(json_build_object(
    'index', x.i - 1,
    'status', x.st -> 'status',
    'attempt', x.st -> 'attempt',
    'startedAt', x.st -> 'startedAt',
    'finishedAt', x.st -> 'finishedAt',
    'wakeAt', x.st -> 'wakeAt',
    'evidence', x.st -> 'evidence',
    'approvals', CASE WHEN jsonb_typeof(x.st -> 'approvals') = 'array' AND x.st -> 'approvals' <> '[]'::jsonb
      THEN (SELECT json_agg(${APPROVAL_JSON} ORDER BY ap.k) FROM jsonb_array_elements(x.st -> 'approvals') WITH ORDINALITY AS ap(v, k))
      ELSE '[]'::json END,
    'spec', x.spec) ORDER BY x.i), '[]'::json)
  FROM ROWS FROM (jsonb_array_elements(rs.state #> '{plan,steps}'), jsonb_array_elements(rs.state -> 'steps')) WITH ORDINALITY AS x(spec, st, i)
  WHERE x.spec IS NOT NULL)`;

/** A rolling release's progress (rollingJson in release-json.ts); null for other releases. */
const ROLLING_JSON = `CASE WHEN jsonb_typeof(rs.state -> 'rolling') = 'object' THEN json_build_object(
    'batch', (rs.state #>> '{rolling,batch}')::int + 1,
    'batches', rs.state #> '{rolling,batches}',
    'replaced', (SELECT count(*) FROM jsonb_array_elements(rs.state #> '{rolling,instances}') ri WHERE ri ->> 'digest' = rs.state #>> '{rolling,target,digest}'),
    'instances', (SELECT coalesce(json_agg(json_build_object(
        'name', ri -> 'name', 'batch', (ri ->> 'batch')::int + 1, 'digest', ri -> 'digest', 'previousDigest', ri #> '{previous,digest}',
        'inRotation', ri -> 'inRotation',
        'deploy', CASE WHEN jsonb_typeof(ri -> 'deploy') = 'object' THEN json_build_object(
          'direction', ri #> '{deploy,direction}', 'attempt', ri #> '{deploy,attempt}', 'status', ri #> '{deploy,status}', 'reason', ri #> '{deploy,reason}') END)
      ORDER BY k), '[]'::json) FROM jsonb_array_elements(rs.state #> '{rolling,instances}') WITH ORDINALITY AS x(ri, k)),
    'rollback', CASE WHEN jsonb_typeof(rs.state #> '{rolling,rollback}') = 'object' THEN json_build_object(
      'reason', rs.state #> '{rolling,rollback,reason}',
      'done', (rs.state #>> '{rolling,rollback,group}')::int >= jsonb_array_length(rs.state #> '{rolling,rollback,groups}'),
      'notRestored', (SELECT coalesce(json_agg(json_build_object('instance', n -> 'instance', 'reason', n -> 'reason') ORDER BY k), '[]'::json)
        FROM jsonb_array_elements(rs.state #> '{rolling,rollback,notRestored}') WITH ORDINALITY AS nr(n, k))) END) END`;

/** A metadata field that is a non-empty string, else null (modelOf in release-json.ts). */
const metadataText = (key: string, also = '') =>
  `CASE WHEN jsonb_typeof(a.metadata -> '${key}') = 'string' AND a.metadata ->> '${key}' <> ''${also} THEN a.metadata ->> '${key}' END`;
const MODEL_FIELDS = [
  metadataText('modelVersion'),
  metadataText('dataset'),
  // The model card is a link people follow: http(s) with a host only.
  metadataText('modelCard', ` AND a.metadata ->> 'modelCard' ~ '^https?://[^\\s/?#]+([/?#]\\S*)?$'`),
];
/** The artifact's model (version, data set, model card) from its metadata; null when it names none. */
const MODEL_JSON = `CASE WHEN jsonb_typeof(a.metadata) = 'object' AND coalesce(${MODEL_FIELDS.join(', ')}) IS NOT NULL
  THEN json_build_object('modelVersion', ${MODEL_FIELDS[0]}, 'dataset', ${MODEL_FIELDS[1]}, 'modelCard', ${MODEL_FIELDS[2]}) END`;

/** The fields of the Release schema, in its order (releaseJson). */
const RELEASE_FIELDS = `
  'id', r.id,
  'service', json_build_object('id', r.service_id, 'name', s.name),
  'environment', json_build_object('id', r.environment_id, 'name', e.name),
  'artifact', json_build_object('id', r.artifact_id, 'version', a.version, 'digest', a.digest, 'model', ${MODEL_JSON}),
  'plan', json_build_object('id', r.plan_id, 'name', p.name, 'version', p.version,
    'strategy', rs.state #> '{plan,strategy}', 'automaticRollback', rs.state #> '{plan,rollback,automatic}'),
  'phase', rs.state -> 'phase',
  'stepIndex', rs.state -> 'stepIndex',
  'canaryWeight', rs.state -> 'canaryWeight',
  'reason', rs.state -> 'reason',
  'opensAt', CASE WHEN rs.state ->> 'phase' = 'queued' THEN rs.state -> 'opensAt' END,
  'breakGlass', CASE WHEN jsonb_typeof(rs.state -> 'breakGlass') = 'object' THEN json_build_object(
    'by', rs.state #> '{breakGlass,by}', 'display', rs.state #> '{breakGlass,display}',
    'reason', rs.state #> '{breakGlass,reason}', 'at', rs.state #> '{breakGlass,at}') END,
  'slots', CASE WHEN jsonb_typeof(rs.state -> 'slots') = 'object' THEN json_build_object(
    'live', rs.state #> '{slots,live}', 'idle', rs.state #> '{slots,idle}', 'previousReleaseId', rs.state #> '{slots,previousReleaseId}',
    'keepPreviousUntil', rs.state #> '{slots,keepPreviousUntil}',
    'deployment', CASE WHEN jsonb_typeof(rs.state -> 'deployment') = 'object' THEN json_build_object(
      'status', rs.state #> '{deployment,status}', 'attempt', rs.state #> '{deployment,attempt}',
      'digest', rs.state #> '{deployment,digest}', 'reason', rs.state #> '{deployment,reason}') END,
    'switchedBack', CASE WHEN jsonb_typeof(rs.state -> 'switchedBack') = 'object' THEN json_build_object(
      'at', rs.state #> '{switchedBack,at}', 'by', rs.state #> '{switchedBack,by}', 'reason', rs.state #> '{switchedBack,reason}') END) END,
  'rolling', ${ROLLING_JSON},
  'undoes', r.undoes_release_id,
  'undoneBy', (SELECT u.id FROM release u WHERE u.undoes_release_id = r.id ORDER BY u.created_at DESC, u.id DESC LIMIT 1),
  'drill', rs.state #>> '{drill,id}',
  'requestedBy', r.requested_by,
  'version', r.version,
  'createdAt', ${isoUtc('r.created_at')},
  'updatedAt', ${isoUtc('r.updated_at')},
  'startedAt', ${isoUtc('r.started_at')},
  'finishedAt', ${isoUtc('r.finished_at')},
  'steps', ${STEPS_JSON}`;

export const RELEASE_JSON = `json_build_object(${RELEASE_FIELDS})`;

/** The Release fields, then every look of every analysis step and the transition history (ReleaseDetail). */
const RELEASE_DETAIL_JSON = `json_build_object(${RELEASE_FIELDS},
  'measurements', (SELECT coalesce(json_agg(json_build_object(
      'stepIndex', m.step_index, 'attempt', m.attempt, 'seq', m.seq, 'elapsedSeconds', m.elapsed_seconds,
      'outcome', m.outcome, 'verdict', m.verdict, 'measuredAt', ${isoUtc('m.measured_at')})
    ORDER BY m.step_index, m.attempt, m.seq), '[]'::json) FROM analysis_measurement m WHERE m.release_id = r.id),
  'history', (SELECT coalesce(json_agg(json_build_object(
      'version', t.version, 'event', t.event, 'fromPhase', t.from_phase, 'toPhase', t.to_phase,
      'fromStep', t.from_step, 'toStep', t.to_step, 'effects', t.effects, 'at', ${isoUtc('t.created_at')})
    ORDER BY t.version), '[]'::json) FROM release_transition t WHERE t.release_id = r.id))`;

export interface ReleasePageFilter {
  service?: string;
  environment?: string;
  phase?: string;
  /** The page after the release with this createdAt and id (newest first). */
  after?: { createdAt: Date; id: string };
  /** Only releases in these services or environments (a reader's grants); absent: all. */
  visible?: { serviceIds: readonly string[]; environmentIds: readonly string[] };
}

/** The cursor of the page after a release: its createdAt and id. */
export function releaseCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

/** Releases newest first, as the JSON text of `{ items, nextCursor }`: one statement. */
export async function readReleasePage(db: Queryable, filter: ReleasePageFilter, limit: number): Promise<string> {
  const p = new Params();
  const where: string[] = [];
  // Names through the unique keys of service and environment, so the page is chosen by the
  // (created_at DESC, id DESC) index walk of release alone.
  if (filter.service !== undefined) where.push(`r.service_id = (SELECT id FROM service WHERE name = ${p.add(filter.service)})`);
  if (filter.environment !== undefined) where.push(`r.environment_id IN (SELECT id FROM environment WHERE name = ${p.add(filter.environment)})`);
  if (filter.phase !== undefined) where.push(`r.phase = ${p.add(filter.phase)}`);
  if (filter.visible)
    where.push(
      `(r.service_id = ANY(${p.add(filter.visible.serviceIds, '::uuid[]')}) OR r.environment_id = ANY(${p.add(filter.visible.environmentIds, '::uuid[]')}))`,
    );
  if (filter.after) where.push(`(r.created_at, r.id) < (${p.add(filter.after.createdAt, '::timestamptz')}, ${p.add(filter.after.id, '::uuid')})`);
  const page = `SELECT * FROM release r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ${p.add(limit + 1)}`;
  const text = `SELECT ${isoUtc('r.created_at')} AS created_at, r.id, ${RELEASE_JSON}::text AS json FROM ${fromPage(page)}
    ORDER BY r.created_at DESC, r.id DESC`;
  const { rows } = await db.query<{ created_at: string; id: string; json: string }>(statement(text, p.values));
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? JSON.stringify(releaseCursor(last.created_at, last.id)) : 'null';
  return `{"items":${jsonArray(items.map((r) => r.json))},"nextCursor":${nextCursor}}`;
}

/** One release with its measurements and history (ReleaseDetail) as JSON text, or null. */
export async function readReleaseDetail(db: Queryable, id: string): Promise<string | null> {
  const page = 'SELECT * FROM release WHERE id = $1';
  const { rows } = await db.query<{ json: string }>(statement(`SELECT ${RELEASE_DETAIL_JSON}::text AS json FROM ${fromPage(page)}`, [id]));
  return rows[0]?.json ?? null;
}

/** One release (Release) as JSON text, or null. */
export async function readRelease(db: Queryable, id: string): Promise<string | null> {
  const page = 'SELECT * FROM release WHERE id = $1';
  const { rows } = await db.query<{ json: string }>(statement(`SELECT ${RELEASE_JSON}::text AS json FROM ${fromPage(page)}`, [id]));
  return rows[0]?.json ?? null;
}

/** What a control is judged against: the release, its environment's policy and the events queued before it. */
export interface ControlSnapshot {
  id: string;
  phase: string;
  serviceId: string;
  environmentId: string;
  state: unknown;
  policy: unknown;
  /** Inbox events not yet applied, oldest first. */
  queued: Array<{ id: string; event: unknown }>;
}

/**
 * The release and its queued inbox events in one statement, so one snapshot: a reconcile
 * committing in between cannot hide the event it just applied from both reads.
 */
export async function readControlSnapshot(db: Queryable, id: string): Promise<ControlSnapshot | null> {
  const { rows } = await db.query<ControlSnapshot>(
    statement(
      `SELECT r.id, r.phase, r.service_id AS "serviceId", r.environment_id AS "environmentId", r.state, e.policy,
         (SELECT coalesce(json_agg(json_build_object('id', i.id::text, 'event', i.event) ORDER BY i.id), '[]'::json)
            FROM release_inbox i WHERE i.release_id = r.id AND i.processed_at IS NULL) AS queued
       FROM release r JOIN environment e ON e.id = r.environment_id WHERE r.id = $1`,
      [id],
    ),
  );
  return rows[0] ?? null;
}

/** A release waiting for approval: what the inbox shows of it, and what deciding who may approve needs. */
export interface AwaitingApproval {
  serviceId: string;
  environmentId: string;
  /** The environment's stored policy (core's storedPolicy reads it). */
  policy: unknown;
  /** personKey of the requester: they never approve their own release. */
  requesterKey: string;
  /**
   * What core's countingApprovals reads of the state (subject, stepIndex, the steps before the
   * waiting one), only when the waiting step already has approvals; not the whole state.
   */
  state: unknown;
  /** The waiting step and its state. */
  step: { type: string; group?: string | null; count?: number; expiresAfterMs?: number | null } | null;
  stepState: { startedAt: string | null; wakeAt: string | null; approvals?: unknown[] } | null;
  stateStepIndex: number;
  statePhase: string;
  release: {
    id: string;
    service: string;
    environment: string;
    version: string;
    digest: string;
    plan: { name: string; version: number };
    reason: string | null;
  };
  /** The requester's email (or name) for a person, the token's name otherwise. */
  requestedBy: string;
  /** The steps before the waiting one, as the approver sees them. */
  evidence: Array<{ stepIndex: number; type: string; status: string; summary: string | null }>;
}

/** One line of a gate's evidence: its summary, or its outcome, or its verdict's outcome, when that is text. */
const EVIDENCE_SUMMARY = `(SELECT CASE WHEN jsonb_typeof(t.v) = 'string' THEN t.v #>> '{}' END FROM (SELECT coalesce(
    nullif(x.st #> '{evidence,summary}', 'null'::jsonb),
    nullif(x.st #> '{evidence,outcome}', 'null'::jsonb),
    nullif(x.st #> '{evidence,verdict,outcome}', 'null'::jsonb)) AS v) t)`;

/**
 * Every release waiting for approval (oldest first, at most 500) with what the approvals inbox
 * shows of it: one statement. Who may approve which is the caller's to decide.
 */
export async function readAwaitingApproval(db: Queryable): Promise<AwaitingApproval[]> {
  const page = `SELECT * FROM release WHERE phase = 'awaiting-approval' ORDER BY created_at, id LIMIT 500`;
  // One row, one JSON column (parsed once) rather than a row of ten columns per release.
  const { rows } = await db.query<{ waiting: AwaitingApproval[] }>(
    statement(
      `SELECT coalesce(json_agg(json_build_object(
         'serviceId', r.service_id, 'environmentId', r.environment_id, 'policy', e.policy,
         'requesterKey', coalesce(rs.state ->> 'requesterKey', rs.state ->> 'requestedBy'),
         'step', rs.state -> 'plan' -> 'steps' -> w.i,
         'stepState', rs.state -> 'steps' -> w.i,
         'state', CASE WHEN jsonb_typeof(rs.state -> 'steps' -> w.i -> 'approvals') = 'array'
               AND rs.state -> 'steps' -> w.i -> 'approvals' <> '[]'::jsonb
           THEN jsonb_build_object('subject', rs.state -> 'subject', 'stepIndex', w.i, 'steps',
             (SELECT coalesce(jsonb_agg(x.st ORDER BY x.i), '[]'::jsonb)
                FROM jsonb_array_elements(rs.state -> 'steps') WITH ORDINALITY AS x(st, i) WHERE x.i <= w.i)) END,
         'stateStepIndex', w.i, 'statePhase', rs.state ->> 'phase',
         'release', json_build_object('id', r.id, 'service', s.name, 'environment', e.name, 'version', a.version, 'digest', a.digest,
           'plan', json_build_object('name', p.name, 'version', p.version), 'reason', r.reason),
         'requestedBy', CASE WHEN u.id IS NULL THEN r.requested_by ELSE coalesce(u.email, u.name, r.requested_by) END,
         'evidence', (SELECT coalesce(json_agg(json_build_object('stepIndex', x.i - 1, 'type', x.spec -> 'type', 'status', x.st -> 'status',
                 'summary', ${EVIDENCE_SUMMARY}) ORDER BY x.i), '[]'::json)
            FROM ROWS FROM (jsonb_array_elements(rs.state #> '{plan,steps}'), jsonb_array_elements(rs.state -> 'steps')) WITH ORDINALITY AS x(spec, st, i)
           WHERE x.i <= w.i)) ORDER BY r.created_at, r.id), '[]'::json) AS waiting
       FROM ${fromPage(page)}
       CROSS JOIN LATERAL (SELECT (rs.state ->> 'stepIndex')::int AS i) w
       LEFT JOIN app_user u ON u.id = CASE WHEN r.requested_by ~* '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
         THEN substr(r.requested_by, 6)::uuid END`,
      [],
    ),
  );
  return rows[0]!.waiting;
}

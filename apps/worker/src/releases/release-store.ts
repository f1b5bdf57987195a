import { nextWakeAt, type ReleaseState } from '@glidepath/core';
import type { ActorType, Prisma } from '@glidepath/db';

export interface PendingInboxRow {
  id: bigint;
  event: unknown;
  actorType: ActorType;
  actorId: string;
  actorName: string | null;
  requestId: string | null;
}

export interface LoadedRelease {
  id: string;
  serviceId: string;
  environmentId: string;
  version: number;
  state: unknown;
  /** The environment's { type, config } traffic target. */
  target: unknown;
  /** The environment's policy: its deploy windows and freezes decide whether the release may move now. */
  policy: unknown;
  serviceName: string;
  artifact: { version: string; digest: string };
  /** What last succeeded in this environment: the stable version traffic falls back to. */
  stable: { version: string; digest: string } | null;
  /** Controls not yet processed, oldest first, at most `inboxBatch`. */
  inbox: PendingInboxRow[];
}

interface Row extends Omit<LoadedRelease, 'artifact' | 'inbox'> {
  artifactVersion: string;
  artifactDigest: string;
  inbox: Array<Omit<PendingInboxRow, 'id'> & { id: number | string }>;
}

/**
 * Locks a release row and reads everything one reconcile needs: the release, its environment's
 * target, service name, artifact, the stable artifact and the pending inbox. Two statements, not
 * one: the row lock comes first so that the read which follows takes its snapshot after the
 * lock is granted, and sees the inbox rows an earlier holder of the lock marked processed. The
 * reconcile runs several times per release at volume, so this replaces the eight statements the
 * same read takes through model queries (measured with bench/scale, as is saveRelease).
 */
export async function lockAndLoadRelease(tx: Prisma.TransactionClient, releaseId: string, inboxBatch: number): Promise<LoadedRelease | null> {
  const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM release WHERE id = ${releaseId}::uuid FOR UPDATE`;
  if (locked.length === 0) return null;
  const [row] = await tx.$queryRaw<Row[]>`
    SELECT r.id::text, r.service_id::text AS "serviceId", r.environment_id::text AS "environmentId", r.version, r.state,
           e.target, e.policy, s.name AS "serviceName", a.version AS "artifactVersion", a.digest AS "artifactDigest",
           (SELECT json_build_object('version', sa.version, 'digest', sa.digest)
              FROM release sr JOIN artifact sa ON sa.id = sr.artifact_id
             WHERE sr.environment_id = r.environment_id AND sr.phase = 'succeeded' AND sr.strategy <> 'shadow' AND sr.id <> r.id
             ORDER BY sr.finished_at DESC NULLS LAST LIMIT 1) AS stable,
           (SELECT coalesce(json_agg(i ORDER BY i.id), '[]'::json)
              FROM (SELECT id, event, actor_type AS "actorType", actor_id AS "actorId", actor_name AS "actorName", request_id AS "requestId"
                      FROM release_inbox
                     WHERE release_id = r.id AND processed_at IS NULL
                     ORDER BY id LIMIT ${inboxBatch}) i) AS inbox
      FROM release r
      JOIN environment e ON e.id = r.environment_id
      JOIN service s ON s.id = r.service_id
      JOIN artifact a ON a.id = r.artifact_id
     WHERE r.id = ${releaseId}::uuid`;
  if (!row) return null;
  const { artifactVersion, artifactDigest, inbox, ...release } = row;
  return {
    ...release,
    artifact: { version: artifactVersion, digest: artifactDigest },
    inbox: inbox.map((item) => ({ ...item, id: BigInt(item.id) })),
  };
}

export interface TransitionRow {
  version: number;
  event: unknown;
  fromPhase: string;
  toPhase: string;
  fromStep: number;
  toStep: number;
  effects: unknown;
}

/**
 * Stores the new state and the transitions that led to it in one statement, only if the release
 * is still at the version it was loaded with. The row lock makes that check redundant today; it
 * keeps two writers impossible if that ever changes.
 */
export async function saveRelease(
  tx: Prisma.TransactionClient,
  release: { id: string; version: number },
  state: ReleaseState,
  transitions: TransitionRow[],
  now: number,
): Promise<void> {
  const version = transitions.at(-1)!.version;
  const inserted = await tx.$executeRaw`
    WITH updated AS (
      UPDATE release
         SET state = ${JSON.stringify(state)}::jsonb, phase = ${state.phase}, step_index = ${state.stepIndex}, version = ${version},
             reason = ${state.reason}, wake_at = ${nextWakeAt(state)}::timestamptz, started_at = ${state.startedAt}::timestamptz,
             finished_at = ${state.finishedAt}::timestamptz, updated_at = ${new Date(now).toISOString()}::timestamptz
       WHERE id = ${release.id}::uuid AND version = ${release.version}
       RETURNING id)
    INSERT INTO release_transition (release_id, version, event, from_phase, to_phase, from_step, to_step, effects)
    SELECT updated.id, t.version, t.event, t."fromPhase", t."toPhase", t."fromStep", t."toStep", t.effects
      FROM updated, jsonb_to_recordset(${JSON.stringify(transitions)}::jsonb)
        AS t(version int, event jsonb, "fromPhase" text, "toPhase" text, "fromStep" int, "toStep" int, effects jsonb)`;
  if (inserted !== transitions.length) throw new Error(`release ${release.id} changed under the row lock (version ${release.version})`);
}

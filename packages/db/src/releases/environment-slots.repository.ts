import { ACTIVE_PHASES } from '@glidepath/core';
import type { Prisma } from '../generated/prisma/client.ts';

/** Which slot of an environment is live, and which release's version the other slot still holds. */
export interface SlotState {
  liveSlot: string;
  liveReleaseId: string | null;
  previousReleaseId: string | null;
  previousKeptUntil: Date | null;
}

type Tx = Pick<Prisma.TransactionClient, '$queryRaw' | '$executeRaw'>;

/** The environment's slot state; null before its first release with a deployer (the first slot is then live). */
export async function readSlotState(tx: Tx, environmentId: string): Promise<SlotState | null> {
  const [row] = await tx.$queryRaw<SlotState[]>`
    SELECT live_slot AS "liveSlot", live_release_id::text AS "liveReleaseId", previous_release_id::text AS "previousReleaseId",
           previous_kept_until AS "previousKeptUntil"
      FROM environment_slot_state WHERE environment_id = ${environmentId}::uuid`;
  return row ?? null;
}

/** A release on a slot, as people name it. */
export interface SlotHolder {
  releaseId: string;
  version: string;
}

/** What each slot of an environment holds, as recorded: the live release, and the previous one kept on the other slot. */
export interface SlotsNow {
  liveSlot: string;
  live: SlotHolder | null;
  previous: (SlotHolder & { keptUntil: string | null }) | null;
}

/** The slots of each of these environments that has a recorded state (none before its first release with a deployer). */
export async function readSlotsNow(tx: Tx, environmentIds: readonly string[]): Promise<Map<string, SlotsNow>> {
  if (environmentIds.length === 0) return new Map();
  const rows = await tx.$queryRaw<
    Array<{
      id: string;
      liveSlot: string;
      liveId: string | null;
      liveVersion: string | null;
      prevId: string | null;
      prevVersion: string | null;
      keptUntil: Date | null;
    }>
  >`
    SELECT s.environment_id::text AS id, s.live_slot AS "liveSlot",
           lr.id::text AS "liveId", la.version AS "liveVersion",
           pr.id::text AS "prevId", pa.version AS "prevVersion", s.previous_kept_until AS "keptUntil"
      FROM environment_slot_state s
      LEFT JOIN release lr ON lr.id = s.live_release_id
      LEFT JOIN artifact la ON la.id = lr.artifact_id
      LEFT JOIN release pr ON pr.id = s.previous_release_id
      LEFT JOIN artifact pa ON pa.id = pr.artifact_id
     WHERE s.environment_id = ANY(${[...environmentIds]}::uuid[])`;
  return new Map(
    rows.map((r) => [
      r.id,
      {
        liveSlot: r.liveSlot,
        live: r.liveId && r.liveVersion ? { releaseId: r.liveId, version: r.liveVersion } : null,
        previous: r.prevId && r.prevVersion ? { releaseId: r.prevId, version: r.prevVersion, keptUntil: r.keptUntil?.toISOString() ?? null } : null,
      },
    ]),
  );
}

/**
 * What a committed transition did to the slots, written in its transaction:
 * - `deploying`: a release deploys onto the idle slot, so the version kept there is gone;
 * - `live`: a release succeeded, its slot is live, the previous version is kept on the other until `keptUntil`;
 * - `switched-back`: a succeeded release was switched back, the other slot is live again and nothing good is kept.
 */
export type SlotChange =
  | { kind: 'deploying'; liveSlot: string }
  | { kind: 'live'; liveSlot: string; releaseId: string; previousReleaseId: string | null; keptUntil: string | null }
  | { kind: 'switched-back'; liveSlot: string; releaseId: string | null };

export async function recordSlotChange(tx: Tx, environmentId: string, change: SlotChange, now: Date): Promise<void> {
  const [live, liveRelease, previous, keptUntil] =
    change.kind === 'deploying'
      ? [change.liveSlot, undefined, null, null]
      : change.kind === 'live'
        ? [change.liveSlot, change.releaseId, change.previousReleaseId, change.keptUntil]
        : [change.liveSlot, change.releaseId, null, null];
  // `deploying` leaves the live release as it is (the column keeps its value on conflict).
  await tx.$executeRaw`
    INSERT INTO environment_slot_state (environment_id, live_slot, live_release_id, previous_release_id, previous_kept_until, updated_at)
    VALUES (${environmentId}::uuid, ${live}, ${liveRelease ?? null}::uuid, ${previous}::uuid, ${keptUntil}::timestamptz, ${now})
    ON CONFLICT (environment_id) DO UPDATE SET
      live_slot = EXCLUDED.live_slot,
      live_release_id = CASE WHEN ${change.kind === 'deploying'} THEN environment_slot_state.live_release_id ELSE EXCLUDED.live_release_id END,
      previous_release_id = EXCLUDED.previous_release_id,
      previous_kept_until = EXCLUDED.previous_kept_until,
      updated_at = EXCLUDED.updated_at`;
}

/**
 * Whether a succeeded release can still be switched back at once: it is the live one, the other slot
 * still holds the previous version, and no other release of the environment is under way (it
 * would deploy onto that slot).
 */
export async function previousOnIdle(tx: Tx, releaseId: string, environmentId: string): Promise<boolean> {
  const [row] = await tx.$queryRaw<Array<{ ok: boolean }>>`
    SELECT EXISTS (
      SELECT 1 FROM environment_slot_state s
       WHERE s.environment_id = ${environmentId}::uuid AND s.live_release_id = ${releaseId}::uuid AND s.previous_release_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM release r
                          WHERE r.environment_id = s.environment_id AND r.id <> ${releaseId}::uuid
                            AND r.phase = ANY(${[...ACTIVE_PHASES]}::text[]))) AS ok`;
  return row?.ok ?? false;
}

/** An environment whose idle slot still holds a previous version past the time it was kept for. */
export interface ExpiredPrevious {
  environmentId: string;
  previousReleaseId: string;
  liveSlot: string;
}

/**
 * Environments with a deployer whose previous version is kept past its time and where no release
 * is under way (a release deploys to that slot, a drill too): the slot may be emptied.
 */
export async function expiredPrevious(tx: Tx, now: Date): Promise<ExpiredPrevious[]> {
  return tx.$queryRaw<ExpiredPrevious[]>`
    SELECT s.environment_id::text AS "environmentId", s.previous_release_id::text AS "previousReleaseId", s.live_slot AS "liveSlot"
      FROM environment_slot_state s JOIN environment e ON e.id = s.environment_id
     WHERE s.previous_release_id IS NOT NULL AND s.previous_kept_until <= ${now} AND e.deployer IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM release r WHERE r.environment_id = s.environment_id AND r.phase = ANY(${[...ACTIVE_PHASES]}::text[]))`;
}

/**
 * In the caller's transaction: locks the slot state of an environment whose previous version may be
 * removed now, checking again (another worker on it, skipped; a release started since, none), so
 * that until the transaction ends no release records a deploy onto that slot.
 */
export async function claimExpiredPrevious(tx: Tx, environmentId: string, now: Date): Promise<ExpiredPrevious | null> {
  const [row] = await tx.$queryRaw<ExpiredPrevious[]>`
    SELECT s.environment_id::text AS "environmentId", s.previous_release_id::text AS "previousReleaseId", s.live_slot AS "liveSlot"
      FROM environment_slot_state s
     WHERE s.environment_id = ${environmentId}::uuid AND s.previous_release_id IS NOT NULL AND s.previous_kept_until <= ${now}
       AND NOT EXISTS (SELECT 1 FROM release r WHERE r.environment_id = s.environment_id AND r.phase = ANY(${[...ACTIVE_PHASES]}::text[]))
       FOR UPDATE OF s SKIP LOCKED`;
  return row ?? null;
}

/** The previous version is gone from the idle slot (removed, or given up on): nothing is kept there any more. */
export async function forgetPrevious(tx: Tx, environmentId: string, previousReleaseId: string, now: Date): Promise<void> {
  await tx.$executeRaw`
    UPDATE environment_slot_state SET previous_release_id = NULL, previous_kept_until = NULL, updated_at = ${now}
     WHERE environment_id = ${environmentId}::uuid AND previous_release_id = ${previousReleaseId}::uuid`;
}

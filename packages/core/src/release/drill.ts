import type { CompiledPlan } from '../plan/compiled-plan.ts';
import type { DeployGate } from '../policy/deploy-window.ts';
import { ACTIVE_PHASES, initialReleaseState, pendingDeployment, type Phase, type ReleaseState } from './release-state.ts';

/**
 * Rollback drills: rollback is tested, not hoped for (PRODUCT.md). A drill is a release of the
 * version already live, onto the idle slot, that shifts a small weight to it, holds it, and then
 * rolls back: the deploy, the router and the rollback are the ones a real release would use. Its
 * plan ends in a rollback, never a promote, so the live slot does not change (transition.ts).
 */

/** The share of traffic a drill sends to the idle slot: enough to be real traffic, little enough to be harmless. */
export const DRILL_WEIGHT = 5;
export const DEFAULT_DRILL_HOLD_MS = 10_000;
export const DEFAULT_DRILL_OBJECTIVE_MS = 30_000;
export const DRILL_LIMITS = { minEveryMs: 60_000, maxEveryMs: 90 * 24 * 3_600_000, maxObjectiveMs: 3_600_000, maxHoldMs: 600_000 } as const;

/** An environment's drill schedule, as stored: durations in ms, and when it was set (the first drill is due one interval later). */
export interface DrillSchedule {
  everyMs: number;
  objectiveMs: number;
  holdMs: number;
  since: string;
}

export type DrillStatus = 'waiting' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** The drill's plan: the weight, then a hold; at its end the state machine rolls back (endDrill). Windows closing mid-drill do not hold it at the weight. */
export function drillPlan(holdMs: number): CompiledPlan {
  return {
    strategy: 'canary',
    steps: [
      { type: 'setWeight', weight: DRILL_WEIGHT },
      { type: 'pause', durationMs: holdMs },
    ],
    rollback: { automatic: true },
    onWindowClose: 'continue',
  };
}

/** The state a drill's release starts from: the live version, deployed to the idle slot first, the live slot kept. */
export function drillReleaseState(input: {
  drillId: string;
  holdMs: number;
  requestedBy: string;
  environmentId: string;
  planVersion: number;
  liveRelease: { id: string; digest: string };
  slots: { live: string; idle: string };
  keepPreviousForMs: number;
}): ReleaseState {
  return {
    ...initialReleaseState(drillPlan(input.holdMs), input.requestedBy),
    requesterKey: input.requestedBy,
    subject: { digest: input.liveRelease.digest, environmentId: input.environmentId, planVersion: input.planVersion },
    slots: {
      ...input.slots,
      previousReleaseId: input.liveRelease.id,
      previousDigest: input.liveRelease.digest,
      keepPreviousForMs: input.keepPreviousForMs,
    },
    deployment: pendingDeployment(),
    drill: { id: input.drillId, rollbackDecidedAt: null },
  };
}

/**
 * The latest due time at or before `now` (since + k × every, k ≥ 1), or null before the first:
 * a worker that was down for several intervals runs one drill for the latest, not one per interval missed.
 */
export function drillDueAt(schedule: Pick<DrillSchedule, 'everyMs' | 'since'>, now: number): number | null {
  const since = Date.parse(schedule.since);
  if (!Number.isFinite(since) || !(schedule.everyMs > 0)) return null;
  const k = Math.floor((now - since) / schedule.everyMs);
  return k >= 1 ? since + k * schedule.everyMs : null;
}

/** What decides whether a drill may start now in an environment. */
export interface DrillSituation {
  environment: string;
  hasDeployer: boolean;
  slots: { live: string; idle: string } | null;
  /** The release whose version is live; a drill deploys that version again. */
  liveRelease: { id: string; version: string; digest: string } | null;
  activeRelease: { id: string; phase: Phase; drill: boolean } | null;
  gate: DeployGate;
  /** The version the idle slot keeps for an instant switch back, and until when. */
  kept: { releaseId: string | null; until: string | null };
  now: number;
}

/**
 * Why a drill may not start now, or null. A drill needs slots that alternate and a live version
 * to deploy; it never runs beside another release (it would deploy over that release's slot); it
 * respects deploy windows and freezes (it deploys and moves real traffic, which is what a freeze
 * stops); and it does not deploy over the previous version while that is kept for an instant switch back.
 */
export function drillBlocker(s: DrillSituation): string | null {
  if (!s.hasDeployer || !s.slots) return `environment ${s.environment} has no deployer and slots that alternate: a drill deploys to the idle slot`;
  if (!s.liveRelease) return `nothing has succeeded in ${s.environment} yet: a drill deploys the live version again, and there is none`;
  if (s.activeRelease && ACTIVE_PHASES.includes(s.activeRelease.phase))
    return s.activeRelease.drill
      ? `a drill is under way in ${s.environment} (release ${s.activeRelease.id})`
      : `release ${s.activeRelease.id} is ${s.activeRelease.phase} in ${s.environment}: a drill waits until no release is in flight`;
  if (!s.gate.open) return `${s.environment} is closed for changes (${s.gate.reason ?? 'outside its deploy windows'}): drills respect windows and freezes`;
  if (s.kept.releaseId && s.kept.until && Date.parse(s.kept.until) > s.now)
    return `slot ${s.slots.idle} keeps the previous version (release ${s.kept.releaseId}) for an instant switch back until ${s.kept.until}: a drill would deploy over it`;
  return null;
}

export interface DrillOutcome {
  status: 'succeeded' | 'failed';
  reason: string;
  timeToRollbackMs: number | null;
  slow: boolean;
}

/**
 * How a drill went, once its release ended: succeeded when the weight moved and was rolled back,
 * with the time from the rollback decision to the router confirming (`confirmedAt`); slow when that
 * is above the objective. Anything else (the deploy failed or never became healthy, an abort, a
 * router that still reports canary traffic after the rollback) fails, with the reason.
 */
export function drillOutcome(
  state: ReleaseState,
  confirm: { confirmedAt: number; routerVerified: boolean | 'unsupported' | null },
  objectiveMs: number,
): DrillOutcome {
  const decided = state.drill?.rollbackDecidedAt ? Date.parse(state.drill.rollbackDecidedAt) : null;
  if (state.phase !== 'rolled-back' || decided === null)
    return { status: 'failed', reason: state.reason ?? `the drill's release ended ${state.phase}`, timeToRollbackMs: null, slow: false };
  const timeToRollbackMs = Math.max(0, Math.round(confirm.confirmedAt - decided));
  if (confirm.routerVerified === false)
    return {
      status: 'failed',
      reason: `the router still reports traffic on slot ${state.slots?.idle} after the rollback`,
      timeToRollbackMs,
      slow: timeToRollbackMs > objectiveMs,
    };
  const slow = timeToRollbackMs > objectiveMs;
  return {
    status: 'succeeded',
    reason: slow ? `rolled back in ${timeToRollbackMs} ms, slower than the objective of ${objectiveMs} ms` : `rolled back in ${timeToRollbackMs} ms`,
    timeToRollbackMs,
    slow,
  };
}

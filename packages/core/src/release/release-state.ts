import type { CompiledPlan, GateType } from '../plan/compiled-plan.ts';
import { rollingWakeAt, type RollingState } from './rolling.ts';

export const PHASES = ['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'succeeded', 'failed', 'rolled-back', 'aborted'] as const;
export type Phase = (typeof PHASES)[number];
/** A release in one of these holds its environment: no other release may start there. `failed` counts: its traffic split still stands. */
export const ACTIVE_PHASES: readonly Phase[] = ['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'failed'];
export const TERMINAL_PHASES: readonly Phase[] = ['succeeded', 'rolled-back', 'aborted'];

export interface Approval {
  /** The approving person (personKey: `user:<id>`, or `token:<id>` for an unowned service account). */
  actorId: string;
  /** Their email or token name, for people reading the record. */
  display?: string;
  comment: string | null;
  at: string;
  /** What was approved; an approval counts only while the release still matches it. */
  binding?: ApprovalBinding;
}

/** The release as the approver saw it: the artifact, where it goes, the plan, and the evidence so far. */
export interface ApprovalBinding {
  digest: string;
  environmentId: string;
  planVersion: number;
  evidenceHash: string;
}

export interface StepState {
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  /** Incremented each time the step is entered (retries), so stale gate verdicts are recognised. */
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** When the reconciler must look again: end of a pause or hold, approval expiry, gate lease. */
  wakeAt: string | null;
  evidence: unknown;
  approvals: Approval[];
}

export interface ReleaseState {
  plan: CompiledPlan;
  phase: Phase;
  /** Index of the current step; equals plan.steps.length once all are done. */
  stepIndex: number;
  steps: StepState[];
  /** The canary weight last asked of the router (absolute, 0–100). */
  canaryWeight: number;
  requestedBy: string;
  /** personKey of whoever asked for the release: they never approve it, through any credential. */
  requesterKey?: string;
  /** What the release moves, fixed at creation; approvals are bound to it. */
  subject?: { digest: string; environmentId: string; planVersion: number };
  /** After a retry past an approval step: the step to go on from once fresh approvals are in. */
  resumeFrom?: number | null;
  /** Queued (outside a deploy window, or frozen): the step to enter when the environment opens, and when that is. */
  heldAt?: number | null;
  opensAt?: string | null;
  /** When a queued release looks again: when it opens, or daily when no window will (a policy change wakes it too). */
  queueWakeAt?: string | null;
  /** Run under break-glass: deploy windows and freezes do not hold it, approval steps are skipped. */
  breakGlass?: BreakGlass | null;
  /**
   * Slots that alternate (an environment with a deployer): the release deploys to `idle`, shifts
   * traffic to it, and on success `idle` becomes live; the previous version stays on `live`.
   */
  slots?: SlotPlan | null;
  /** The deploy onto the idle slot, which comes before any traffic moves (absent without a deployer). */
  deployment?: ReleaseDeployment | null;
  /**
   * Instances replaced in place, batch by batch (an environment with instances and a rolling plan):
   * which instance runs what, is in rotation, is being deployed, and the rollback under way (rolling.ts).
   */
  rolling?: RollingState | null;
  /** Set when a succeeded release was switched back to the previous version still on the other slot. */
  switchedBack?: { at: string; by: string; reason: string } | null;
  /**
   * Set when the release carries a rollback drill (core's drill.ts): at the end of its plan it is
   * rolled back instead of promoted, and it may not be promoted or retried, so the live slot never changes.
   */
  drill?: DrillMark | null;
  /** Why the release is paused or ended, in words for people. */
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface DrillMark {
  id: string;
  /** When the rollback was decided (the end of the hold, or someone's rollback after the weight moved). */
  rollbackDecidedAt?: string | null;
}

export interface SlotPlan {
  /** The slot serving traffic when the release was created; it keeps the previous version. */
  live: string;
  /** The slot the release deploys to; the live one once the release succeeds. */
  idle: string;
  /** The release (and digest) whose version is on `live`; null for an environment's first release. */
  previousReleaseId: string | null;
  previousDigest: string | null;
  /** How long after success the previous version is kept on the other slot for an instant switch back. */
  keepPreviousForMs: number;
  /** Set on success: until when that switch back is possible. */
  keepPreviousUntil?: string | null;
}

export interface ReleaseDeployment {
  status: 'pending' | 'running' | 'ready' | 'failed';
  /** Incremented per deploy (a retry after a failed one): the deployer's idempotency key is release:deploy:attempt. */
  attempt: number;
  /** The step to enter once the artifact is on the slot. */
  thenStep: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** When to ask again if no verdict came (the job was lost); the deployer answers for the same deployment. */
  wakeAt: string | null;
  /** When the deploy must be over, fixed when it started, so that a resumed call does not start its timeouts again. */
  deadline: string | null;
  digest: string | null;
  reason: string | null;
  evidence: unknown;
}

export interface BreakGlass {
  by: string;
  display: string;
  reason: string;
  at: string;
}

export interface ControlActor {
  actorId: string;
  reason?: string | null;
}

export type ReleaseEvent =
  | { type: 'start' }
  | { type: 'timer' }
  | { type: 'gate-verdict'; stepIndex: number; attempt: number; outcome: 'pass' | 'fail' | 'inconclusive'; evidence?: unknown; summary?: string }
  | { type: 'deploy-verdict'; attempt: number; outcome: 'ready' | 'failed'; digest?: string | null; reason?: string | null; evidence?: unknown }
  /** A deploy onto one instance of a rolling release ended (attempt: that instance's deploy attempt). */
  | {
      type: 'instance-verdict';
      instance: string;
      attempt: number;
      outcome: 'ready' | 'failed';
      digest?: string | null;
      reason?: string | null;
      evidence?: unknown;
    }
  | ({ type: 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' } & ControlActor)
  | ({ type: 'retry'; fromStep: number } & ControlActor)
  | ({ type: 'approve'; comment?: string | null; display?: string; binding?: ApprovalBinding } & ControlActor)
  | ({ type: 'reject'; comment: string; display?: string } & ControlActor)
  | ({ type: 'break-glass'; reason: string; display: string } & ControlActor);

export type ControlType = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' | 'retry' | 'approve' | 'reject' | 'break-glass';

/** Instructions to providers. Always absolute ("weight 25"), so applying one twice is harmless. */
export type Effect =
  | { type: 'set-weight'; weight: number }
  /** The canary takes all traffic and becomes the stable version. */
  | { type: 'promote' }
  /** All traffic back to the stable version. */
  | { type: 'rollback' }
  | { type: 'run-gate'; gate: GateType; stepIndex: number; attempt: number }
  /** Put the release's artifact on the idle slot (a job, like a gate, that reports a deploy-verdict). */
  | { type: 'deploy'; slot: string; digest: string; attempt: number; deadline: string }
  /** Put a digest on one instance of a rolling release (its attempt names the deployment; a job that reports an instance-verdict). */
  | { type: 'deploy-instance'; instance: string; digest: string; attempt: number; deadline: string }
  /** Every instance's router weight, absolute: 0 out of rotation, 100 in (a rolling release's drain and restore). */
  | { type: 'set-instance-weights'; weights: Record<string, number> };

/** Effects that run as jobs and report back through the inbox, as opposed to router calls applied in the transaction. */
export type JobEffect = Extract<Effect, { type: 'run-gate' | 'deploy' | 'deploy-instance' }>;
export type RouterEffect = Exclude<Effect, JobEffect>;
export const isJobEffect = (effect: Effect): effect is JobEffect => effect.type === 'run-gate' || effect.type === 'deploy' || effect.type === 'deploy-instance';

export function initialReleaseState(plan: CompiledPlan, requestedBy: string): ReleaseState {
  return {
    plan,
    phase: 'pending',
    stepIndex: 0,
    steps: plan.steps.map(() => ({ status: 'pending', attempt: 0, startedAt: null, finishedAt: null, wakeAt: null, evidence: null, approvals: [] })),
    canaryWeight: 0,
    requestedBy,
    reason: null,
    startedAt: null,
    finishedAt: null,
  };
}

/** The earliest time the reconciler must look at this release again, if any. */
export function nextWakeAt(state: ReleaseState): string | null {
  if (TERMINAL_PHASES.includes(state.phase)) return null;
  if (state.phase === 'queued') return state.queueWakeAt ?? state.opensAt ?? null;
  if (state.deployment?.status === 'running') return state.deployment.wakeAt;
  const step = state.steps[state.stepIndex]?.wakeAt ?? null;
  const rolling = state.rolling ? rollingWakeAt(state.rolling) : null;
  return rolling && (!step || rolling < step) ? rolling : step;
}

/** A deploy not started yet: the release's first step waits for it. */
export function pendingDeployment(): ReleaseDeployment {
  return {
    status: 'pending',
    attempt: 0,
    thenStep: 0,
    startedAt: null,
    finishedAt: null,
    wakeAt: null,
    deadline: null,
    digest: null,
    reason: null,
    evidence: null,
  };
}

/** The default time a succeeded release's previous version stays on the other slot for an instant switch back. */
export const DEFAULT_KEEP_PREVIOUS_FOR_MS = 3_600_000;

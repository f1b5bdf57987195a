import type { CompiledPlan, GateType } from '../plan/compiled-plan.ts';

export const PHASES = ['pending', 'awaiting-approval', 'progressing', 'paused', 'succeeded', 'failed', 'rolled-back', 'aborted'] as const;
export type Phase = (typeof PHASES)[number];
/** A release in one of these holds its environment: no other release may start there. `failed` counts: its traffic split still stands. */
export const ACTIVE_PHASES: readonly Phase[] = ['pending', 'awaiting-approval', 'progressing', 'paused', 'failed'];
export const TERMINAL_PHASES: readonly Phase[] = ['succeeded', 'rolled-back', 'aborted'];

export interface Approval {
  actorId: string;
  comment: string | null;
  at: string;
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
  /** Why the release is paused or ended, in words for people. */
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ControlActor {
  actorId: string;
  reason?: string | null;
}

export type ReleaseEvent =
  | { type: 'start' }
  | { type: 'timer' }
  | { type: 'gate-verdict'; stepIndex: number; attempt: number; outcome: 'pass' | 'fail' | 'inconclusive'; evidence?: unknown; summary?: string }
  | ({ type: 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' } & ControlActor)
  | ({ type: 'retry'; fromStep: number } & ControlActor)
  | ({ type: 'approve'; comment?: string | null } & ControlActor);

export type ControlType = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' | 'retry' | 'approve';

/** Instructions to providers. Always absolute ("weight 25"), so applying one twice is harmless. */
export type Effect =
  | { type: 'set-weight'; weight: number }
  /** The canary takes all traffic and becomes the stable version. */
  | { type: 'promote' }
  /** All traffic back to the stable version. */
  | { type: 'rollback' }
  | { type: 'run-gate'; gate: GateType; stepIndex: number; attempt: number };

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
  return state.steps[state.stepIndex]?.wakeAt ?? null;
}

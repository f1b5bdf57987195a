import { isGate, type Step } from '../plan/compiled-plan.ts';
import { gateLeaseMs, PLAN_LIMITS, planRunProblem, stepRunProblem } from '../plan/plan-limits.ts';
import type { DeployGate } from '../policy/deploy-window.ts';
import { approvalBinding, countingApprovals, sameBinding } from './approval-binding.ts';
import { instanceVerdict, rollingRefusal, rollingRetry, rollingTimer, startBatch, startRollback } from './rolling.ts';
import { isShadowRelease, SHADOW_REFUSALS } from './shadow-release.ts';
import {
  isJobEffect,
  TERMINAL_PHASES,
  type ControlType,
  type Effect,
  type Phase,
  type ReleaseEvent,
  type ReleaseState,
  type RouterEffect,
  type StepState,
} from './release-state.ts';

export type TransitionResult = { ok: true; changed: boolean; state: ReleaseState; effects: Effect[] } | { ok: false; reason: string };

/** What the world says at `now`: whether the environment is open for changes (deploy windows, freezes). */
export interface TransitionContext {
  gate?: DeployGate;
  /**
   * For a succeeded release with slots: whether the environment still has it live with the
   * previous version untouched on the other slot (no later release deployed there or started).
   * An instant switch back needs it to be true.
   */
  previousOnIdle?: boolean;
}

/** How often a deploy that has not reported is asked about again (its job lost with Redis, or its worker died). */
export const DEPLOY_LEASE_MS = 120_000;
/** The longest a deploy may take, whatever the deployer's own timeouts say. */
export const DEPLOY_DEADLINE_MS = 3_600_000;

/** Where each control is allowed. Anything else is refused with the reason (HTTP 409). */
export const CONTROL_PHASES: Record<ControlType, readonly Phase[]> = {
  pause: ['progressing'],
  resume: ['paused'],
  promote: ['progressing', 'paused'],
  abort: ['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'failed'],
  rollback: ['queued', 'awaiting-approval', 'progressing', 'paused', 'failed', 'succeeded'],
  retry: ['failed', 'rolled-back', 'aborted'],
  approve: ['awaiting-approval'],
  reject: ['awaiting-approval'],
  'break-glass': ['pending', 'queued', 'awaiting-approval'],
};

/** A queued release that no window will open looks again this often (a policy change also wakes it). */
const QUEUE_RECHECK_MS = 24 * 3_600_000;

/**
 * The release state machine: pure, no I/O, never mutates its input. Returns the next state
 * and the provider effects to apply, in order, or the reason the event is not allowed now.
 */
export function transition(state: ReleaseState, event: ReleaseEvent, now: number, context: TransitionContext = {}): TransitionResult {
  if (event.type in CONTROL_PHASES) {
    const control = event.type as ControlType;
    if (!CONTROL_PHASES[control].includes(state.phase)) return refuse(control, state);
  }
  const rolling = rollingRefusal(state, event);
  if (rolling) return { ok: false, reason: rolling };
  const m = new Machine(structuredClone(state), now, context.gate, context.previousOnIdle);
  const refused = m.apply(event);
  if (refused) return { ok: false, reason: refused };
  const changed = m.effects.length > 0 || JSON.stringify(m.state) !== JSON.stringify(state);
  return { ok: true, changed, state: m.state, effects: m.effects };
}

/**
 * Stops a release whose event made the state machine throw (stored data no check foresaw, or a
 * bug), so that the reconciler records why and frees the environment instead of retrying the
 * same throw forever: a release that never started ends aborted (it deployed nothing); one that
 * did fails its step, which rolls back unless the plan turned automatic rollback off.
 */
export function haltRelease(state: ReleaseState, reason: string, now: number): TransitionResult {
  if (TERMINAL_PHASES.includes(state.phase)) return { ok: true, changed: false, state, effects: [] };
  const m = new Machine(structuredClone(state), now);
  m.halt(reason);
  return { ok: true, changed: true, state: m.state, effects: m.effects };
}

/**
 * `transition`, except that an event which makes the machine throw stops the release instead
 * (haltRelease), with the error in its reason. The reconciler applies this; the API judges a
 * control against the same, so both agree on where a release stands.
 */
export function transitionOrHalt(
  state: ReleaseState,
  event: ReleaseEvent,
  now: number,
  context: TransitionContext = {},
): TransitionResult & { halted?: Error } {
  try {
    return transition(state, event, now, context);
  } catch (error) {
    const halted = error instanceof Error ? error : new Error(String(error));
    return { ...haltRelease(state, `the release cannot go on: its ${event.type} event failed (${halted.message})`, now), halted };
  }
}

function refuse(control: ControlType, state: ReleaseState): { ok: false; reason: string } {
  const allowed =
    control === 'rollback'
      ? `${CONTROL_PHASES.rollback.filter((p) => p !== 'succeeded').join(', ')}; succeeded while its previous version is kept on the other slot`
      : CONTROL_PHASES[control].join(', ');
  const why: Partial<Record<ControlType, string>> = {
    promote: state.phase === 'awaiting-approval' ? 'the release is waiting for approval, which promote cannot skip' : '',
    rollback: state.phase === 'pending' ? 'the release has not shifted any traffic yet; abort it instead' : '',
  };
  return { ok: false, reason: why[control] || `cannot ${control} a release that is ${state.phase} (allowed when ${allowed})` };
}

class Machine {
  effects: Effect[] = [];
  constructor(
    public state: ReleaseState,
    private readonly now: number,
    private readonly gate?: DeployGate,
    private readonly previousOnIdle?: boolean,
  ) {}

  /** Closed for this release: outside every deploy window or frozen, and not under break-glass. */
  get closed(): boolean {
    return this.gate !== undefined && !this.gate.open && !this.state.breakGlass;
  }

  /** Waits for the environment to open, then enters step `at`. Traffic stays as it is. */
  hold(at: number): void {
    const opensAt = this.gate?.opensAt ?? null;
    Object.assign(this.state, {
      phase: 'queued',
      heldAt: at,
      reason: this.gate?.reason ?? 'the environment is closed',
      opensAt: opensAt === null ? null : new Date(opensAt).toISOString(),
      queueWakeAt: new Date(Math.min(opensAt ?? Infinity, this.now + QUEUE_RECHECK_MS)).toISOString(),
    });
  }

  get iso(): string {
    return new Date(this.now).toISOString();
  }
  get step(): Step | undefined {
    return this.state.plan.steps[this.state.stepIndex];
  }
  get stepState(): StepState | undefined {
    return this.state.steps[this.state.stepIndex];
  }

  /** Returns a reason when the event is refused. */
  apply(event: ReleaseEvent): string | undefined {
    switch (event.type) {
      case 'start': {
        if (this.state.phase !== 'pending') return undefined; // already started: starting is idempotent
        // A plan stored before plans were bounded (or written by hand) may wait longer than a date
        // can hold: it ends here, before it moves any traffic, instead of throwing on every reconcile.
        const cannot = planRunProblem(this.state.plan);
        if (cannot) {
          this.end('aborted', `not started, its plan cannot run: ${cannot}; save a plan within the limits and start a new release`);
          return undefined;
        }
        if (this.closed) {
          this.hold(0);
          return undefined;
        }
        this.state.startedAt = this.iso;
        this.state.phase = 'progressing';
        this.enter(0);
        return undefined;
      }
      case 'timer':
        return this.timer();
      case 'gate-verdict':
        return this.verdict(event);
      case 'deploy-verdict':
        return this.deployVerdict(event);
      case 'instance-verdict':
        return instanceVerdict(this, event);
      case 'pause':
        this.state.phase = 'paused';
        this.state.reason = event.reason ?? `paused by ${event.actorId}`;
        return undefined;
      case 'resume':
        return this.resume();
      case 'promote':
        if (this.state.drill)
          return `a drill cannot be promoted: it rehearses a rollback and leaves slot ${this.state.slots?.live} live; roll it back or abort it`;
        if (isShadowRelease(this.state)) return SHADOW_REFUSALS.promote;
        if (this.deploying) return `the artifact is not on slot ${this.state.slots?.idle} yet: wait for its deploy, or abort`;
        for (let i = this.state.stepIndex; i < this.state.steps.length; i++) {
          const s = this.state.steps[i]!;
          if (s.status === 'pending' || s.status === 'running') Object.assign(s, { status: 'skipped', finishedAt: this.iso, wakeAt: null });
        }
        this.state.stepIndex = this.state.steps.length;
        this.state.reason = event.reason ?? `promoted by ${event.actorId}`;
        this.finish();
        return undefined;
      case 'abort':
        this.end('aborted', event.reason ?? `aborted by ${event.actorId}`);
        return undefined;
      case 'rollback':
        if (this.state.phase === 'succeeded') return this.switchBack(event.reason ?? `switched back by ${event.actorId}`, event.actorId);
        if (this.state.phase === 'queued' && !this.state.startedAt) return 'the release has not shifted any traffic yet; abort it instead';
        // Someone rolling a drill back once its weight moved rehearses the rollback as well as its end would.
        if (this.state.drill && !this.deploying) this.state.drill.rollbackDecidedAt = this.iso;
        this.end('rolled-back', event.reason ?? `rolled back by ${event.actorId}`);
        return undefined;
      case 'retry':
        return this.retry(event.fromStep, event.reason ?? `retried from step ${event.fromStep} by ${event.actorId}`);
      case 'approve':
        return this.approve(event);
      case 'reject':
        return this.reject(event);
      case 'break-glass':
        return this.breakGlass(event);
    }
  }

  /** Enters step i, running every step that completes at once (setWeight) until one waits. */
  enter(i: number): void {
    // A step boundary: while the environment is closed the release holds here, unless its plan says continue.
    if (this.closed && this.state.plan.onWindowClose !== 'continue') return this.hold(i);
    // No traffic moves before the artifact is on the idle slot.
    if (this.deploying) return this.deploy(i);
    this.state.stepIndex = i;
    const step = this.state.plan.steps[i];
    if (!step) return this.state.drill ? this.endDrill() : this.finish();
    const s = this.state.steps[i]!;
    Object.assign(s, { status: 'running', attempt: s.attempt + 1, startedAt: this.iso, finishedAt: null, wakeAt: null, evidence: null, approvals: [] });
    // Checked at start for the whole plan; again here for a release started before that check existed.
    const cannot = stepRunProblem(step);
    if (cannot) return this.failStep(`step ${i} (${step.type}) cannot run: it ${cannot}`);
    switch (step.type) {
      case 'setWeight':
        // On instances, a setWeight step is a batch to replace (rolling.ts).
        if (this.state.rolling) return startBatch(this, i);
        this.route({ type: 'set-weight', weight: step.weight });
        this.state.canaryWeight = step.weight;
        return this.complete();
      case 'pause':
        if (step.durationMs === null) {
          this.state.phase = 'paused';
          this.state.reason = `step ${i} pauses until resumed`;
        } else s.wakeAt = this.at(step.durationMs);
        return;
      case 'hold':
        s.wakeAt = this.at(step.durationMs);
        return;
      case 'approval':
        if (this.state.breakGlass) {
          Object.assign(s, { status: 'skipped', finishedAt: this.iso, evidence: { breakGlass: this.state.breakGlass } });
          return this.enter(i + 1);
        }
        this.state.phase = 'awaiting-approval';
        this.state.reason = `waiting for ${step.count} approval(s)${step.group ? ` from ${step.group}` : ''}`;
        s.wakeAt = step.expiresAfterMs === null ? null : this.at(step.expiresAfterMs);
        return;
      default:
        this.runGate(step, s);
    }
  }

  /**
   * Router effects are absolute, so a transition keeps only its last one: consecutive weights
   * applied milliseconds apart change nothing anyone can observe, and with one router effect per
   * transition a crash before the commit can only re-apply that same effect, never send traffic
   * back to an earlier split after a later one.
   */
  route(effect: RouterEffect): void {
    // A rolling release on instances sets every instance's weight itself; a canary split means nothing there.
    if (this.state.rolling && effect.type !== 'set-instance-weights') return;
    this.effects = this.effects.filter(isJobEffect);
    this.effects.push(effect);
  }

  runGate(step: Step, s: StepState): void {
    if (!isGate(step)) return;
    this.effects.push({ type: 'run-gate', gate: step.type, stepIndex: this.state.stepIndex, attempt: s.attempt });
    s.wakeAt = this.at(gateLeaseMs(step));
  }

  /** The current step succeeded: advance unless paused (resume advances). */
  complete(evidence?: unknown): void {
    const s = this.stepState!;
    Object.assign(s, { status: 'succeeded', finishedAt: this.iso, wakeAt: null });
    if (evidence !== undefined) s.evidence = evidence;
    if (this.state.phase === 'paused') return;
    if (this.state.phase === 'awaiting-approval') {
      this.state.phase = 'progressing';
      this.state.reason = null;
    }
    this.next();
  }

  /** Enters the next step; after fresh approvals for a retry past them, the step the retry asked for, with the split the plan had there. */
  next(): void {
    const resumeFrom = this.state.resumeFrom;
    if (resumeFrom != null && resumeFrom > this.state.stepIndex) {
      this.state.resumeFrom = null;
      const weight = weightBefore(this.state, resumeFrom);
      this.route({ type: 'set-weight', weight });
      this.state.canaryWeight = weight;
      return this.enter(resumeFrom);
    }
    this.enter(this.state.stepIndex + 1);
  }

  finish(): void {
    // A shadow release ends where it stood: all traffic on the live slot, nothing to promote.
    if (isShadowRelease(this.state)) {
      Object.assign(this.state, { phase: 'succeeded', canaryWeight: 0, finishedAt: this.iso });
      this.state.reason ??= 'the shadow passed: its version served no traffic; a canary or blue-green release of it promotes it';
      return;
    }
    this.route({ type: 'promote' });
    // The idle slot is live now; the previous version stays on the other one for a while.
    if (this.state.slots) this.state.slots.keepPreviousUntil = this.at(this.state.slots.keepPreviousForMs);
    this.state.canaryWeight = 100;
    this.state.phase = 'succeeded';
    this.state.finishedAt = this.iso;
  }

  /** A drill has held its weight: all traffic back to the live slot, which it never left. */
  endDrill(): void {
    this.state.drill!.rollbackDecidedAt = this.iso;
    this.end('rolled-back', `drill: rolled back as rehearsed after ${weightBefore(this.state, this.state.stepIndex)}% on slot ${this.state.slots?.idle}`);
  }

  end(phase: 'rolled-back' | 'aborted', reason: string): void {
    const s = this.stepState;
    if (s && (s.status === 'running' || s.status === 'pending'))
      Object.assign(s, { status: s.status === 'running' ? 'failed' : 'skipped', finishedAt: this.iso, wakeAt: null });
    if (this.state.rolling) return startRollback(this, phase, reason);
    // A release that never shifted traffic (not started, or its artifact not deployed yet) has nothing to undo.
    if (this.state.phase !== 'pending' && !this.deploying) this.route({ type: 'rollback' });
    if (this.state.deployment?.status === 'running') Object.assign(this.state.deployment, { status: 'failed', finishedAt: this.iso, wakeAt: null, reason });
    this.state.canaryWeight = 0;
    this.state.phase = phase;
    this.state.reason = reason;
    this.state.finishedAt = this.iso;
  }

  timer(): undefined {
    if (this.state.phase === 'queued') return this.reopen();
    rollingTimer(this, this.now);
    const d = this.state.deployment;
    if (d?.status === 'running' && (this.state.phase === 'progressing' || this.state.phase === 'paused')) {
      if (d.deadline && Date.parse(d.deadline) <= this.now) {
        this.deployFailed(`the deploy to slot ${this.state.slots?.idle} did not finish by ${d.deadline}`);
      } else if (d.wakeAt && Date.parse(d.wakeAt) <= this.now) {
        // No verdict within the lease: ask again with the same attempt, so the deployer answers for the same deployment.
        this.effects.push(this.deployEffect());
        d.wakeAt = this.at(DEPLOY_LEASE_MS);
      }
      return undefined;
    }
    const step = this.step;
    const s = this.stepState;
    if (!step || !s || s.status !== 'running' || !s.wakeAt || Date.parse(s.wakeAt) > this.now) return undefined;
    if (this.state.phase !== 'progressing' && this.state.phase !== 'paused' && this.state.phase !== 'awaiting-approval') return undefined;
    if (step.type === 'pause' || step.type === 'hold') this.complete();
    else if (step.type === 'approval') this.failStep('approval expired before enough approvals arrived');
    else if (isGate(step)) {
      // The gate's job never reported (lost with Redis, or its worker died): ask again, same attempt.
      this.effects.push({ type: 'run-gate', gate: step.type, stepIndex: this.state.stepIndex, attempt: s.attempt });
      s.wakeAt = this.at(gateLeaseMs(step));
    }
    return undefined;
  }

  verdict(event: Extract<ReleaseEvent, { type: 'gate-verdict' }>): undefined {
    const s = this.stepState;
    // Verdicts for another step or an earlier attempt are stale: ignore them.
    if (!s || event.stepIndex !== this.state.stepIndex || event.attempt !== s.attempt || s.status !== 'running') return undefined;
    if (this.state.phase !== 'progressing' && this.state.phase !== 'paused') return undefined;
    if (event.outcome === 'pass') this.complete(event.evidence ?? null);
    else if (event.outcome === 'fail') this.failStep(event.summary ?? `step ${this.state.stepIndex} (${this.step?.type}) failed`, event.evidence);
    else {
      // Inconclusive at the gate's limit, with the plan saying "ask a person".
      s.evidence = event.evidence ?? null;
      this.state.phase = 'paused';
      this.state.reason = event.summary ?? 'not enough evidence at the analysis limit: resume to accept, or roll back';
      Object.assign(s, { status: 'succeeded', finishedAt: this.iso, wakeAt: null });
    }
    return undefined;
  }

  halt(reason: string): void {
    if (this.state.phase === 'pending' || (this.state.phase === 'queued' && !this.state.startedAt)) return this.end('aborted', `not started: ${reason}`);
    const s = this.stepState;
    if (s) Object.assign(s, { status: 'failed', finishedAt: this.iso, wakeAt: null });
    if (this.state.plan?.rollback?.automatic !== false) return this.end('rolled-back', `automatic rollback: ${reason}`);
    Object.assign(this.state, { phase: 'failed', reason: `${reason}; automatic rollback is off: roll back or abort` });
  }

  failStep(reason: string, evidence?: unknown): void {
    const s = this.stepState!;
    Object.assign(s, { status: 'failed', finishedAt: this.iso, wakeAt: null });
    if (evidence !== undefined) s.evidence = evidence;
    if (this.state.plan.rollback.automatic) {
      this.end('rolled-back', `automatic rollback: ${reason}`);
      return;
    }
    this.state.phase = 'failed';
    this.state.reason = `${reason}; automatic rollback is off: roll back, abort or retry`;
  }

  resume(): undefined {
    this.state.phase = 'progressing';
    this.state.reason = null;
    // Paused while deploying, and the artifact got onto the slot meanwhile: go on to the step it was for.
    const d = this.state.deployment;
    if (d?.status === 'ready' && this.stepState?.status === 'pending' && this.state.stepIndex === d.thenStep) {
      this.enter(d.thenStep);
      return undefined;
    }
    const step = this.step;
    const s = this.stepState;
    if (!step || !s) return undefined;
    const due = s.wakeAt !== null && Date.parse(s.wakeAt) <= this.now;
    if (s.status === 'succeeded' || (step.type === 'pause' && (step.durationMs === null || due))) {
      if (s.status === 'succeeded') this.enter(this.state.stepIndex + 1);
      else this.complete();
    }
    return undefined;
  }

  retry(fromStep: number, reason: string): string | undefined {
    if (this.state.drill) return 'a drill is not retried: start a new drill';
    if (this.state.switchedBack) return 'this release was switched back after it succeeded: start a new release instead';
    // Once it ended, the environment was free: a later release may have deployed to its slot or swapped which one is live.
    if (this.state.slots && this.state.phase !== 'failed')
      return 'a release with slots that ended may have lost its slot to a later one: start a new release instead';
    const count = this.state.plan.steps.length;
    if (!Number.isInteger(fromStep) || fromStep < 0 || fromStep >= count) return `fromStep must be a step index 0–${count - 1}`;
    // Retrying past an approval step needs fresh approvals: that step runs again first, with the
    // split it had, and the release goes on from fromStep once they are in.
    const approvalBefore = this.state.plan.steps.slice(0, fromStep).findLastIndex((s) => s.type === 'approval');
    const restart = approvalBefore >= 0 ? approvalBefore : fromStep;
    for (let i = restart; i < count; i++) {
      if (i > restart && i < fromStep) continue; // steps between the approval and fromStep keep their results
      Object.assign(this.state.steps[i]!, { status: 'pending', startedAt: null, finishedAt: null, wakeAt: null, evidence: null, approvals: [] });
    }
    // Restore the traffic split the plan had reached before the step that runs first; a deploy
    // that failed moved no traffic, and is made again (a new attempt) before any step.
    const weight = weightBefore(this.state, restart);
    if (this.state.rolling) rollingRetry(this);
    if (this.deploying) {
      this.state.deployment!.status = 'pending';
      this.state.canaryWeight = 0;
    } else {
      this.route({ type: 'set-weight', weight });
      this.state.canaryWeight = weight;
    }
    Object.assign(this.state, { phase: 'progressing', reason, finishedAt: null, resumeFrom: restart === fromStep ? null : fromStep });
    this.enter(restart);
    return undefined;
  }

  approve(event: Extract<ReleaseEvent, { type: 'approve' }>): string | undefined {
    const step = this.step;
    const s = this.stepState;
    if (step?.type !== 'approval' || !s) return 'the current step is not an approval';
    if (event.actorId === (this.state.requesterKey ?? this.state.requestedBy)) return 'the person who requested a release may not approve it';
    const current = approvalBinding(this.state);
    if (event.binding && current && !sameBinding(event.binding, current))
      return 'the release changed after you looked at it (its evidence, plan or artifact): look again before approving';
    const counting = countingApprovals(this.state, step, s, this.now);
    if (counting.some((a) => a.actorId === event.actorId)) return `${event.display ?? event.actorId} has already approved this step`;
    // Approvals that no longer count (expired, or bound to something else) make way for this one.
    s.approvals = [
      ...counting,
      { actorId: event.actorId, display: event.display, comment: event.comment ?? null, at: this.iso, ...(current ? { binding: current } : {}) },
    ];
    if (s.approvals.length >= step.count) this.complete();
    return undefined;
  }

  /** Queued: go on when the environment has opened, or say again why not and until when. */
  reopen(): undefined {
    if (this.closed) {
      // Still closed: only a new reason or opening time is news (and a release no window opens looks again daily).
      const opensAt = this.gate?.opensAt ? new Date(this.gate.opensAt).toISOString() : null;
      const due = this.state.queueWakeAt ? Date.parse(this.state.queueWakeAt) <= this.now : true;
      if (opensAt !== this.state.opensAt || this.gate?.reason !== this.state.reason || (opensAt === null && due))
        this.hold(this.state.heldAt ?? this.state.stepIndex);
      return undefined;
    }
    const at = this.state.heldAt ?? this.state.stepIndex;
    Object.assign(this.state, { phase: 'progressing', reason: null, heldAt: null, opensAt: null, queueWakeAt: null });
    this.state.startedAt ??= this.iso;
    this.enter(at);
    return undefined;
  }

  /** Someone with the right says why this cannot wait: windows, freezes and approvals no longer hold the release. */
  breakGlass(event: Extract<ReleaseEvent, { type: 'break-glass' }>): string | undefined {
    if (event.actorId === (this.state.requesterKey ?? this.state.requestedBy) && this.state.phase === 'awaiting-approval')
      return 'the person who requested a release may not break glass past its approval; someone else must';
    this.state.breakGlass = { by: event.actorId, display: event.display, reason: event.reason, at: this.iso };
    if (this.state.phase === 'queued') return this.reopen();
    if (this.state.phase === 'awaiting-approval') {
      const s = this.stepState!;
      Object.assign(s, { status: 'skipped', finishedAt: this.iso, wakeAt: null, evidence: { breakGlass: this.state.breakGlass } });
      this.state.phase = 'progressing';
      this.state.reason = null;
      this.next();
    }
    return undefined; // pending: the start that follows finds the glass broken
  }

  reject(event: Extract<ReleaseEvent, { type: 'reject' }>): string | undefined {
    if (this.step?.type !== 'approval') return 'the current step is not an approval';
    if (event.actorId === (this.state.requesterKey ?? this.state.requestedBy)) return 'the person who requested a release may not reject it; abort it instead';
    this.failStep(`rejected by ${event.display ?? event.actorId}: ${event.comment}`);
    return undefined;
  }

  /** The release has a deployer and its artifact is not on the idle slot yet. */
  get deploying(): boolean {
    const d = this.state.deployment;
    return !!d && d.status !== 'ready';
  }

  deployEffect() {
    const d = this.state.deployment!;
    return { type: 'deploy' as const, slot: this.state.slots!.idle, digest: this.state.subject!.digest, attempt: d.attempt, deadline: d.deadline! };
  }

  /** Starts a deploy onto the idle slot (or goes on waiting for the one under way); step `then` is entered once it is ready. */
  deploy(then: number): void {
    const d = this.state.deployment!;
    if (d.status === 'running') return;
    if (!this.state.slots || !this.state.subject) return this.deployFailed('the release has a deployer but no slot or digest to deploy');
    Object.assign(d, {
      status: 'running',
      attempt: d.attempt + 1,
      thenStep: then,
      startedAt: this.iso,
      finishedAt: null,
      wakeAt: this.at(DEPLOY_LEASE_MS),
      deadline: this.at(DEPLOY_DEADLINE_MS),
      digest: null,
      reason: null,
      evidence: null,
    });
    this.state.stepIndex = then;
    this.effects.push(this.deployEffect());
  }

  deployVerdict(event: Extract<ReleaseEvent, { type: 'deploy-verdict' }>): undefined {
    const d = this.state.deployment;
    // A verdict for an earlier attempt, or a second answer for this one, changes nothing: the first is final.
    if (!d || d.status !== 'running' || event.attempt !== d.attempt) return undefined;
    if (this.state.phase !== 'progressing' && this.state.phase !== 'paused') return undefined;
    const slot = this.state.slots?.idle;
    const asked = this.state.subject?.digest;
    if (event.outcome === 'failed') return this.deployFailed(`the deploy to slot ${slot} failed: ${event.reason ?? 'no reason given'}`, event.evidence);
    if (event.digest !== asked)
      return this.deployFailed(`the deployer reports ${event.digest ?? 'no digest'} on slot ${slot}, not ${asked} as asked`, event.evidence);
    Object.assign(d, { status: 'ready', finishedAt: this.iso, wakeAt: null, digest: event.digest, evidence: event.evidence ?? null });
    if (this.state.phase === 'paused') return undefined; // resume goes on
    this.enter(d.thenStep);
    return undefined;
  }

  /** The artifact did not get onto the slot: no traffic moved, so there is nothing to undo. */
  deployFailed(reason: string, evidence?: unknown): undefined {
    const d = this.state.deployment!;
    Object.assign(d, { status: 'failed', finishedAt: this.iso, wakeAt: null, reason, evidence: evidence ?? d.evidence ?? null });
    this.state.canaryWeight = 0;
    if (this.state.plan.rollback.automatic) {
      Object.assign(this.state, { phase: 'rolled-back', reason: `automatic rollback: ${reason}`, finishedAt: this.iso });
      return undefined;
    }
    Object.assign(this.state, { phase: 'failed', reason: `${reason}; automatic rollback is off: retry or abort` });
    return undefined;
  }

  /**
   * A succeeded release whose previous version is still on the other slot: all traffic back to it
   * in one absolute router call (the slots as the release had them: its own slot 0, the previous 100).
   */
  switchBack(reason: string, by: string): string | undefined {
    const slots = this.state.slots;
    if (isShadowRelease(this.state)) return SHADOW_REFUSALS.switchBack;
    if (!slots)
      return 'cannot rollback a release that is succeeded: its environment has no slots that alternate, so nothing kept the previous version; start a release of it instead';
    if (!slots.previousReleaseId) return `nothing to switch back to: this was the first release on slot ${slots.idle}`;
    if (slots.keepPreviousUntil && Date.parse(slots.keepPreviousUntil) <= this.now)
      return `the previous version was kept on slot ${slots.live} only until ${slots.keepPreviousUntil}: start a release of it instead`;
    if (this.previousOnIdle !== true)
      return `slot ${slots.live} no longer holds the previous version (a later release deployed there or is under way): start a release of it instead`;
    this.route({ type: 'rollback' });
    this.state.canaryWeight = 0;
    this.state.switchedBack = { at: this.iso, by, reason };
    Object.assign(this.state, { phase: 'rolled-back', reason, finishedAt: this.iso });
    return undefined;
  }

  /**
   * A timer `ms` from now. Steps are checked before they set one (stepRunProblem), so the clamp
   * never changes a timer; it is there so that no stored value can make the machine throw.
   */
  at(ms: number): string {
    return new Date(this.now + (Number.isFinite(ms) ? Math.min(Math.max(ms, 0), PLAN_LIMITS.waitMs) : PLAN_LIMITS.waitMs)).toISOString();
  }
}

/** The canary weight the plan had reached before step `index` (0 before any setWeight). */
function weightBefore(state: ReleaseState, index: number): number {
  const step = state.plan.steps.slice(0, index).findLast((s) => s.type === 'setWeight') as { weight: number } | undefined;
  return step?.weight ?? 0;
}

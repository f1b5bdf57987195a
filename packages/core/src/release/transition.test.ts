import { describe, expect, it } from 'vitest';
import type { StepSpec } from '../plan/plan-spec.ts';
import { validatePlan } from '../plan/validate-plan.ts';
import { initialReleaseState, nextWakeAt, type Phase, type ReleaseEvent, type ReleaseState } from './release-state.ts';
import { haltRelease, transition, transitionOrHalt, type TransitionContext } from './transition.ts';
import type { CompiledPlan, Step } from '../plan/compiled-plan.ts';
import { approvalBinding } from './approval-binding.ts';

/** A fake clock: tests move time by hand. */
const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const sec = (s: number) => T0 + s * 1000;

function plan(steps: StepSpec[], automatic = true) {
  const result = validatePlan({ strategy: 'canary', steps, rollback: { automatic } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Applies events in order, asserting each is accepted; returns the final state and all effects. */
function run(state: ReleaseState, events: Array<[ReleaseEvent, number]>) {
  const effects = [];
  for (const [event, now] of events) {
    const result = transition(deepFreeze(state), event, now);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.reason}`);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const alice = { actorId: 'alice' };
const bob = { actorId: 'bob' };
const gatePlan = (automatic = true) =>
  plan(
    [
      { type: 'setWeight', weight: 10 },
      { type: 'webhook', url: 'http://127.0.0.1:1/gate' },
      { type: 'setWeight', weight: 100 },
    ],
    automatic,
  );
const timedPlan = plan([
  { type: 'setWeight', weight: 10 },
  { type: 'pause', duration: '60s' },
  { type: 'setWeight', weight: 100 },
]);
const approvalPlan = plan([
  { type: 'setWeight', weight: 10 },
  { type: 'approval', count: 1 },
  { type: 'pause', duration: '60s' },
  { type: 'setWeight', weight: 100 },
]);

/** One release in each phase, reached through the machine itself. */
const inPhase: Record<Phase, () => ReleaseState> = {
  pending: () => initialReleaseState(timedPlan, 'alice'),
  queued: () => {
    const result = transition(initialReleaseState(timedPlan, 'alice'), { type: 'start' }, sec(0), {
      gate: { open: false, reason: 'frozen', opensAt: sec(3600) },
    });
    if (!result.ok) throw new Error(result.reason);
    return result.state;
  },
  progressing: () => run(initialReleaseState(timedPlan, 'alice'), [[{ type: 'start' }, sec(0)]]).state,
  paused: () => run(inPhase.progressing(), [[{ type: 'pause', ...alice }, sec(1)]]).state,
  'awaiting-approval': () => run(initialReleaseState(approvalPlan, 'alice'), [[{ type: 'start' }, sec(0)]]).state,
  failed: () =>
    run(initialReleaseState(gatePlan(false), 'alice'), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'gate-verdict', stepIndex: 1, attempt: 1, outcome: 'fail' }, sec(5)],
    ]).state,
  succeeded: () => run(inPhase.progressing(), [[{ type: 'promote', ...alice }, sec(1)]]).state,
  'rolled-back': () => run(inPhase.progressing(), [[{ type: 'rollback', ...alice }, sec(1)]]).state,
  aborted: () => run(inPhase.pending(), [[{ type: 'abort', ...alice }, sec(1)]]).state,
};

const events: Record<string, ReleaseEvent> = {
  start: { type: 'start' },
  timer: { type: 'timer' },
  pause: { type: 'pause', ...alice },
  resume: { type: 'resume', ...alice },
  promote: { type: 'promote', ...alice },
  abort: { type: 'abort', ...alice },
  rollback: { type: 'rollback', ...alice },
  retry: { type: 'retry', fromStep: 0, ...alice },
  approve: { type: 'approve', ...bob },
};

// phase -> event -> expected [phase after, effect types] or a refusal pattern; '=' means accepted, nothing changes.
type Expect = [Phase, string[]] | RegExp | '=';
const no = (phase: string) => new RegExp(`cannot \\w+ a release that is ${phase}`);
const TABLE: Record<Phase, Record<keyof typeof events, Expect>> = {
  pending: {
    start: ['progressing', ['set-weight']],
    timer: '=',
    pause: no('pending'),
    resume: no('pending'),
    promote: no('pending'),
    abort: ['aborted', []],
    rollback: /abort it instead/,
    retry: no('pending'),
    approve: no('pending'),
  },
  // Queued and never started; with no gate given the environment counts as open again.
  queued: {
    start: '=',
    timer: ['progressing', ['set-weight']],
    pause: no('queued'),
    resume: no('queued'),
    promote: no('queued'),
    abort: ['aborted', ['rollback']],
    rollback: /abort it instead/,
    retry: no('queued'),
    approve: no('queued'),
  },
  progressing: {
    start: '=',
    timer: '=',
    pause: ['paused', []],
    resume: no('progressing'),
    promote: ['succeeded', ['promote']],
    abort: ['aborted', ['rollback']],
    rollback: ['rolled-back', ['rollback']],
    retry: no('progressing'),
    approve: no('progressing'),
  },
  paused: {
    start: '=',
    timer: '=',
    pause: no('paused'),
    resume: ['progressing', []],
    promote: ['succeeded', ['promote']],
    abort: ['aborted', ['rollback']],
    rollback: ['rolled-back', ['rollback']],
    retry: no('paused'),
    approve: no('paused'),
  },
  'awaiting-approval': {
    start: '=',
    timer: '=',
    pause: no('awaiting-approval'),
    resume: no('awaiting-approval'),
    promote: /waiting for approval/,
    abort: ['aborted', ['rollback']],
    rollback: ['rolled-back', ['rollback']],
    retry: no('awaiting-approval'),
    approve: ['progressing', []],
  },
  failed: {
    start: '=',
    timer: '=',
    pause: no('failed'),
    resume: no('failed'),
    promote: no('failed'),
    abort: ['aborted', ['rollback']],
    rollback: ['rolled-back', ['rollback']],
    retry: ['progressing', ['set-weight', 'run-gate']],
    approve: no('failed'),
  },
  succeeded: {
    start: '=',
    timer: '=',
    pause: no('succeeded'),
    resume: no('succeeded'),
    promote: no('succeeded'),
    abort: no('succeeded'),
    rollback: no('succeeded'),
    retry: no('succeeded'),
    approve: no('succeeded'),
  },
  'rolled-back': {
    start: '=',
    timer: '=',
    pause: no('rolled-back'),
    resume: no('rolled-back'),
    promote: no('rolled-back'),
    abort: no('rolled-back'),
    rollback: no('rolled-back'),
    retry: ['progressing', ['set-weight']],
    approve: no('rolled-back'),
  },
  aborted: {
    start: '=',
    timer: '=',
    pause: no('aborted'),
    resume: no('aborted'),
    promote: no('aborted'),
    abort: no('aborted'),
    rollback: no('aborted'),
    retry: ['progressing', ['set-weight']],
    approve: no('aborted'),
  },
};

describe('transition: every phase × event', () => {
  for (const [phase, row] of Object.entries(TABLE) as Array<[Phase, Record<string, Expect>]>) {
    for (const [name, expected] of Object.entries(row)) {
      it(`${phase} + ${name}`, () => {
        const state = deepFreeze(inPhase[phase]());
        expect(state.phase).toBe(phase);
        const result = transition(state, events[name]!, sec(30));
        if (expected instanceof RegExp) {
          expect(result).toEqual({ ok: false, reason: expect.stringMatching(expected) });
        } else if (expected === '=') {
          expect(result).toMatchObject({ ok: true, changed: false, effects: [] });
        } else {
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.state.phase).toBe(expected[0]);
          expect(result.effects.map((e) => e.type)).toEqual(expected[1]);
          expect(result.effects.filter((e) => e.type !== 'run-gate').length, 'one router effect per transition at most').toBeLessThanOrEqual(1);
        }
      });
    }
  }
});

describe('transition: a release through time', () => {
  it('runs a canary step by step on a fake clock, with absolute weights', () => {
    let { state, effects } = run(initialReleaseState(timedPlan, 'alice'), [[{ type: 'start' }, sec(0)]]);
    expect(effects).toEqual([{ type: 'set-weight', weight: 10 }]);
    expect(nextWakeAt(state)).toBe(new Date(sec(60)).toISOString());
    const early = transition(state, { type: 'timer' }, sec(59));
    expect(early).toMatchObject({ ok: true, changed: false, effects: [] });
    ({ state, effects } = run(state, [[{ type: 'timer' }, sec(60)]]));
    // setWeight 100 and the promote that follows at once: only the promote reaches the router.
    expect(effects).toEqual([{ type: 'promote' }]);
    expect(state).toMatchObject({ phase: 'succeeded', canaryWeight: 100, finishedAt: new Date(sec(60)).toISOString() });
    expect(state.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('rolls back automatically on a failing gate and keeps the evidence', () => {
    const { state, effects } = run(initialReleaseState(gatePlan(), 'alice'), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'gate-verdict', stepIndex: 1, attempt: 1, outcome: 'fail', evidence: { status: 500 }, summary: 'webhook said no' }, sec(3)],
    ]);
    expect(effects).toEqual([{ type: 'set-weight', weight: 10 }, { type: 'run-gate', gate: 'webhook', stepIndex: 1, attempt: 1 }, { type: 'rollback' }]);
    expect(state).toMatchObject({ phase: 'rolled-back', canaryWeight: 0, reason: 'automatic rollback: webhook said no' });
    expect(state.steps[1]).toMatchObject({ status: 'failed', evidence: { status: 500 } });
  });

  it('ignores stale verdicts and asks again when a gate outlives its lease', () => {
    let { state } = run(initialReleaseState(gatePlan(), 'alice'), [[{ type: 'start' }, sec(0)]]);
    expect(transition(state, { type: 'gate-verdict', stepIndex: 1, attempt: 0, outcome: 'fail' }, sec(1))).toMatchObject({ changed: false });
    expect(transition(state, { type: 'gate-verdict', stepIndex: 0, attempt: 1, outcome: 'fail' }, sec(1))).toMatchObject({ changed: false });
    const lease = Date.parse(nextWakeAt(state)!);
    const again = transition(state, { type: 'timer' }, lease);
    expect(again).toMatchObject({ ok: true, effects: [{ type: 'run-gate', gate: 'webhook', stepIndex: 1, attempt: 1 }] });
    ({ state } = run(state, [[{ type: 'gate-verdict', stepIndex: 1, attempt: 1, outcome: 'pass' }, sec(2)]]));
    expect(state.phase).toBe('succeeded');
  });

  it('retries from a step after a failure, restoring the split reached before it', () => {
    const { state, effects } = run(inPhase.failed(), [[{ type: 'retry', fromStep: 1, ...alice }, sec(40)]]);
    expect(effects).toEqual([
      { type: 'set-weight', weight: 10 },
      { type: 'run-gate', gate: 'webhook', stepIndex: 1, attempt: 2 },
    ]);
    expect(state).toMatchObject({ phase: 'progressing', stepIndex: 1 });
    expect(transition(inPhase.failed(), { type: 'retry', fromStep: 9, ...alice }, sec(40))).toEqual({ ok: false, reason: 'fromStep must be a step index 0–2' });
  });

  it('holds an advance while paused and takes it on resume', () => {
    const { state } = run(inPhase.paused(), [[{ type: 'timer' }, sec(61)]]);
    expect(state).toMatchObject({ phase: 'paused', stepIndex: 1 });
    expect(state.steps[1]!.status).toBe('succeeded');
    const resumed = run(state, [[{ type: 'resume', ...alice }, sec(70)]]);
    expect(resumed.effects).toEqual([{ type: 'promote' }]);
    expect(resumed.state.phase).toBe('succeeded');
  });

  it('a plan pause without duration waits for resume', () => {
    const p = plan([{ type: 'setWeight', weight: 20 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }]);
    let { state } = run(initialReleaseState(p, 'alice'), [[{ type: 'start' }, sec(0)]]);
    expect(state).toMatchObject({ phase: 'paused', reason: 'step 1 pauses until resumed' });
    ({ state } = run(state, [[{ type: 'resume', ...bob }, sec(5)]]));
    expect(state.phase).toBe('succeeded');
  });

  it('approvals: never by the requester, never twice by one person, and they expire', () => {
    const p = plan([
      { type: 'approval', count: 2, expiresAfter: '1h' },
      { type: 'setWeight', weight: 100 },
    ]);
    let { state } = run(initialReleaseState(p, 'alice'), [[{ type: 'start' }, sec(0)]]);
    expect(transition(state, { type: 'approve', ...alice }, sec(1))).toEqual({ ok: false, reason: 'the person who requested a release may not approve it' });
    ({ state } = run(state, [[{ type: 'approve', ...bob, comment: 'lgtm' }, sec(2)]]));
    expect(transition(state, { type: 'approve', ...bob }, sec(3))).toEqual({ ok: false, reason: 'bob has already approved this step' });
    const expired = run(state, [[{ type: 'timer' }, sec(3600)]]).state;
    expect(expired).toMatchObject({ phase: 'rolled-back', reason: 'automatic rollback: approval expired before enough approvals arrived' });
    ({ state } = run(state, [[{ type: 'approve', actorId: 'carol' }, sec(4)]]));
    expect(state.phase).toBe('succeeded');
    expect(state.steps[0]!.approvals.map((a) => a.actorId)).toEqual(['bob', 'carol']);
  });

  describe('approvals bound to what was approved', () => {
    const subject = { digest: `sha256:${'a'.repeat(64)}`, environmentId: 'env-prod', planVersion: 3 };
    const protectedPlan = plan([
      { type: 'approval', count: 2, expiresAfter: '1h' },
      { type: 'setWeight', weight: 20 },
      { type: 'webhook', url: 'http://127.0.0.1:1/gate' },
      { type: 'setWeight', weight: 100 },
    ]);
    const started = () => run({ ...initialReleaseState(protectedPlan, 'token:ci'), requesterKey: 'user:alice', subject }, [[{ type: 'start' }, sec(0)]]).state;

    it('the requester never approves, whatever credential they came through', () => {
      expect(transition(started(), { type: 'approve', actorId: 'user:alice' }, sec(1))).toEqual({
        ok: false,
        reason: 'the person who requested a release may not approve it',
      });
      expect(transition(started(), { type: 'reject', actorId: 'user:alice', comment: 'no' }, sec(1))).toMatchObject({ ok: false });
    });

    it('records what each approval was given for, and refuses one given for another state of the release', () => {
      const state = started();
      const binding = approvalBinding(state)!;
      expect(binding).toMatchObject(subject);
      const { state: once } = run(state, [[{ type: 'approve', actorId: 'user:bob', display: 'bob@x', binding }, sec(1)]]);
      expect(once.steps[0]!.approvals[0]).toEqual({ actorId: 'user:bob', display: 'bob@x', comment: null, at: new Date(sec(1)).toISOString(), binding });
      const stale = { ...binding, evidenceHash: '0000000000000000' };
      expect(transition(once, { type: 'approve', actorId: 'user:carol', binding: stale }, sec(2))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/changed after you looked/),
      });
    });

    it('an approval expires: it stops counting after the step expiry even while the wait goes on', () => {
      const p = plan([
        { type: 'approval', count: 2, expiresAfter: '1h' },
        { type: 'setWeight', weight: 100 },
      ]);
      let state = run({ ...initialReleaseState(p, 'x'), requesterKey: 'user:alice', subject }, [[{ type: 'start' }, sec(0)]]).state;
      // Bob approves; the step is entered again later (a retry), so its wait restarts but bob's approval is older.
      state = run(state, [[{ type: 'approve', actorId: 'user:bob' }, sec(10)]]).state;
      const aged = structuredClone(state);
      aged.steps[0]!.approvals[0]!.at = new Date(sec(10) - 3_600_000).toISOString();
      const after = run(aged, [[{ type: 'approve', actorId: 'user:carol' }, sec(20)]]).state;
      expect(after.phase).toBe('awaiting-approval');
      expect(after.steps[0]!.approvals.map((a) => a.actorId)).toEqual(['user:carol']);
    });

    it('a reject with a comment fails the step at once', () => {
      const { state } = run(started(), [[{ type: 'reject', actorId: 'user:bob', display: 'bob@x', comment: 'not today' }, sec(5)]]);
      expect(state).toMatchObject({ phase: 'rolled-back', reason: 'automatic rollback: rejected by bob@x: not today' });
      expect(state.steps[0]!.status).toBe('failed');
    });

    it('a retry from after the approval step asks for fresh approvals first, with no traffic, then goes on where it was asked', () => {
      let state = run(started(), [
        [{ type: 'approve', actorId: 'user:bob' }, sec(1)],
        [{ type: 'approve', actorId: 'user:carol' }, sec(2)],
        [{ type: 'gate-verdict', stepIndex: 2, attempt: 1, outcome: 'fail', summary: 'the webhook said no' }, sec(3)],
      ]).state;
      expect(state.phase).toBe('rolled-back');
      const retried = transition(state, { type: 'retry', fromStep: 2, actorId: 'user:alice' }, sec(10));
      if (!retried.ok) throw new Error(retried.reason);
      state = retried.state;
      expect(retried.effects).toEqual([{ type: 'set-weight', weight: 0 }]);
      expect(state).toMatchObject({ phase: 'awaiting-approval', stepIndex: 0, canaryWeight: 0, resumeFrom: 2 });
      expect(state.steps[0]!.approvals).toEqual([]);
      expect(state.steps[1]!.status).toBe('succeeded'); // kept: it is not run again
      const approved = run(state, [
        [{ type: 'approve', actorId: 'user:bob' }, sec(11)],
        [{ type: 'approve', actorId: 'user:dave' }, sec(12)],
      ]);
      expect(approved.state).toMatchObject({ phase: 'progressing', stepIndex: 2, canaryWeight: 20, resumeFrom: null });
      expect(approved.effects).toEqual([
        { type: 'set-weight', weight: 20 },
        { type: 'run-gate', gate: 'webhook', stepIndex: 2, attempt: 2 },
      ]);
    });
  });

  describe('deploy windows, freezes and break-glass', () => {
    const closed: TransitionContext = { gate: { open: false, reason: 'frozen until Monday: release freeze', opensAt: sec(7200) } };
    const open: TransitionContext = { gate: { open: true, reason: null, opensAt: null } };
    const step = (state: ReleaseState, event: ReleaseEvent, now: number, context: TransitionContext = open) => {
      const result = transition(deepFreeze(state), event, now, context);
      if (!result.ok) throw new Error(result.reason);
      return result;
    };

    it('a release asked for while closed is queued with the reason and the time it starts, and starts by itself', () => {
      const queued = step(initialReleaseState(timedPlan, 'alice'), { type: 'start' }, sec(0), closed);
      expect(queued.effects).toEqual([]);
      expect(queued.state).toMatchObject({
        phase: 'queued',
        reason: 'frozen until Monday: release freeze',
        opensAt: new Date(sec(7200)).toISOString(),
        startedAt: null,
      });
      expect(nextWakeAt(queued.state)).toBe(new Date(sec(7200)).toISOString());
      expect(step(queued.state, { type: 'timer' }, sec(60), closed).changed).toBe(false);
      const started = step(queued.state, { type: 'timer' }, sec(7200));
      expect(started.state).toMatchObject({ phase: 'progressing', stepIndex: 1, canaryWeight: 10, startedAt: new Date(sec(7200)).toISOString() });
      expect(started.effects).toEqual([{ type: 'set-weight', weight: 10 }]);
    });

    it('a running release holds at the next step boundary when the window closes, keeping its traffic, and goes on when it opens', () => {
      const running = step(initialReleaseState(timedPlan, 'alice'), { type: 'start' }, sec(0)).state;
      const held = step(running, { type: 'timer' }, sec(60), closed);
      expect(held.effects).toEqual([]);
      expect(held.state).toMatchObject({ phase: 'queued', heldAt: 2, canaryWeight: 10 });
      // Rollback and abort are never blocked by a closed window.
      expect(transition(held.state, { type: 'rollback', ...alice }, sec(61), closed)).toMatchObject({ ok: true, effects: [{ type: 'rollback' }] });
      const resumed = step(held.state, { type: 'timer' }, sec(7200));
      expect(resumed.state.phase).toBe('succeeded');
      expect(resumed.effects).toEqual([{ type: 'promote' }]);
    });

    it('a plan that says continue is not held', () => {
      const p = validatePlan({
        strategy: 'canary',
        steps: [
          { type: 'setWeight', weight: 10 },
          { type: 'pause', duration: '60s' },
          { type: 'setWeight', weight: 100 },
        ],
        windows: { onClose: 'continue' },
      });
      if (!p.ok) throw new Error('plan');
      const running = step(initialReleaseState(p.plan, 'alice'), { type: 'start' }, sec(0)).state;
      expect(step(running, { type: 'timer' }, sec(60), closed).state.phase).toBe('succeeded');
    });

    it('break-glass starts a queued release at once, keeps it running through closed windows, skips approvals, and says who and why', () => {
      const p = plan([
        { type: 'approval', count: 1 },
        { type: 'setWeight', weight: 50 },
        { type: 'pause', duration: '60s' },
        { type: 'setWeight', weight: 100 },
      ]);
      const queued = step({ ...initialReleaseState(p, 'token:ci'), requesterKey: 'user:alice' }, { type: 'start' }, sec(0), closed).state;
      const broken = step(queued, { type: 'break-glass', actorId: 'user:dana', display: 'dana@x', reason: 'checkout is down: hotfix' }, sec(10), closed);
      expect(broken.state.breakGlass).toEqual({ by: 'user:dana', display: 'dana@x', reason: 'checkout is down: hotfix', at: new Date(sec(10)).toISOString() });
      expect(broken.state).toMatchObject({ phase: 'progressing', stepIndex: 2, canaryWeight: 50 });
      expect(broken.state.steps[0]).toMatchObject({ status: 'skipped', evidence: { breakGlass: { reason: 'checkout is down: hotfix' } } });
      expect(step(broken.state, { type: 'timer' }, sec(70), closed).state.phase).toBe('succeeded');
    });

    it('break-glass past an approval step: never by the requester', () => {
      const p = plan([
        { type: 'approval', count: 2 },
        { type: 'setWeight', weight: 100 },
      ]);
      const waiting = step({ ...initialReleaseState(p, 'x'), requesterKey: 'user:alice' }, { type: 'start' }, sec(0)).state;
      expect(transition(waiting, { type: 'break-glass', actorId: 'user:alice', display: 'alice', reason: 'urgent' }, sec(1))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/may not break glass/),
      });
      expect(step(waiting, { type: 'break-glass', actorId: 'user:dana', display: 'dana', reason: 'urgent' }, sec(1)).state.phase).toBe('succeeded');
    });
  });

  it('an inconclusive verdict at the limit pauses for a person when the plan says so', () => {
    const p = plan([
      { type: 'setWeight', weight: 5 },
      { type: 'analysis', maxDuration: '1m' },
      { type: 'setWeight', weight: 100 },
    ]);
    let { state } = run(initialReleaseState(p, 'alice'), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'gate-verdict', stepIndex: 1, attempt: 1, outcome: 'inconclusive', summary: 'too little traffic' }, sec(60)],
    ]);
    expect(state).toMatchObject({ phase: 'paused', reason: 'too little traffic' });
    ({ state } = run(state, [[{ type: 'resume', ...alice }, sec(61)]]));
    expect(state.phase).toBe('succeeded');
  });

  /** One accepted transition (the state frozen: the machine never mutates its input). */
  const accept = (state: ReleaseState, event: ReleaseEvent, now: number) => {
    const result = transition(deepFreeze(state), event, now);
    if (!result.ok) throw new Error(result.reason);
    return result;
  };

  describe('a plan stored before plans were bounded (or written by hand) never makes the machine throw', () => {
    const HUGE_MS = 9_999_999_999 * 3_600_000; // "9999999999h": no date holds now + this
    /** What the database may hold: compiled before validation had limits, so not through validatePlan. */
    const stored = (steps: unknown[], automatic = true) => ({ strategy: 'canary', steps, rollback: { automatic } }) as unknown as CompiledPlan;
    const hugePause = (automatic = true) =>
      stored(
        [
          { type: 'setWeight', weight: 10 },
          { type: 'pause', durationMs: null },
          { type: 'pause', durationMs: HUGE_MS },
          { type: 'setWeight', weight: 100 },
        ],
        automatic,
      );

    it.each<[string, unknown]>([
      ['a pause of 9999999999h', { type: 'pause', durationMs: HUGE_MS }],
      ['a pause of 1e300 s', { type: 'pause', durationMs: 1e303 }],
      ['a hold of 9999999999h', { type: 'hold', durationMs: HUGE_MS }],
      ['an approval expiring after 9999999999h', { type: 'approval', group: null, count: 1, expiresAfterMs: HUGE_MS }],
      [
        'an analysis of 1e300 s',
        { type: 'analysis', intervalMs: 10_000, minDurationMs: 0, maxDurationMs: 1e303, alpha: 0.01, metrics: [], onInconclusive: 'pause', watch: false },
      ],
      ['a webhook timing out after 9999999999h', { type: 'webhook', url: 'http://127.0.0.1/', timeoutMs: HUGE_MS, retries: 3 }],
      ['a pause of "soon"', { type: 'pause', durationMs: 'soon' }],
      ['a smoke step without checks', { type: 'smoke', retries: 1, retryDelayMs: 0 }],
      ['a step this version does not know', { type: 'teleport' }],
    ])('%s: the start ends the release aborted, with why, before any traffic moves', (_name, bad) => {
      const result = transition(
        initialReleaseState(stored([{ type: 'setWeight', weight: 10 }, bad, { type: 'setWeight', weight: 100 }]), 'alice'),
        { type: 'start' },
        sec(0),
      );
      expect(result).toMatchObject({
        ok: true,
        effects: [],
        state: { phase: 'aborted', canaryWeight: 0, reason: expect.stringMatching(/^not started, its plan cannot run: step 1 \(\w+\) /) },
      });
      if (result.ok) expect(nextWakeAt(result.state)).toBeNull();
    });

    it("says what is wrong, in the plan's own units", () => {
      const result = transition(initialReleaseState(hugePause(), 'alice'), { type: 'start' }, sec(0));
      expect(result.ok && result.state.reason).toBe(
        'not started, its plan cannot run: step 2 (pause) waits 9999999999h: beyond the 720h limit of any step; save a plan within the limits and start a new release',
      );
    });

    /** Started before the check at start existed: waiting at the manual pause in front of the huge one. */
    const startedBefore = (automatic: boolean): ReleaseState => {
      const state = initialReleaseState(hugePause(automatic), 'alice');
      const done = { status: 'succeeded' as const, attempt: 1, startedAt: new Date(sec(0)).toISOString(), finishedAt: new Date(sec(0)).toISOString() };
      return {
        ...state,
        phase: 'paused',
        stepIndex: 1,
        canaryWeight: 10,
        startedAt: new Date(sec(0)).toISOString(),
        reason: 'step 1 pauses until resumed',
        steps: state.steps.map((st, i) => (i === 0 ? { ...st, ...done } : i === 1 ? { ...st, status: 'running', attempt: 1, startedAt: done.startedAt } : st)),
      };
    };

    it('entering the step fails it with why; automatic rollback ends the release', () => {
      const { state, effects } = run(startedBefore(true), [[{ type: 'resume', ...alice }, sec(5)]]);
      expect(state).toMatchObject({
        phase: 'rolled-back',
        canaryWeight: 0,
        reason: expect.stringMatching(/^automatic rollback: step 2 \(pause\) cannot run: it waits 9999999999h/),
      });
      expect(effects).toEqual([{ type: 'rollback' }]);
    });

    it('with automatic rollback off the release fails with why, and abort always ends it', () => {
      const failed = run(startedBefore(false), [[{ type: 'resume', ...alice }, sec(5)]]).state;
      expect(failed).toMatchObject({ phase: 'failed', reason: expect.stringMatching(/^step 2 \(pause\) cannot run: .*automatic rollback is off/) });
      expect(nextWakeAt(failed)).toBeNull();
      const { state, effects } = run(failed, [[{ type: 'abort', ...alice }, sec(6)]]);
      expect(state).toMatchObject({ phase: 'aborted', canaryWeight: 0 });
      expect(effects).toEqual([{ type: 'rollback' }]);
    });

    it('abort works in every active phase whatever the plan holds', () => {
      for (const state of [initialReleaseState(hugePause(), 'alice'), startedBefore(true), startedBefore(false)])
        expect(accept(state, { type: 'abort', ...alice }, sec(9)).state.phase).toBe('aborted');
    });

    it('a timer set from a stored gate lease no date can hold is clamped, not thrown', () => {
      const webhook = { type: 'webhook', url: 'http://127.0.0.1/', timeoutMs: HUGE_MS, retries: 3 } as unknown as Step;
      const state = startedBefore(true);
      state.plan = { ...state.plan, steps: [state.plan.steps[0]!, webhook] };
      state.steps = [state.steps[0]!, { ...state.steps[1]!, wakeAt: new Date(sec(1)).toISOString() }];
      state.phase = 'progressing';
      const { state: after, effects } = run(state, [[{ type: 'timer' }, sec(2)]]);
      expect(effects).toEqual([{ type: 'run-gate', gate: 'webhook', stepIndex: 1, attempt: 1 }]);
      expect(Date.parse(after.steps[1]!.wakeAt!)).toBe(sec(2) + 30 * 24 * 3_600_000);
    });
  });

  describe('haltRelease: what the reconciler does when the machine throws anyway', () => {
    it.each<[string, () => ReleaseState, Phase, RegExp, string[]]>([
      ['a release that never started ends aborted (it deployed nothing)', inPhase.pending, 'aborted', /^not started: boom$/, []],
      // As an abort of a queued release does: the rollback is absolute, so harmless when nothing moved.
      ['a queued release that never started too', inPhase.queued, 'aborted', /^not started: boom$/, ['rollback']],
      ['a running release rolls back', inPhase.progressing, 'rolled-back', /^automatic rollback: boom$/, ['rollback']],
      ['a release waiting for approval rolls back', inPhase['awaiting-approval'], 'rolled-back', /^automatic rollback: boom$/, ['rollback']],
    ])('%s', (_name, make, phase, reason, effects) => {
      const result = haltRelease(deepFreeze(make()), 'boom', sec(10));
      expect(result).toMatchObject({ ok: true, changed: true, state: { phase, reason: expect.stringMatching(reason) } });
      expect(result.ok && result.effects.map((e) => e.type)).toEqual(effects);
    });

    it('with automatic rollback off it fails the release, which abort then ends', () => {
      const running = run(initialReleaseState(gatePlan(false), 'alice'), [[{ type: 'start' }, sec(0)]]).state;
      const halted = haltRelease(running, 'boom', sec(1));
      expect(halted).toMatchObject({ ok: true, state: { phase: 'failed', reason: 'boom; automatic rollback is off: roll back or abort' } });
      expect(halted.ok && accept(halted.state, { type: 'abort', ...alice }, sec(2)).state.phase).toBe('aborted');
    });

    it('transitionOrHalt: a throw of the machine becomes a halt, with the error in the reason', () => {
      // Written by hand: the plan has three steps, the state records one, so entering step 1 throws.
      const corrupt = { ...initialReleaseState(timedPlan, 'alice'), steps: initialReleaseState(timedPlan, 'alice').steps.slice(0, 1) };
      expect(() => transition(corrupt, { type: 'start' }, sec(0))).toThrow(TypeError);
      const result = transitionOrHalt(corrupt, { type: 'start' }, sec(0));
      expect(result).toMatchObject({
        ok: true,
        halted: expect.any(TypeError),
        state: { phase: 'aborted', reason: expect.stringMatching(/^not started: the release cannot go on: its start event failed \(/) },
      });
      expect(transitionOrHalt(inPhase.progressing(), { type: 'pause', ...alice }, sec(1))).toMatchObject({ ok: true, state: { phase: 'paused' } });
      expect(transitionOrHalt(inPhase.progressing(), { type: 'pause', ...alice }, sec(1))).not.toHaveProperty('halted');
    });

    it('leaves an ended release as it is', () => {
      const ended = inPhase.succeeded();
      expect(haltRelease(ended, 'boom', sec(1))).toEqual({ ok: true, changed: false, state: ended, effects: [] });
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { StepSpec } from '../plan/plan-spec.ts';
import { validatePlan } from '../plan/validate-plan.ts';
import { initialReleaseState, nextWakeAt, pendingDeployment, type ReleaseEvent, type ReleaseState } from './release-state.ts';
import { DEPLOY_DEADLINE_MS, DEPLOY_LEASE_MS, transition, transitionOrHalt, type TransitionContext } from './transition.ts';

/** A fake clock: tests move time by hand. */
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const sec = (s: number) => T0 + s * 1000;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const alice = { actorId: 'alice' };

function plan(steps: StepSpec[], automatic = true) {
  const result = validatePlan({ strategy: 'canary', steps, rollback: { automatic } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}
const canary = plan([
  { type: 'setWeight', weight: 10 },
  { type: 'pause', duration: '60s' },
  { type: 'setWeight', weight: 100 },
]);

/** A release on an environment with a deployer: blue live with the previous release, green idle. */
function slotted(p = canary, previous: string | null = 'prev-release'): ReleaseState {
  return {
    ...initialReleaseState(p, 'ci'),
    subject: { digest: DIGEST, environmentId: 'env', planVersion: 1 },
    slots: { live: 'blue', idle: 'green', previousReleaseId: previous, previousDigest: previous ? OTHER : null, keepPreviousForMs: 3_600_000 },
    deployment: pendingDeployment(),
  };
}

function run(state: ReleaseState, events: Array<[ReleaseEvent, number, TransitionContext?]>) {
  const effects = [];
  for (const [event, now, context] of events) {
    const result = transition(state, event, now, context);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.reason}`);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const ready = (attempt = 1, digest: string | null = DIGEST): ReleaseEvent => ({
  type: 'deploy-verdict',
  attempt,
  outcome: 'ready',
  digest,
  evidence: { ok: 1 },
});

describe('a release with a deployer deploys to the idle slot before any traffic moves', () => {
  it('starts with one deploy effect and no router effect, and waits', () => {
    const { state, effects } = run(slotted(), [[{ type: 'start' }, sec(0)]]);
    expect(effects).toEqual([{ type: 'deploy', slot: 'green', digest: DIGEST, attempt: 1, deadline: new Date(sec(0) + DEPLOY_DEADLINE_MS).toISOString() }]);
    expect(state.phase).toBe('progressing');
    expect(state.steps[0]!.status).toBe('pending');
    expect(state.deployment).toMatchObject({ status: 'running', attempt: 1, thenStep: 0 });
    expect(nextWakeAt(state)).toBe(new Date(sec(0) + DEPLOY_LEASE_MS).toISOString());
  });

  it('shifts traffic once the deployer says ready with the digest asked; success makes the idle slot live, 100/0, with no redeploy', () => {
    const { state, effects } = run(slotted(), [
      [{ type: 'start' }, sec(0)],
      [ready(), sec(5)],
      [{ type: 'timer' }, sec(70)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy', 'set-weight', 'promote']);
    expect(state.phase).toBe('succeeded');
    expect(state.canaryWeight).toBe(100);
    expect(state.deployment).toMatchObject({ status: 'ready', digest: DIGEST, evidence: { ok: 1 } });
    expect(state.slots!.keepPreviousUntil).toBe(new Date(sec(70) + 3_600_000).toISOString());
  });

  it('a verdict for an earlier attempt, or a second verdict, changes nothing', () => {
    const started = run(slotted(), [[{ type: 'start' }, sec(0)]]).state;
    const stale = transition(started, ready(0), sec(1));
    expect(stale.ok && stale.changed).toBe(false);
    const once = run(started, [[ready(), sec(2)]]).state;
    const again = transition(once, { type: 'deploy-verdict', attempt: 1, outcome: 'failed', reason: 'late' }, sec(3));
    expect(again.ok && again.changed).toBe(false);
  });

  it.each([
    [
      'a failed deploy',
      { type: 'deploy-verdict', attempt: 1, outcome: 'failed', reason: 'exit 3: image not found' } as ReleaseEvent,
      /failed: exit 3: image not found/,
    ],
    ['another digest than asked', ready(1, OTHER), new RegExp(`reports ${OTHER} on slot green, not ${DIGEST}`)],
    ['no digest', ready(1, null), /reports no digest on slot green/],
  ])('%s ends the release with the reason and moves no traffic', (_name, verdict, reason) => {
    const { state, effects } = run(slotted(), [
      [{ type: 'start' }, sec(0)],
      [verdict, sec(5)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy']);
    expect(state.phase).toBe('rolled-back');
    expect(state.reason).toMatch(reason);
    expect(state.deployment!.status).toBe('failed');
    expect(state.canaryWeight).toBe(0);
    expect(nextWakeAt(state)).toBeNull();
  });

  it('with automatic rollback off a failed deploy fails the release; retry deploys again under a new attempt', () => {
    const failed = run(slotted(plan([{ type: 'setWeight', weight: 100 }], false)), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'deploy-verdict', attempt: 1, outcome: 'failed', reason: 'boom' }, sec(5)],
    ]).state;
    expect(failed.phase).toBe('failed');
    const { state, effects } = run(failed, [
      [{ type: 'retry', fromStep: 0, ...alice }, sec(10)],
      [ready(2), sec(20)],
    ]);
    expect(effects).toEqual([expect.objectContaining({ type: 'deploy', attempt: 2 }), { type: 'promote' }]);
    expect(state.phase).toBe('succeeded');
  });

  it("retry of a release with slots that ended (rolled back, aborted) is refused: its slot may be another release's by now", () => {
    const ended = run(slotted(), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'deploy-verdict', attempt: 1, outcome: 'failed', reason: 'boom' }, sec(5)],
    ]).state;
    expect(ended.phase).toBe('rolled-back');
    expect(transition(ended, { type: 'retry', fromStep: 0, ...alice }, sec(6))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/start a new release/),
    });
  });

  it('a deployer that never answers: asked again each lease with the same attempt, then failed at the deadline', () => {
    let state = run(slotted(), [[{ type: 'start' }, sec(0)]]).state;
    const lease = run(state, [[{ type: 'timer' }, sec(0) + DEPLOY_LEASE_MS]]);
    expect(lease.effects).toEqual([expect.objectContaining({ type: 'deploy', attempt: 1 })]);
    state = lease.state;
    const end = run(state, [[{ type: 'timer' }, sec(0) + DEPLOY_DEADLINE_MS]]);
    expect(end.effects).toEqual([]);
    expect(end.state.phase).toBe('rolled-back');
    expect(end.state.reason).toMatch(/did not finish by/);
  });

  it('promote waits for the deploy; abort or rollback while deploying moves no traffic', () => {
    const started = run(slotted(), [[{ type: 'start' }, sec(0)]]).state;
    const promote = transition(started, { type: 'promote', ...alice }, sec(1));
    expect(promote).toMatchObject({ ok: false, reason: expect.stringMatching(/not on slot green yet/) });
    for (const type of ['abort', 'rollback'] as const) {
      const r = transition(started, { type, ...alice }, sec(1));
      expect(r.ok && r.effects).toEqual([]);
      expect(r.ok && r.state.deployment!.status).toBe('failed');
    }
  });

  it('paused while deploying: the verdict is kept and resume goes on to the first step', () => {
    const { state, effects } = run(slotted(), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'pause', ...alice }, sec(1)],
      [ready(), sec(2)],
      [{ type: 'resume', ...alice }, sec(3)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy', 'set-weight']);
    expect(state.steps[0]!.status).toBe('succeeded');
  });

  it('without a deployer nothing changes: the first step runs at start', () => {
    const { effects } = run(initialReleaseState(canary, 'ci'), [[{ type: 'start' }, sec(0)]]);
    expect(effects).toEqual([{ type: 'set-weight', weight: 10 }]);
  });
});

describe('rollback after success switches traffic back to the previous slot while it is kept', () => {
  const succeeded = () =>
    run(slotted(plan([{ type: 'setWeight', weight: 100 }])), [
      [{ type: 'start' }, sec(0)],
      [ready(), sec(5)],
    ]).state;

  it('one absolute router effect, recorded with who and why', () => {
    const s = succeeded();
    expect(s.phase).toBe('succeeded');
    const r = transition(s, { type: 'rollback', actorId: 'alice', reason: 'checkout errors' }, sec(60), { previousOnIdle: true });
    expect(r).toMatchObject({ ok: true, effects: [{ type: 'rollback' }] });
    expect(r.ok && r.state).toMatchObject({
      phase: 'rolled-back',
      reason: 'checkout errors',
      canaryWeight: 0,
      switchedBack: { by: 'alice', reason: 'checkout errors' },
    });
    const retry = r.ok && transition(r.state, { type: 'retry', fromStep: 0, ...alice }, sec(61));
    expect(retry).toMatchObject({ ok: false, reason: expect.stringMatching(/start a new release/) });
  });

  it.each([
    ['after the keep window', sec(5) + 3_600_000, { previousOnIdle: true }, /kept on slot blue only until/],
    ['when a later release deployed there', sec(60), { previousOnIdle: false }, /no longer holds the previous version/],
    ['when nobody said whether the slot is intact', sec(60), {}, /no longer holds/],
  ])('is refused %s', (_name, now, context, reason) => {
    expect(transition(succeeded(), { type: 'rollback', ...alice }, now, context)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('is refused for an environment first release and for a release without slots', () => {
    const first = run(slotted(plan([{ type: 'setWeight', weight: 100 }]), null), [
      [{ type: 'start' }, sec(0)],
      [ready(), sec(5)],
    ]).state;
    expect(transition(first, { type: 'rollback', ...alice }, sec(6), { previousOnIdle: true })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/first release/),
    });
    const plain = run(initialReleaseState(plan([{ type: 'setWeight', weight: 100 }]), 'ci'), [[{ type: 'start' }, sec(0)]]).state;
    expect(plain.phase).toBe('succeeded');
    expect(transitionOrHalt(plain, { type: 'rollback', ...alice }, sec(1), { previousOnIdle: true })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/cannot rollback a release that is succeeded: .*no slots that alternate/),
    });
  });
});

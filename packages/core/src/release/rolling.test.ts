import { describe, expect, it } from 'vitest';
import { validatePlan } from '../plan/validate-plan.ts';
import { initialReleaseState, nextWakeAt, type Effect, type ReleaseEvent, type ReleaseState } from './release-state.ts';
import { initialRollingState, rollingBatchCounts, type RollingArtifact } from './rolling.ts';
import { transition } from './transition.ts';

/** A fake clock: tests move time by hand. */
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const sec = (s: number) => T0 + s * 1000;
const NEW = `sha256:${'a'.repeat(64)}`;
const OLD = `sha256:${'b'.repeat(64)}`;
const ELSE = `sha256:${'e'.repeat(64)}`;
const old: RollingArtifact = { digest: OLD, version: '1.0.0' };
const alice = { actorId: 'alice' };

function plan(spec: Record<string, unknown>) {
  const result = validatePlan({ strategy: 'rolling', ...spec });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}
const smoke = { type: 'smoke', checks: [{ path: '/health' }] };
const threeBatches = plan({ batches: [25, 50, 100], check: smoke });

/** A release on instances web-1…web-n, each running the previous version unless told otherwise. */
function rolling(p = threeBatches, n = 3, previous: (name: string) => RollingArtifact | null = () => old): ReleaseState {
  const instances = Array.from({ length: n }, (_, i) => ({ name: `web-${i + 1}`, previous: previous(`web-${i + 1}`) }));
  const made = initialRollingState(p, { digest: NEW, version: '2.0.0' }, instances);
  if (!made.ok) throw new Error(made.problem);
  return { ...initialReleaseState(p, 'ci'), subject: { digest: NEW, environmentId: 'env', planVersion: 1 }, rolling: made.rolling };
}

/** Runs events; every router effect must leave at least one instance in rotation. */
function run(state: ReleaseState, events: Array<[ReleaseEvent, number]>) {
  const effects: Effect[] = [];
  for (const [event, now] of events) {
    const result = transition(state, event, now);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.reason}`);
    state = result.state;
    for (const effect of result.effects) {
      if (effect.type === 'set-instance-weights')
        expect(
          Object.values(effect.weights).some((w) => w > 0),
          JSON.stringify(effect),
        ).toBe(true);
      expect(['set-weight', 'promote', 'rollback']).not.toContain(effect.type);
    }
    effects.push(...result.effects);
  }
  return { state, effects };
}

const ready = (instance: string, attempt = 1, digest: string | null = NEW): ReleaseEvent => ({
  type: 'instance-verdict',
  instance,
  attempt,
  outcome: 'ready',
  digest,
  evidence: { ok: instance },
});
const failed = (instance: string, reason: string, attempt = 1): ReleaseEvent => ({ type: 'instance-verdict', instance, attempt, outcome: 'failed', reason });
const pass = (state: ReleaseState): ReleaseEvent => ({
  type: 'gate-verdict',
  stepIndex: state.stepIndex,
  attempt: state.steps[state.stepIndex]!.attempt,
  outcome: 'pass',
});
const fail = (state: ReleaseState, summary: string): ReleaseEvent => ({
  type: 'gate-verdict',
  stepIndex: state.stepIndex,
  attempt: state.steps[state.stepIndex]!.attempt,
  outcome: 'fail',
  summary,
});
const weights = (w1: number, w2: number, w3: number) => ({ type: 'set-instance-weights', weights: { 'web-1': w1, 'web-2': w2, 'web-3': w3 } });
const deploy = (instance: string, attempt: number, digest = NEW) => expect.objectContaining({ type: 'deploy-instance', instance, attempt, digest });
const digests = (state: ReleaseState) => state.rolling!.instances.map((i) => i.digest);

/** Through batches 1 and 2 (their checks passed), and batch 3's deploy asked. */
function throughTwoBatches() {
  let { state } = run(rolling(), [
    [{ type: 'start' }, sec(0)],
    [ready('web-1'), sec(1)],
  ]);
  ({ state } = run(state, [[pass(state), sec(2)]]));
  ({ state } = run(state, [[ready('web-2'), sec(3)]]));
  return run(state, [[pass(state), sec(4)]]).state;
}

describe('batches of instances', () => {
  it.each([
    [3, [25, 50, 100], [1, 2, 3]],
    [4, [25, 50, 100], [1, 2, 4]],
    [10, [10, 50, 100], [1, 5, 10]],
    [2, [10, 20, 100], [1, 1, 2]],
    // No batch before the last takes every instance: at most all but one.
    [3, [90, 100], [2, 3]],
    [2, [100, 100], [1, 2]],
  ])('%i instances, batches %j: cumulative counts %j', (count, percents, counts) => {
    expect(rollingBatchCounts(count, percents)).toEqual({ ok: true, counts });
  });

  it.each([
    [3, [100], /at least two batches/],
    [1, [50, 100], /at least 2 instances/],
  ])('%i instances, batches %j: refused', (count, percents, problem) => {
    const result = rollingBatchCounts(count, percents);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(problem);
  });
});

describe('a rolling release replaces instances batch by batch', () => {
  it('drains the first batch and deploys to it, and nothing else moves; the lease is the next wake-up', () => {
    const { state, effects } = run(rolling(), [[{ type: 'start' }, sec(0)]]);
    expect(effects).toEqual([weights(0, 100, 100), deploy('web-1', 1)]);
    expect(state.steps[0]).toMatchObject({ status: 'running' });
    expect(state.rolling!.batch).toBe(0);
    expect(nextWakeAt(state)).toBe(new Date(sec(120)).toISOString());
  });

  it('puts each batch back once ready, runs the check between batches, and succeeds with every instance on the new digest', () => {
    const before = throughTwoBatches();
    expect(digests(before)).toEqual([NEW, NEW, OLD]);
    expect(before.canaryWeight).toBe(67);
    let { state, effects } = run(before, [[ready('web-3'), sec(5)]]);
    expect(effects).toEqual([weights(100, 100, 100), expect.objectContaining({ type: 'run-gate', gate: 'smoke' })]);
    ({ state, effects } = run(state, [[pass(state), sec(6)]]));
    expect(state.phase).toBe('succeeded');
    expect(effects).toEqual([]);
    expect(state.canaryWeight).toBe(100);
    expect(digests(state)).toEqual([NEW, NEW, NEW]);
    expect(state.rolling!.instances.every((i) => i.inRotation && i.deploy?.attempt === 1)).toBe(true);
    expect(state.steps[0]!.evidence).toMatchObject({ batch: 1, of: 3, instances: [{ instance: 'web-1', digest: NEW, status: 'ready' }] });
  });

  it('the whole run asks each instance for one deploy only', () => {
    const started = run(rolling(), [[{ type: 'start' }, sec(0)]]);
    let state = started.state;
    const all = [...started.effects];
    for (const [i, name] of ['web-1', 'web-2', 'web-3'].entries()) {
      const r = run(state, [[ready(name), sec(10 * i + 1)]]);
      const p = run(r.state, [[pass(r.state), sec(10 * i + 2)]]);
      all.push(...r.effects, ...p.effects);
      state = p.state;
    }
    expect(state.phase).toBe('succeeded');
    expect(all.filter((e) => e.type === 'deploy-instance').map((e) => (e as { instance: string }).instance)).toEqual(['web-1', 'web-2', 'web-3']);
  });

  it('a verdict for an earlier attempt, another instance, or a second verdict changes nothing', () => {
    const started = run(rolling(), [[{ type: 'start' }, sec(0)]]).state;
    for (const stale of [ready('web-1', 0), ready('web-2'), ready('web-9')]) {
      const r = transition(started, stale, sec(1));
      expect(r.ok && r.changed).toBe(false);
    }
    const once = run(started, [[ready('web-1'), sec(2)]]).state;
    const again = transition(once, failed('web-1', 'late'), sec(3));
    expect(again.ok && again.changed).toBe(false);
  });

  it('a batch of 2 waits for both deploys and puts them back together', () => {
    const p = plan({ batches: [50, 100] });
    let { state, effects } = run(rolling(p, 4), [[{ type: 'start' }, sec(0)]]);
    expect(effects).toEqual([
      { type: 'set-instance-weights', weights: { 'web-1': 0, 'web-2': 0, 'web-3': 100, 'web-4': 100 } },
      deploy('web-1', 1),
      deploy('web-2', 1),
    ]);
    ({ state, effects } = run(state, [[ready('web-2'), sec(1)]]));
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, [[ready('web-1'), sec(2)]]));
    // Batch 1 back and batch 2 out, in one absolute router call.
    expect(effects).toEqual([
      { type: 'set-instance-weights', weights: { 'web-1': 100, 'web-2': 100, 'web-3': 0, 'web-4': 0 } },
      deploy('web-3', 1),
      deploy('web-4', 1),
    ]);
  });

  it('a deployer that never answers is asked again for the same deployment after the lease, and fails the batch at the deadline', () => {
    const started = run(rolling(), [[{ type: 'start' }, sec(0)]]).state;
    const leased = run(started, [[{ type: 'timer' }, sec(121)]]);
    expect(leased.effects).toEqual([deploy('web-1', 1)]);
    const late = run(leased.state, [[{ type: 'timer' }, sec(3601)]]);
    expect(late.state.reason).toMatch(/batch 1 of 3: the deploy to instance web-1 did not finish by 2026-12-01T11:00:00.000Z/);
    // Rolled back: web-1 deployed back to the old digest while web-2 and web-3 serve.
    expect(late.effects).toEqual([weights(0, 100, 100), deploy('web-1', 2, OLD)]);
  });

  it('paused during a batch, the batch still comes back into rotation; resume goes on to the next one', () => {
    let { state, effects } = run(rolling(plan({ batches: [25, 50, 100] })), [
      [{ type: 'start' }, sec(0)],
      [{ type: 'pause', ...alice }, sec(1)],
      [ready('web-1'), sec(2)],
    ]);
    expect(state.phase).toBe('paused');
    expect(effects.at(-1)).toEqual(weights(100, 100, 100));
    ({ state, effects } = run(state, [[{ type: 'resume', ...alice }, sec(3)]]));
    expect(effects).toEqual([weights(100, 0, 100), deploy('web-2', 1)]);
  });

  it('an approval step first (a protected environment) holds every batch until approved', () => {
    const p = plan({ batches: [50, 100] });
    const gated = { ...p, steps: [{ type: 'approval' as const, group: null, count: 1, expiresAfterMs: null }, ...p.steps] };
    const base = rolling(gated);
    let { state, effects } = run(base, [[{ type: 'start' }, sec(0)]]);
    expect(state.phase).toBe('awaiting-approval');
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, [[{ type: 'approve', actorId: 'bob' }, sec(1)]]));
    expect(effects).toEqual([weights(0, 0, 100), deploy('web-1', 1), deploy('web-2', 1)]);
  });

  it('promote is refused: batches cannot be skipped', () => {
    const started = run(rolling(), [[{ type: 'start' }, sec(0)]]).state;
    const r = transition(started, { type: 'promote', ...alice }, sec(1));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/cannot skip batches/);
  });
});

describe('a rolling release that fails puts the replaced instances back on the previous version', () => {
  it.each([
    ['a failed deploy', failed('web-2', 'exit 3: image not found'), /batch 2 of 3: the deploy to instance web-2 failed: exit 3: image not found/],
    ['another digest', ready('web-2', 1, ELSE), new RegExp(`web-2 reports ${ELSE}, not ${NEW} as asked`)],
    ['no digest', ready('web-2', 1, null), /web-2 reports no digest/],
  ])('%s in batch 2: batches 1–2 out at once while web-3 serves, deployed back, then back in rotation', (_name, verdict, reason) => {
    let { state } = run(rolling(), [
      [{ type: 'start' }, sec(0)],
      [ready('web-1'), sec(1)],
    ]);
    let effects: Effect[];
    ({ state, effects } = run(state, [
      [pass(state), sec(2)],
      [verdict, sec(3)],
    ]));
    expect(effects.slice(-3)).toEqual([weights(0, 0, 100), deploy('web-1', 2, OLD), deploy('web-2', 2, OLD)]);
    expect(state.phase).toBe('progressing');
    expect(state.reason).toMatch(/^rolling back: automatic rollback: /);
    expect(state.steps[2]!.status).toBe('failed');
    // Nothing but abort while it rolls back.
    for (const control of ['pause', 'rollback', 'promote'] as const) expect(transition(state, { type: control, ...alice }, sec(4)).ok).toBe(false);
    ({ state, effects } = run(state, [[ready('web-2', 2, OLD), sec(5)]]));
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, [[ready('web-1', 2, OLD), sec(6)]]));
    expect(effects).toEqual([weights(100, 100, 100)]);
    expect(state.phase).toBe('rolled-back');
    expect(state.reason).toMatch(reason);
    expect(state.reason).not.toMatch(/not put back/);
    expect(digests(state)).toEqual([OLD, OLD, OLD]);
    expect(state.canaryWeight).toBe(0);
    expect(nextWakeAt(state)).toBeNull();
  });

  it('a check failing after the last batch puts the instances back one batch at a time, newest first, never all out', () => {
    const before = throughTwoBatches();
    let { state } = run(before, [[ready('web-3'), sec(5)]]);
    let effects: Effect[];
    ({ state, effects } = run(state, [[fail(state, 'smoke: /health answered 500'), sec(6)]]));
    expect(effects).toEqual([weights(100, 100, 0), deploy('web-3', 2, OLD)]);
    ({ state, effects } = run(state, [[ready('web-3', 2, OLD), sec(7)]]));
    expect(effects).toEqual([weights(100, 0, 100), deploy('web-2', 2, OLD)]);
    ({ state, effects } = run(state, [[ready('web-2', 2, OLD), sec(8)]]));
    expect(effects).toEqual([weights(0, 100, 100), deploy('web-1', 2, OLD)]);
    ({ state, effects } = run(state, [[ready('web-1', 2, OLD), sec(9)]]));
    expect(effects).toEqual([weights(100, 100, 100)]);
    expect(state).toMatchObject({ phase: 'rolled-back', reason: 'automatic rollback: smoke: /health answered 500' });
    expect(digests(state)).toEqual([OLD, OLD, OLD]);
  });

  it('a deploy of the batch still under way is waited for before the instance is deployed back', () => {
    const p = plan({ batches: [50, 100] });
    let { state } = run(rolling(p, 4), [
      [{ type: 'start' }, sec(0)],
      [failed('web-1', 'health check never passed'), sec(1)],
    ]);
    let effects: Effect[];
    expect(state.rolling!.instances[1]!.deploy).toMatchObject({ direction: 'forward', status: 'running' });
    ({ state, effects } = run(state, [[ready('web-2'), sec(2)]]));
    expect(effects).toEqual([deploy('web-2', 2, OLD)]);
    ({ state, effects } = run(state, [[ready('web-2', 2, OLD), sec(3)]]));
    expect(effects).toEqual([]);
    expect(state.phase).toBe('progressing');
  });

  it('an instance whose deploy back fails, or whose previous version is unknown, is left out of rotation, saying why', () => {
    const p = plan({ batches: [67, 100] });
    let { state } = run(
      rolling(p, 3, (name) => (name === 'web-2' ? null : old)),
      [
        [{ type: 'start' }, sec(0)],
        [ready('web-1'), sec(1)],
      ],
    );
    let effects: Effect[];
    ({ state, effects } = run(state, [[failed('web-2', 'boom'), sec(2)]]));
    expect(effects).toEqual([weights(0, 0, 100), deploy('web-1', 2, OLD)]);
    ({ state, effects } = run(state, [[failed('web-1', 'registry down', 2), sec(3)]]));
    expect(effects).toEqual([weights(0, 0, 100)]);
    expect(state.phase).toBe('rolled-back');
    expect(state.reason).toMatch(
      /not put back: web-2 \(left out of rotation: the version it ran before is not known\); web-1 \(left out of rotation: the deploy back to .* failed: registry down\)/,
    );
  });

  it('rollback by a person puts back what was replaced; abort during the rollback leaves the instances as they are', () => {
    const started = run(rolling(), [
      [{ type: 'start' }, sec(0)],
      [ready('web-1'), sec(1)],
    ]).state;
    let { state, effects } = run(started, [[{ type: 'rollback', ...alice, reason: 'errors' }, sec(2)]]);
    expect(effects).toEqual([weights(0, 100, 100), deploy('web-1', 2, OLD)]);
    ({ state, effects } = run(state, [[{ type: 'abort', ...alice, reason: 'leave it' }, sec(3)]]));
    expect(effects).toEqual([]);
    expect(state).toMatchObject({ phase: 'aborted', reason: 'leave it' });
    // Its verdict still says what the instance runs.
    ({ state } = run(state, [[ready('web-1', 2, OLD), sec(4)]]));
    expect(digests(state)).toEqual([OLD, OLD, OLD]);
  });

  it('with automatic rollback off it fails; a retry deploys only the instances not on the new digest, under new attempts', () => {
    const p = plan({ batches: [67, 100], rollback: { automatic: false } });
    let { state } = run(rolling(p), [
      [{ type: 'start' }, sec(0)],
      [ready('web-1'), sec(1)],
      [failed('web-2', 'boom'), sec(2)],
    ]);
    expect(state.phase).toBe('failed');
    let effects: Effect[];
    ({ state, effects } = run(state, [[{ type: 'retry', fromStep: 0, ...alice }, sec(3)]]));
    expect(effects).toEqual([weights(100, 0, 100), deploy('web-2', 2)]);
    ({ state, effects } = run(state, [[ready('web-2', 2), sec(4)]]));
    expect(effects).toEqual([weights(100, 100, 0), deploy('web-3', 1)]);
    const retried = transition(state, { type: 'retry', fromStep: 0, ...alice }, sec(5));
    expect(retried.ok).toBe(false);
  });
});

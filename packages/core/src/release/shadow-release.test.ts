import { describe, expect, it } from 'vitest';
import { validatePlan } from '../plan/validate-plan.ts';
import { initialReleaseState, pendingDeployment, type ReleaseEvent, type ReleaseState } from './release-state.ts';
import { mirrorSessionId, SHADOW_REFUSALS } from './shadow-release.ts';
import { transition } from './transition.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const sec = (s: number) => T0 + s * 1000;
const DIGEST = `sha256:${'a'.repeat(64)}`;

function shadowPlan(extra: Record<string, unknown> = {}) {
  const result = validatePlan({ strategy: 'shadow', mirror: { url: 'http://127.0.0.1:9400' }, analysis: { interval: '1s', maxDuration: '1m' }, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/** A shadow release on an environment with slots: blue live, the shadow deployed to green. */
function shadowRelease(extra: Record<string, unknown> = {}): ReleaseState {
  return {
    ...initialReleaseState(shadowPlan(extra), 'ci'),
    subject: { digest: DIGEST, environmentId: 'env', planVersion: 1 },
    slots: { live: 'blue', idle: 'green', previousReleaseId: 'prev', previousDigest: null, keepPreviousForMs: 3_600_000 },
    deployment: pendingDeployment(),
  };
}

function run(state: ReleaseState, events: Array<[ReleaseEvent, number]>) {
  const effects = [];
  for (const [event, now] of events) {
    const result = transition(state, event, now);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.reason}`);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}
const deployed: ReleaseEvent = { type: 'deploy-verdict', attempt: 1, outcome: 'ready', digest: DIGEST };
const verdict = (outcome: 'pass' | 'fail'): ReleaseEvent => ({ type: 'gate-verdict', stepIndex: 0, attempt: 1, outcome, evidence: { outcome } });

describe('a shadow release', () => {
  it('deploys to the idle slot, runs its shadow gate, and on a pass ends succeeded with no router call: the live slot serves throughout', () => {
    const { state, effects } = run(shadowRelease(), [
      [{ type: 'start' }, sec(0)],
      [deployed, sec(5)],
      [verdict('pass'), sec(30)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy', 'run-gate']);
    expect(effects[1]).toEqual({ type: 'run-gate', gate: 'shadow', stepIndex: 0, attempt: 1 });
    expect(state).toMatchObject({ phase: 'succeeded', canaryWeight: 0, reason: expect.stringMatching(/the shadow passed/) });
    expect(state.slots!.keepPreviousUntil).toBeUndefined();
  });

  it('on a fail rolls back: the only router call is the absolute "all to live" it already had', () => {
    const { state, effects } = run(shadowRelease(), [
      [{ type: 'start' }, sec(0)],
      [deployed, sec(5)],
      [verdict('fail'), sec(30)],
    ]);
    expect(state.phase).toBe('rolled-back');
    expect(effects.filter((e) => e.type !== 'deploy' && e.type !== 'run-gate')).toEqual([{ type: 'rollback' }]);
  });

  it('refuses promote, and a switch back after it passed', () => {
    const running = run(shadowRelease(), [
      [{ type: 'start' }, sec(0)],
      [deployed, sec(5)],
    ]).state;
    expect(transition(running, { type: 'promote', actorId: 'alice' }, sec(6))).toEqual({ ok: false, reason: SHADOW_REFUSALS.promote });
    const passed = run(running, [[verdict('pass'), sec(30)]]).state;
    expect(transition(passed, { type: 'rollback', actorId: 'alice' }, sec(40), { previousOnIdle: true })).toEqual({
      ok: false,
      reason: SHADOW_REFUSALS.switchBack,
    });
  });

  it('names one proxy session per step attempt', () => {
    expect(mirrorSessionId('r1', 0, 2)).toBe('r1:0:2');
  });
});

describe('shadow plans', () => {
  it('compile to one shadow step with the judge metrics and the defaults', () => {
    const plan = shadowPlan({ compare: { ignoreFields: ['timestamp', '$.meta.*'], tolerance: 2, latencyThresholdMs: 250 } });
    expect(plan.strategy).toBe('shadow');
    expect(plan.steps).toEqual([
      {
        type: 'shadow',
        mirrorUrl: 'http://127.0.0.1:9400',
        methods: ['GET', 'HEAD', 'OPTIONS'],
        ignoreFields: ['timestamp', '$.meta.*'],
        sampleRate: 1,
        baselineShare: 0.5,
        intervalMs: 1000,
        minDurationMs: 0,
        maxDurationMs: 60_000,
        alpha: 0.01,
        metrics: [
          { name: 'differences', kind: 'ratio', tolerance: 2, thresholdMs: null, direction: 'higher-is-worse' },
          { name: 'error-rate', kind: 'errors', tolerance: 1.5, thresholdMs: null },
          { name: 'latency', kind: 'latency', tolerance: 1.5, thresholdMs: 250 },
        ],
        onInconclusive: 'pause',
      },
    ]);
  });

  it.each([
    [{ mirror: undefined }, 'mirror', /must be an object/],
    [{ mirror: { url: 'ftp://x' } }, 'mirror.url', /must match/],
    [{ compare: { methods: ['GET', 'BREW'] } }, 'compare.methods[1]', /must be one of GET/],
    [{ compare: { methods: [] } }, 'compare.methods', /non-empty list/],
    [{ compare: { methods: ['POST', 'PUT'] } }, 'compare.methods', /must include a read \(GET, HEAD, OPTIONS\): .*measured on reads only/],
    [{ compare: { ignoreFields: ['$.a..b'] } }, 'compare.ignoreFields[0]', /cannot read/],
    [{ compare: { sampleRate: 0 } }, 'compare.sampleRate', /0.0001–1/],
    [{ compare: { baselineShare: 0 } }, 'compare.baselineShare', /0.01–1/],
    [{ compare: { tolerance: 0.5 } }, 'compare.tolerance', /1–100/],
    [{ compare: { latencyThresholdMs: 0 } }, 'compare.latencyThresholdMs', /1–60000/],
    [{ compare: { diff: true } }, 'compare.diff', /not a known field/],
    [{ analysis: { metrics: [] } }, 'analysis.metrics', /not a known field/],
    [{ analysis: { interval: '2m', maxDuration: '1m' } }, 'analysis.interval', /must not exceed maxDuration/],
    [{ watch: { duration: '1m' } }, 'watch', /promotes nothing/],
    [{ steps: [] }, 'steps', /not a known field/],
  ])('%j is refused, naming %s', (extra, path, message) => {
    const result = validatePlan({ strategy: 'shadow', mirror: { url: 'http://127.0.0.1:9400' }, ...extra });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('copies a non-idempotent method only when the plan names it', () => {
    expect(shadowPlan({ compare: { methods: ['GET', 'POST'] } }).steps[0]).toMatchObject({ methods: ['GET', 'POST'] });
  });
});

import { describe, expect, it } from 'vitest';
import { drillBlocker, drillDueAt, drillOutcome, drillReleaseState, DRILL_WEIGHT, type DrillSituation } from './drill.ts';
import type { ReleaseEvent, ReleaseState } from './release-state.ts';
import { transition } from './transition.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const sec = (s: number) => T0 + s * 1000;
const DIGEST = `sha256:${'a'.repeat(64)}`;

const drill = () =>
  drillReleaseState({
    drillId: 'd1',
    holdMs: 5000,
    requestedBy: 'system:drill',
    environmentId: 'env',
    planVersion: 1,
    liveRelease: { id: 'live-release', digest: DIGEST },
    slots: { live: 'blue', idle: 'green' },
    keepPreviousForMs: 3_600_000,
  });

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
const ready: ReleaseEvent = { type: 'deploy-verdict', attempt: 1, outcome: 'ready', digest: DIGEST };

describe('a drill rehearses a rollback through the release state machine', () => {
  it('deploys the live version to the idle slot, shifts the small weight, holds, then rolls back: never promotes', () => {
    const { state, effects } = run(drill(), [
      [{ type: 'start' }, sec(0)],
      [ready, sec(2)],
      [{ type: 'timer' }, sec(6)], // hold not over
      [{ type: 'timer' }, sec(7)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy', 'set-weight', 'rollback']);
    expect(effects[0]).toMatchObject({ slot: 'green', digest: DIGEST });
    expect(effects[1]).toEqual({ type: 'set-weight', weight: DRILL_WEIGHT });
    expect(state).toMatchObject({ phase: 'rolled-back', canaryWeight: 0, drill: { id: 'd1', rollbackDecidedAt: new Date(sec(7)).toISOString() } });
    expect(state.reason).toBe('drill: rolled back as rehearsed after 5% on slot green');
    expect(drillOutcome(state, { confirmedAt: sec(7) + 40, routerVerified: true }, 30_000)).toEqual({
      status: 'succeeded',
      reason: 'rolled back in 40 ms',
      timeToRollbackMs: 40,
      slow: false,
    });
    expect(drillOutcome(state, { confirmedAt: sec(7) + 40, routerVerified: 'unsupported' }, 10)).toMatchObject({ status: 'succeeded', slow: true });
    expect(drillOutcome(state, { confirmedAt: sec(7) + 40, routerVerified: false }, 30_000)).toMatchObject({
      status: 'failed',
      reason: 'the router still reports traffic on slot green after the rollback',
    });
  });

  it('refuses promote and retry, which would change the live slot or deploy again', () => {
    const { state } = run(drill(), [
      [{ type: 'start' }, sec(0)],
      [ready, sec(1)],
    ]);
    const promote = transition(state, { type: 'promote', actorId: 'alice' }, sec(2));
    expect(promote).toMatchObject({ ok: false, reason: expect.stringMatching(/a drill cannot be promoted.*slot blue live/) });
    const ended = run(state, [[{ type: 'abort', actorId: 'alice' }, sec(2)]]).state;
    expect(transition(ended, { type: 'retry', fromStep: 0, actorId: 'alice' }, sec(3))).toMatchObject({ ok: false });
  });

  it('a rollback by someone once the weight moved counts as the rehearsal; an abort does not', () => {
    const moved = run(drill(), [
      [{ type: 'start' }, sec(0)],
      [ready, sec(1)],
    ]).state;
    const rolled = run(moved, [[{ type: 'rollback', actorId: 'alice' }, sec(2)]]);
    expect(rolled.effects).toEqual([{ type: 'rollback' }]);
    expect(drillOutcome(rolled.state, { confirmedAt: sec(2) + 5, routerVerified: null }, 30_000)).toMatchObject({ status: 'succeeded', timeToRollbackMs: 5 });
    const aborted = run(moved, [[{ type: 'abort', actorId: 'alice', reason: 'not now' }, sec(2)]]).state;
    expect(drillOutcome(aborted, { confirmedAt: sec(2), routerVerified: null }, 30_000)).toEqual({
      status: 'failed',
      reason: 'not now',
      timeToRollbackMs: null,
      slow: false,
    });
  });

  it.each([
    ['a failed deploy', { type: 'deploy-verdict', attempt: 1, outcome: 'failed', reason: 'image not found' }, /deploy to slot green failed: image not found/],
    ['another digest', { type: 'deploy-verdict', attempt: 1, outcome: 'ready', digest: `sha256:${'e'.repeat(64)}` }, /reports sha256:e{64} on slot green/],
  ] as Array<[string, ReleaseEvent, RegExp]>)('%s fails the drill with the reason and moves no traffic', (_name, verdict, reason) => {
    const { state, effects } = run(drill(), [
      [{ type: 'start' }, sec(0)],
      [verdict, sec(1)],
      // A second answer for the same deploy changes nothing.
      [ready, sec(2)],
    ]);
    expect(effects.map((e) => e.type)).toEqual(['deploy']);
    expect(state.phase).toBe('rolled-back');
    const outcome = drillOutcome(state, { confirmedAt: sec(2), routerVerified: null }, 30_000);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(reason);
  });

  it('a deploy that never answers fails at its deadline', () => {
    const started = run(drill(), [[{ type: 'start' }, sec(0)]]).state;
    const late = run(started, [[{ type: 'timer' }, Date.parse(started.deployment!.deadline!)]]);
    expect(late.state.phase).toBe('rolled-back');
    expect(drillOutcome(late.state, { confirmedAt: sec(0), routerVerified: null }, 1).reason).toMatch(/did not finish by/);
  });
});

describe('drill schedule', () => {
  const schedule = { everyMs: 3_600_000, since: new Date(T0).toISOString() };
  it.each([
    [sec(0), null],
    [sec(3599), null],
    [sec(3600), sec(3600)],
    [sec(3600 * 5 + 10), sec(3600 * 5)], // down for hours: one drill for the latest due time
  ])('at %s the latest due time is %s', (now, due) => {
    expect(drillDueAt(schedule, now)).toBe(due);
  });
  it('a schedule with no valid start or interval is never due', () => {
    expect(drillDueAt({ everyMs: 0, since: schedule.since }, sec(10_000))).toBeNull();
    expect(drillDueAt({ everyMs: 1000, since: 'never' }, sec(10_000))).toBeNull();
  });
});

describe('whether a drill may start', () => {
  const free: DrillSituation = {
    environment: 'prod',
    hasDeployer: true,
    slots: { live: 'blue', idle: 'green' },
    liveRelease: { id: 'r1', version: '1.0.0', digest: DIGEST },
    activeRelease: null,
    gate: { open: true, reason: null, opensAt: null },
    kept: { releaseId: null, until: null },
    now: T0,
  };
  it.each<[string, Partial<DrillSituation>, RegExp | null]>([
    ['free', {}, null],
    ['no deployer', { hasDeployer: false, slots: null }, /no deployer and slots/],
    ['nothing live', { liveRelease: null }, /nothing has succeeded in prod/],
    ['a release in flight', { activeRelease: { id: 'r2', phase: 'paused', drill: false } }, /release r2 is paused in prod/],
    ['a drill in flight', { activeRelease: { id: 'r3', phase: 'progressing', drill: true } }, /a drill is under way/],
    ['frozen', { gate: { open: false, reason: 'frozen: holidays', opensAt: null } }, /closed for changes \(frozen: holidays\)/],
    ['previous kept', { kept: { releaseId: 'r0', until: new Date(T0 + 1000).toISOString() } }, /keeps the previous version \(release r0\)/],
    ['previous no longer kept', { kept: { releaseId: 'r0', until: new Date(T0).toISOString() } }, null],
  ])('%s', (_name, change, reason) => {
    const blocker = drillBlocker({ ...free, ...change });
    if (reason === null) expect(blocker).toBeNull();
    else expect(blocker).toMatch(reason);
  });
});

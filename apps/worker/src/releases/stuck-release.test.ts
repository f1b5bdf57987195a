import { randomUUID } from 'node:crypto';
import { initialReleaseState, validatePlan, type PlanSpec, type ReleaseEvent, type ReleaseState } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWorker } from '../testing/test-worker.ts';
import type { RunningWorker } from '../worker.ts';

/** "9999999999h" in ms: what the API accepted before plans were bounded; no date holds now + this. */
const HUGE_MS = 9_999_999_999 * 3_600_000;

let worker: RunningWorker;
let stop: () => Promise<void>;
let prisma: PrismaClient;
beforeAll(async () => {
  ({ worker, stop } = await startTestWorker());
  prisma = worker.prisma;
}, 60_000);
afterAll(() => stop());

async function environment(name: string) {
  const service = await prisma.service.create({ data: { id: randomUUID(), name: `svc-${name}`, owners: [] } });
  const env = await prisma.environment.create({
    data: {
      id: randomUUID(),
      serviceId: service.id,
      name,
      position: 0,
      requireUpstreamSuccess: false,
      target: { type: 'recording', config: { key: name } },
      policy: {},
    },
  });
  return { serviceId: service.id, environmentId: env.id, versions: 0 };
}

/**
 * A release written the way the API wrote it, but with whatever plan and state it is given: what the
 * database may hold from before plans were bounded. The start (or the given events) is queued in its
 * inbox and a reconcile enqueued, as the API does.
 */
async function insertRelease(
  where: Awaited<ReturnType<typeof environment>>,
  compiled: unknown,
  options: { state?: (initial: ReleaseState) => ReleaseState; events?: ReleaseEvent[] } = {},
) {
  const n = where.versions++;
  const artifact = await prisma.artifact.create({
    data: { id: randomUUID(), serviceId: where.serviceId, version: `1.0.${n}`, digest: `sha256:${randomUUID().replace(/-/g, '').padEnd(64, '0')}` },
  });
  const plan = await prisma.releasePlan.create({
    data: { id: randomUUID(), name: `plan-${randomUUID().slice(0, 8)}`, version: 1, spec: {}, compiled: compiled as object, createdBy: 'test' },
  });
  const requestedBy = 'token:ci';
  const initial = initialReleaseState(compiled as ReleaseState['plan'], requestedBy);
  const state = options.state ? options.state(initial) : initial;
  const release = await prisma.release.create({
    data: {
      id: randomUUID(),
      serviceId: where.serviceId,
      environmentId: where.environmentId,
      artifactId: artifact.id,
      planId: plan.id,
      phase: state.phase,
      stepIndex: state.stepIndex,
      state: state as object,
      version: 0,
      requestedBy,
    },
  });
  for (const event of options.events ?? [{ type: 'start' }]) {
    const inbox = await prisma.releaseInbox.create({ data: { releaseId: release.id, event: event as object, actorType: 'token', actorId: 'ci' } });
    await worker.jobs.reconcile(release.id, `inbox-${inbox.id}`);
  }
  return release.id;
}

function compile(spec: PlanSpec) {
  const result = validatePlan(spec);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}
const FAST = compile({
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight: 10 },
    { type: 'pause', duration: '200ms' },
    { type: 'setWeight', weight: 100 },
  ],
});

async function until(id: string, phases: string[]) {
  let row: { phase: string; reason: string | null } | null = null;
  await expect
    .poll(
      async () => {
        row = await prisma.release.findUnique({ where: { id }, select: { phase: true, reason: true } });
        return phases.includes(row?.phase ?? '');
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  return row!;
}

const effects = async (releaseId: string) => (await prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } })).map((r) => r.effect);

/** The environment is free: a new release there starts and succeeds. */
async function newReleaseSucceeds(where: Awaited<ReturnType<typeof environment>>) {
  const id = await insertRelease(where, FAST);
  expect(await until(id, ['succeeded', 'failed', 'rolled-back', 'aborted'])).toMatchObject({ phase: 'succeeded' });
}

/** Waiting at a manual pause, in front of `next`: started before the check at start existed. */
const pausedBefore = (next: unknown, automatic: boolean) => ({
  compiled: {
    strategy: 'canary',
    steps: [{ type: 'setWeight', weight: 10 }, { type: 'pause', durationMs: null }, next, { type: 'setWeight', weight: 100 }],
    rollback: { automatic },
  },
  state: (s: ReleaseState): ReleaseState => {
    const at = new Date().toISOString();
    return {
      ...s,
      phase: 'paused',
      stepIndex: 1,
      canaryWeight: 10,
      startedAt: at,
      reason: 'step 1 pauses until resumed',
      steps: s.steps.map((st, i) =>
        i === 0
          ? { ...st, status: 'succeeded', attempt: 1, startedAt: at, finishedAt: at }
          : i === 1
            ? { ...st, status: 'running', attempt: 1, startedAt: at }
            : st,
      ),
    };
  },
});

describe('a release whose plan no date can hold never blocks its environment', { timeout: 90_000 }, () => {
  it.each([
    ['9999999999h', HUGE_MS],
    ['1e300 s', 1e303],
  ])('a pending release pausing %s ends aborted at its start, with why, before any traffic moves', async (_name, durationMs) => {
    const where = await environment(`pending-${String(durationMs).length}`);
    const id = await insertRelease(where, {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 10 },
        { type: 'pause', durationMs },
        { type: 'setWeight', weight: 100 },
      ],
      rollback: { automatic: true },
    });
    const ended = await until(id, ['aborted', 'failed', 'rolled-back', 'succeeded']);
    expect(ended).toMatchObject({
      phase: 'aborted',
      reason: expect.stringMatching(/^not started, its plan cannot run: step 1 \(pause\) waits .*: beyond the 720h limit of any step/),
    });
    expect(await effects(id)).toEqual([]);
    expect((await prisma.releaseInbox.findMany({ where: { releaseId: id } })).map((i) => i.outcome)).toEqual(['applied']);
    await newReleaseSucceeds(where);
  });

  it('a release started before the bounds fails with why when it reaches the step; abort then ends it and frees the environment', async () => {
    const where = await environment('started');
    const stuck = pausedBefore({ type: 'approval', group: null, count: 1, expiresAfterMs: HUGE_MS }, false);
    const id = await insertRelease(where, stuck.compiled, { state: stuck.state, events: [{ type: 'resume', actorId: 'token:ci' }] });
    expect(await until(id, ['failed', 'rolled-back', 'aborted'])).toMatchObject({
      phase: 'failed',
      reason: expect.stringMatching(
        /^step 2 \(approval\) cannot run: it expires after 9999999999h: beyond the 720h limit of any step; automatic rollback is off/,
      ),
    });
    // Blocked until someone decides: a second release is refused by the database (one active release per environment).
    await expect(insertRelease(where, FAST)).rejects.toThrow(/release_one_active_per_environment|Unique constraint/);
    const abort = await prisma.releaseInbox.create({
      data: { releaseId: id, event: { type: 'abort', actorId: 'user:ops' }, actorType: 'user', actorId: 'ops' },
    });
    await worker.jobs.reconcile(id, `inbox-${abort.id}`);
    expect(await until(id, ['aborted'])).toMatchObject({ phase: 'aborted' });
    expect(await effects(id)).toEqual([{ type: 'rollback' }]);
    await newReleaseSucceeds(where);
  });

  it('an event that makes the state machine throw anyway stops the release with why, and the abort queued behind it still ends it', async () => {
    const where = await environment('corrupt');
    const stuck = pausedBefore({ type: 'pause', durationMs: 1000 }, false);
    const id = await insertRelease(where, stuck.compiled, {
      // Written by hand: the plan has four steps, the state records two, so entering step 2 throws.
      state: (s) => {
        const state = stuck.state(s);
        return { ...state, steps: state.steps.slice(0, 2) };
      },
      events: [
        { type: 'resume', actorId: 'token:ci' },
        { type: 'abort', actorId: 'user:ops' },
      ],
    });
    expect(await until(id, ['aborted', 'rolled-back'])).toMatchObject({ phase: 'aborted' });
    const history = await prisma.releaseTransition.findMany({ where: { releaseId: id }, orderBy: { version: 'asc' } });
    expect(history.map((t) => [(t.event as { type: string }).type, t.toPhase])).toEqual([
      ['resume', 'failed'],
      ['abort', 'aborted'],
    ]);
    expect((await prisma.releaseInbox.findMany({ where: { releaseId: id }, orderBy: { id: 'asc' } })).map((i) => i.outcome)).toEqual(['halted', 'applied']);
    const halted = await prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'release.halted' } });
    expect(halted.reason).toMatch(/^the release cannot go on: its resume event failed \(.+\); automatic rollback is off: roll back or abort$/);
    await newReleaseSucceeds(where);
  });

  it('no reconcile failed along the way: nothing retries in a loop', async () => {
    expect(await worker.jobs.queue.getFailedCount()).toBe(0);
    const failing = await worker.jobs.queue.getJobs(['delayed', 'wait', 'active']);
    expect(failing.filter((j) => j.attemptsMade > 0)).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { initialReleaseState, type ReleaseState } from '@glidepath/core';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

/** "9999999999h" in ms: a pause the API accepted before plans were bounded; no date holds now + this. */
const HUGE_MS = 9_999_999_999 * 3_600_000;

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess | undefined;
let versions = 0;

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'legacy' } }))).status).toBe(201);
  for (const [position, name] of ['dev', 'staging'].entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'legacy', name, position, requireUpstreamSuccess: false, target: { type: 'recording', config: { key: name } } },
      }),
    );
    expect(env.status).toBe(201);
  }
  const fast: Schemas['PlanSpec'] = {
    strategy: 'canary',
    steps: [
      { type: 'setWeight', weight: 10 },
      { type: 'pause', duration: '200ms' },
      { type: 'setWeight', weight: 100 },
    ],
  };
  expect((await reply(api.POST('/api/v1/plans', { body: { name: 'fast', spec: fast } }))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t.close();
});

async function artifact() {
  const version = `1.0.${versions++}`;
  expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'legacy', version, digest: digest(String(versions % 10)) } }))).status).toBe(201);
  return version;
}

/**
 * A release as the API wrote it before plans were bounded: its plan saved with a wait no date can
 * hold (validation is bypassed: it would refuse the plan now), its start queued in its inbox.
 */
async function storedRelease(environment: string, compiled: object, options: { state?: (s: ReleaseState) => ReleaseState; event?: object | null } = {}) {
  const env = await t.prisma.environment.findFirstOrThrow({ where: { name: environment, service: { name: 'legacy' } } });
  const version = await artifact();
  const art = await t.prisma.artifact.findFirstOrThrow({ where: { serviceId: env.serviceId, version } });
  const plan = await t.prisma.releasePlan.create({
    data: { id: randomUUID(), name: `legacy-${versions}`, version: 1, spec: { saved: 'before plans were bounded' }, compiled, createdBy: 'test' },
  });
  const initial = initialReleaseState(compiled as ReleaseState['plan'], 'token:test-admin');
  const state = options.state ? options.state(initial) : initial;
  const release = await t.prisma.release.create({
    data: {
      id: randomUUID(),
      serviceId: env.serviceId,
      environmentId: env.id,
      artifactId: art.id,
      planId: plan.id,
      phase: state.phase,
      stepIndex: state.stepIndex,
      state: state as object,
      version: 0,
      requestedBy: 'token:test-admin',
    },
  });
  if (options.event !== null)
    await t.prisma.releaseInbox.create({ data: { releaseId: release.id, event: options.event ?? { type: 'start' }, actorType: 'token', actorId: 'ci' } });
  return { id: release.id, plan: plan.name };
}

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 60_000, interval: 50 });

/** The environment is free: a new release there is created and succeeds. */
async function newReleaseSucceeds(environment: string) {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'legacy', environment, version: await artifact(), plan: 'fast' } }));
  expect(created.status).toBe(201);
  expect((await until(created.body.id, ['succeeded', 'failed', 'rolled-back', 'aborted'])).phase).toBe('succeeded');
}

const control = (id: string, name: 'abort' | 'resume' | 'pause', wait = 10_000) =>
  reply(api.POST(`/api/v1/releases/{id}/${name}`, { params: { path: { id }, query: { wait } }, body: { reason: 'the issue-12 release' } }));

// A worker process compiles its TypeScript at start: slow on a busy two-core machine.
describe('a release whose plan no date can hold never blocks its environment', { timeout: 120_000 }, () => {
  it('the plan can no longer be saved: 9999999999h and 1e300 s are refused naming the field', async () => {
    const save = (duration: string | number) =>
      reply(
        api.POST('/api/v1/plans', {
          body: {
            name: 'too-long',
            spec: {
              strategy: 'canary',
              steps: [
                { type: 'setWeight', weight: 10 },
                { type: 'pause', duration },
              ],
            },
          },
        }),
      );
    const hours = await save('9999999999h');
    expect(hours.status).toBe(422);
    expect(JSON.stringify(hours.body.error)).toContain('steps[1].duration: must be a duration from 0 to 720h');
    // A number past 2^53 never reaches the plan's validation: the API refuses it in any body.
    const seconds = await save(1e300);
    expect(seconds.status).toBe(400);
    expect(seconds.body.error!.details).toEqual([{ field: 'body.spec.steps.1.duration', problem: expect.any(String) }]);
  });

  it('one stored before the bounds: no 500 anywhere, the worker ends it aborted with why, and the environment is free', async () => {
    const stuck = await storedRelease('dev', {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 10 },
        { type: 'pause', durationMs: HUGE_MS },
        { type: 'setWeight', weight: 100 },
      ],
      rollback: { automatic: true },
    });
    // No worker yet: the start is still queued, and the API judges a control against the state after it.
    expect((await api.GET('/api/v1/releases/{id}', { params: { path: { id: stuck.id } } })).data?.phase).toBe('pending');
    const early = await control(stuck.id, 'abort', 0);
    // Was a 500 (the queued start threw a RangeError in the API). Abort is idempotent: the queued
    // start ends the release aborted, which is what was asked.
    expect(early.status).toBe(202);
    expect(early.body).toMatchObject({ accepted: true });
    // Starting another release with that stored plan is refused with why, before anything is written.
    const again = await reply(api.POST('/api/v1/releases', { body: { service: 'legacy', environment: 'dev', version: await artifact(), plan: stuck.plan } }));
    expect(again).toMatchObject({
      status: 409,
      body: {
        error: {
          message: `plan "${stuck.plan}" version 1 cannot run: step 1 (pause) waits 9999999999h: beyond the 720h limit of any step; save a new version within the limits`,
        },
      },
    });

    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
    const ended = await until(stuck.id, ['aborted', 'failed', 'rolled-back', 'succeeded']);
    expect(ended).toMatchObject({
      phase: 'aborted',
      canaryWeight: 0,
      reason: expect.stringMatching(/^not started, its plan cannot run: step 1 \(pause\) waits 9999999999h/),
    });
    await newReleaseSucceeds('dev');
  });

  it('one already running when the bounds came: resume fails it with why (not a 500), abort answers 200 and frees the environment', async () => {
    const at = new Date().toISOString();
    const stuck = await storedRelease(
      'staging',
      {
        strategy: 'canary',
        steps: [
          { type: 'setWeight', weight: 10 },
          { type: 'pause', durationMs: null },
          { type: 'pause', durationMs: HUGE_MS },
          { type: 'setWeight', weight: 100 },
        ],
        rollback: { automatic: false },
      },
      {
        event: null,
        // Paused at the open-ended pause, in front of the pause no date can hold.
        state: (s) => ({
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
        }),
      },
    );
    const resumed = await control(stuck.id, 'resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({
      release: {
        phase: 'failed',
        reason: expect.stringMatching(/^step 2 \(pause\) cannot run: it waits 9999999999h: beyond the 720h limit of any step; automatic rollback is off/),
      },
    });
    const aborted = await control(stuck.id, 'abort');
    expect(aborted).toMatchObject({ status: 200, body: { release: { phase: 'aborted', canaryWeight: 0 } } });
    await newReleaseSucceeds('staging');
  });
});

// The release engine on the real stack: HAProxy shifting real requests between two sample
// apps, Prometheus scraping them, Glidepath's API and worker as processes. In dev the router's
// stable and canary servers keep their parts (the test puts versions on them); prod has slots
// that alternate, and Glidepath deploys to them itself with the demo's deploy script.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGlidepath, type Glidepath } from './glidepath-process.ts';
import type { Schemas } from '@glidepath/client';
import { createApiClient, demoDigest, expectReply, type DemoClient } from './run-demo.ts';
import { startStack, type Stack } from './stack.ts';

// 2% against 10% (5x): at 0.5% against 2.5% the judge can reach its pass criteria before it has
// enough errors to fail, with this traffic; see the closing note of the judge.
const GOOD = { errorRate: 0.02, latencyMs: 15 };
const BAD = { errorRate: 0.1, latencyMs: 15 };
let stack: Stack;
let glidepath: Glidepath;
let api: DemoClient['api'];

beforeAll(async () => {
  stack = await startStack({
    environments: ['dev', 'prod'],
    service: 'shop',
    trafficRate: 200,
    slots: { dev: { stable: { version: '1.0.0', behaviour: GOOD }, canary: { version: '1.1.0', behaviour: GOOD } } },
    slotNames: { prod: ['blue', 'green'] },
    builds: ['1.1.0', '1.3.0'].map((version) => ({ version, digest: demoDigest(version), behaviour: GOOD })),
  });
  glidepath = await startGlidepath();
  api = createApiClient(glidepath.api, glidepath.token).api;
  await expectReply(api.POST('/api/v1/services', { body: { name: 'shop' } }), 'service');
  await expectReply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'shop',
        name: 'dev',
        position: 0,
        target: stack.haproxyTarget('dev') as Schemas['Environment']['target'],
        metrics: stack.prometheusMetrics(),
      },
    }),
    'environment',
  );
  await expectReply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'shop',
        name: 'prod',
        position: 1,
        requireUpstreamSuccess: false,
        target: stack.haproxyTarget('prod') as Schemas['Environment']['target'],
        metrics: stack.prometheusMetrics(),
        deployer: stack.commandDeployer('prod') as Schemas['Environment']['target'],
        slots: ['blue', 'green'],
      },
    }),
    'environment with slots',
  );
  const plans: Record<string, Schemas['PlanSpec']> = {
    stepwise: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 10 },
        { type: 'pause', duration: '10s' },
        { type: 'setWeight', weight: 50 },
        { type: 'pause', duration: '10s' },
        { type: 'setWeight', weight: 100 },
      ],
    },
    judged: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 25 },
        { type: 'analysis', interval: '2s', minDuration: '30s', maxDuration: '90s' },
        { type: 'setWeight', weight: 100 },
      ],
    },
  };
  for (const [name, spec] of Object.entries(plans)) await expectReply(api.POST('/api/v1/plans', { body: { name, spec } }), 'plan');
  for (const version of ['1.1.0', '1.2.0', '1.3.0', '9.9.9'])
    await expectReply(api.POST('/api/v1/artifacts', { body: { service: 'shop', version, digest: demoDigest(version) } }), 'artifact');
}, 180_000);

afterAll(async () => {
  await glidepath?.stop();
  await stack?.stop();
});

type Release = Schemas['ReleaseDetail'];
const get = async (id: string) => (await expectReply(api.GET('/api/v1/releases/{id}', { params: { path: { id } } }), 'release')).data;
const start = async (version: string, plan: string, environment = 'dev') =>
  (await expectReply(api.POST('/api/v1/releases', { body: { service: 'shop', environment, version, plan } }), 'release')).data.id;
const ended = (r: Release) => ['succeeded', 'rolled-back', 'failed', 'aborted'].includes(r.phase);

async function waitFor(id: string, ok: (r: Release) => boolean, timeoutMs: number): Promise<Release> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = await get(id);
    if (ok(release)) return release;
    if (Date.now() > deadline)
      throw new Error(`release ${id} did not get there: ${JSON.stringify(release).slice(0, 2000)}\n${glidepath.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A slot's share of real requests the apps served over `ms`, after HAProxy's round robin settles. */
async function observedShare(env: string, slot: string, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 2500));
  const before = await stack.appCounts(env);
  await new Promise((r) => setTimeout(r, ms));
  const after = await stack.appCounts(env);
  const delta = (s: string) => after.find((c) => c.slot === s)!.requests - before.find((c) => c.slot === s)!.requests;
  return delta(slot) / stack.slotNames(env).reduce((sum, s) => sum + delta(s), 0);
}
const observedCanaryShare = (ms: number) => observedShare('dev', 'canary', ms);

async function redeploy(stable: string, canary: string, canaryBehaviour: typeof GOOD) {
  await stack.redeploy('dev', 'stable', stable, GOOD);
  await stack.redeploy('dev', 'canary', canary, canaryBehaviour);
  await stack.setWeights('dev', { stable: 100, canary: 0 });
}

describe('on the real stack', () => {
  it('promotes a good canary step by step, the split of real requests following the weights', { timeout: 120_000 }, async () => {
    const id = await start('1.1.0', 'stepwise');
    await waitFor(id, (r) => r.stepIndex === 1, 20_000);
    expect(await observedCanaryShare(4000)).toBeCloseTo(0.1, 1);
    await waitFor(id, (r) => r.stepIndex === 3, 20_000);
    expect(await observedCanaryShare(4000)).toBeCloseTo(0.5, 1);
    await waitFor(id, (r) => r.phase === 'succeeded', 20_000);
    expect(await stack.getWeights('dev')).toEqual({ stable: 0, canary: 100 });
    expect(await observedCanaryShare(2000)).toBe(1);
  });

  it('rolls back a canary with 5x the baseline error rate by itself, with the evidence stored', { timeout: 150_000 }, async () => {
    await redeploy('1.1.0', '1.2.0', BAD);
    const done = await waitFor(await start('1.2.0', 'judged'), (r) => !['pending', 'progressing'].includes(r.phase), 120_000);
    expect(done).toMatchObject({
      phase: 'rolled-back',
      canaryWeight: 0,
      reason: expect.stringMatching(/automatic rollback: analysis failed: canary worse than baseline: error-rate/),
    });
    expect(done.steps[1]).toMatchObject({ status: 'failed', evidence: { outcome: 'fail', source: { type: 'prometheus' } } });
    expect(await stack.getWeights('dev')).toEqual({ stable: 100, canary: 0 });
    expect(await observedCanaryShare(2000)).toBe(0);
  });

  it('honours a rollback command while an analysis step is in flight', { timeout: 120_000 }, async () => {
    await redeploy('1.1.0', '1.3.0', GOOD);
    const id = await start('1.3.0', 'judged');
    await waitFor(id, (r) => r.stepIndex === 1 && r.steps[1]!.status === 'running', 30_000);
    expect((await stack.getWeights('dev')).canary).toBe(25);
    const rolled = await expectReply(
      api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id } }, body: { reason: 'paged at 3 a.m.' } }),
      'rollback',
      [200],
    );
    expect(rolled.data).toMatchObject({ release: { phase: 'rolled-back', canaryWeight: 0, reason: 'paged at 3 a.m.' } });
    expect(await stack.getWeights('dev')).toEqual({ stable: 100, canary: 0 });
    expect(await observedCanaryShare(2000)).toBe(0);
  });
});

describe('with slots that alternate, deployed by the demo deploy script', () => {
  it('deploys each release to the idle slot itself, real requests follow, and a succeeded release switches back', { timeout: 150_000 }, async () => {
    const first = await waitFor(await start('1.1.0', 'stepwise', 'prod'), ended, 60_000);
    expect(first, first.reason ?? '').toMatchObject({ phase: 'succeeded', slots: { live: 'blue', idle: 'green', deployment: { status: 'ready' } } });
    expect(stack.slot('prod', 'green')).toMatchObject({ version: '1.1.0', digest: demoDigest('1.1.0') });
    expect(await stack.getWeights('prod')).toEqual({ blue: 0, green: 100 });

    // The next release goes to the other slot: blue, which still had the baseline.
    const second = await waitFor(await start('1.3.0', 'stepwise', 'prod'), ended, 60_000);
    expect(second, second.reason ?? '').toMatchObject({ phase: 'succeeded', slots: { live: 'green', idle: 'blue', previousReleaseId: first.id } });
    expect(stack.slot('prod', 'blue')).toMatchObject({ version: '1.3.0', digest: demoDigest('1.3.0') });
    expect(await observedShare('prod', 'blue', 2000)).toBe(1);

    const rolled = await expectReply(
      api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: second.id } }, body: { reason: 'wrong prices since 1.3.0' } }),
      'rollback after success',
    );
    expect(rolled.data.release).toMatchObject({ phase: 'rolled-back', slots: { switchedBack: { reason: 'wrong prices since 1.3.0' } } });
    expect(await stack.getWeights('prod')).toEqual({ blue: 0, green: 100 });
    expect(await observedShare('prod', 'green', 2000)).toBe(1);
    // Nothing was deployed for the switch back: green still runs what the first release put there.
    expect(stack.slot('prod', 'green')).toMatchObject({ version: '1.1.0', digest: demoDigest('1.1.0') });
  });

  it('a build the deploy script cannot find fails the release with its reason, traffic untouched', { timeout: 60_000 }, async () => {
    const done = await waitFor(await start('9.9.9', 'stepwise', 'prod'), ended, 45_000);
    expect(done.phase).not.toBe('succeeded');
    expect(done.reason).toMatch(new RegExp(`the demo stack refused: no build with digest ${demoDigest('9.9.9')}`));
    expect(await stack.getWeights('prod')).toEqual({ blue: 0, green: 100 });
    expect(stack.slot('prod', 'blue').version).toBe('1.3.0');
  });
});

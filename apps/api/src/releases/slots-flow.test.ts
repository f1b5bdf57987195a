import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { startManagedHost, type ManagedHost } from '@glidepath/providers/deployer-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

// Slots that alternate, end to end: the real API, a real worker process, the command deployer
// running a real script that puts digests on slots, a real health endpoint, the recording router.
let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let host: ManagedHost;
let worker: WorkerProcess;
const workerEnv = () => ({ GLIDEPATH_DEPLOY_COMMAND_DIRS: host.bin, GLIDEPATH_DEPLOY_STATE_DIR: host.state });

beforeAll(async () => {
  host = await startManagedHost();
  t = await createTestApp({ deployCommandDirs: [host.bin] });
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'shop' } }))).status).toBe(201);
  const deployer = (mode: string, extra: Record<string, string> = {}) => ({
    type: 'command',
    config: {
      command: [host.script],
      env: { SLOTS: host.slots, MODE: mode, ...extra },
      timeoutMs: 30_000,
      healthCheck: { url: `${host.base}/health/{slot}`, digestHeader: 'x-glidepath-digest', passes: 1, intervalMs: 100, timeoutMs: 10_000 },
    },
  });
  const envs = [
    { name: 'prod', deployer: deployer('good'), keepPreviousFor: '1h' },
    { name: 'broken', deployer: deployer('fail'), slots: ['b1', 'b2'] },
    { name: 'wrong', deployer: deployer('wrong'), slots: ['w1', 'w2'] },
    { name: 'slow', deployer: deployer('good', { SLOW_SECONDS: '6' }), slots: ['quick', 'slow'] },
    { name: 'brief', deployer: deployer('good'), slots: ['s1', 's2'], keepPreviousFor: '1ms' },
    { name: 'guarded', deployer: deployer('good'), slots: ['g1', 'g2'], keepPreviousFor: '1ms' },
  ];
  for (const [position, env] of envs.entries()) {
    const created = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'shop', position, requireUpstreamSuccess: false, target: { type: 'recording', config: { key: env.name } }, ...env },
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  const plan: Schemas['PlanSpec'] = {
    strategy: 'canary',
    steps: [
      { type: 'setWeight', weight: 20 },
      { type: 'pause', duration: '200ms' },
      { type: 'setWeight', weight: 100 },
    ],
  };
  expect((await reply(api.POST('/api/v1/plans', { body: { name: 'steps', spec: plan } }))).status).toBe(201);
  for (const [version, d] of [
    ['1.0.0', 'a'],
    ['2.0.0', 'b'],
    ['3.0.0', 'c'],
  ] as const)
    expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'shop', version, digest: digest(d) } }))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await host?.close();
});

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 60_000, interval: 50 });
const effects = async (releaseId: string) => (await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } })).map((r) => r.effect);
const slotState = (environmentId: string) => t.prisma.environmentSlotState.findUnique({ where: { environmentId } });
const start = async (environment: string, version: string) => {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment, version, plan: 'steps' } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};

/** The environment kept nothing for long (keepPreviousFor 1ms) and the release there that was undone. */
const brief = { environmentId: '', undoneId: '' };

describe('slots that alternate', { timeout: 120_000 }, () => {
  let first: Schemas['Release'];
  let second: Schemas['Release'];

  it('registers the deployer and the slots: the first is live, the environment shows both', async () => {
    const envs = (await api.GET('/api/v1/environments', { params: { query: { service: 'shop' } } })).data!.items;
    const prod = envs.find((e) => e.name === 'prod')!;
    expect(prod).toMatchObject({
      slots: ['blue', 'green'],
      liveSlot: 'blue',
      slotsNow: { live: { slot: 'blue', release: null }, idle: { slot: 'green', release: null, keptUntil: null } },
      keepPreviousFor: '1h',
      deployer: { type: 'command', config: { env: { SLOTS: '***', MODE: '***' } } },
    });
  });

  it('an environment takes a deployer later, and gives it up; slots only with one', async () => {
    const created = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'shop', name: 'later', position: 9, requireUpstreamSuccess: false, target: { type: 'recording', config: {} } },
      }),
    );
    expect(created.body).toMatchObject({ deployer: null, slots: [], liveSlot: null, slotsNow: null });
    const id = created.body.id;
    const bare = await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id } }, body: { slots: ['x', 'y'] } }));
    expect(bare.status).toBe(422);
    expect(bare.body.error!.message).toMatch(/slots alternate only with a deployer/);
    const added = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id } }, body: { deployer: { type: 'none', config: {} }, slots: ['x', 'y'] } }),
    );
    expect(added.body).toMatchObject({ deployer: { type: 'none' }, slots: ['x', 'y'], liveSlot: 'x' });
    const removed = await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id } }, body: { deployer: null } }));
    expect(removed.body).toMatchObject({ deployer: null, slots: [], liveSlot: null });
  });

  it('deploys to the idle slot, shifts traffic to it, and makes it live; the next release goes to the other one', async () => {
    first = await start('prod', '1.0.0');
    const done = await until(first.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(await host.digestOn('green')).toBe(digest('a'));
    const slots = { live: 'blue', idle: 'green' };
    expect(await effects(first.id)).toEqual([
      { type: 'set-weight', weight: 20, slots },
      { type: 'promote', slots },
    ]);
    expect(await slotState(first.environment.id)).toMatchObject({ liveSlot: 'green', liveReleaseId: first.id, previousReleaseId: null });
    expect((await api.GET('/api/v1/environments/{id}', { params: { path: { id: first.environment.id } } })).data).toMatchObject({ liveSlot: 'green' });
    // The live slot cannot be renamed away.
    const renamed = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id: first.environment.id } }, body: { slots: ['blue', 'purple'] } }),
    );
    expect(renamed.status).toBe(409);

    second = await start('prod', '2.0.0');
    const next = await until(second.id, ['succeeded', 'rolled-back', 'failed']);
    expect(next.phase, next.reason ?? '').toBe('succeeded');
    // The new version on blue; the old one still on green, not redeployed.
    expect(await host.digestOn('blue')).toBe(digest('b'));
    expect(await host.digestOn('green')).toBe(digest('a'));
    const swapped = { live: 'green', idle: 'blue' };
    expect(await effects(second.id)).toEqual([
      { type: 'set-weight', weight: 20, slots: swapped },
      { type: 'promote', slots: swapped },
    ]);
    expect(await host.runs()).toEqual([`deploy ${first.id}:deploy:1`, `deploy ${second.id}:deploy:1`]);
    const state = await slotState(second.environment.id);
    expect(state).toMatchObject({ liveSlot: 'blue', liveReleaseId: second.id, previousReleaseId: first.id });
    expect(state!.previousKeptUntil!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    // The environment says what each slot holds, and until when the previous version is kept.
    const environment = (await api.GET('/api/v1/environments/{id}', { params: { path: { id: second.environment.id } } })).data!;
    expect(environment.slotsNow).toEqual({
      live: { slot: 'blue', release: { id: second.id, version: '2.0.0' } },
      idle: { slot: 'green', release: { id: first.id, version: '1.0.0' }, keptUntil: state!.previousKeptUntil!.toISOString() },
    });
  });

  it('switches a succeeded release back to the previous slot at once, recorded with why; then refuses a second time', async () => {
    const began = performance.now();
    const rolled = await reply(
      api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: second.id } }, body: { reason: 'checkout errors after 2.0.0' } }),
    );
    const ms = performance.now() - began;
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    console.log(`switch back after success: traffic switched and recorded in ${ms.toFixed(0)} ms`);
    expect(rolled.body.release).toMatchObject({
      phase: 'rolled-back',
      reason: 'checkout errors after 2.0.0',
      slots: { live: 'green', idle: 'blue', previousReleaseId: first.id, switchedBack: { reason: 'checkout errors after 2.0.0' } },
      undoes: null,
    });
    expect((await effects(second.id)).at(-1)).toEqual({ type: 'rollback', slots: { live: 'green', idle: 'blue' } });
    expect(await slotState(second.environment.id)).toMatchObject({ liveSlot: 'green', liveReleaseId: first.id, previousReleaseId: null });
    const listed = (await api.GET('/api/v1/environments', { params: { query: { service: 'shop' } } })).data!.items.find((e) => e.name === 'prod')!;
    expect(listed.slotsNow).toEqual({
      live: { slot: 'green', release: { id: first.id, version: '1.0.0' } },
      idle: { slot: 'blue', release: null, keptUntil: null },
    });
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: second.id } } })).data!.items;
    expect(audit[0]).toMatchObject({ action: 'release.rolled-back', reason: 'checkout errors after 2.0.0' });

    const again = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: second.id } }, body: {} }));
    expect(again.status).toBe(409);
    // The first release is live again, but blue no longer holds anything to go back to.
    const firstBack = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: first.id } }, body: {} }));
    expect(firstBack.status).toBe(409);
    expect(firstBack.body.error!.message).toMatch(/first release/);
    // Nothing was deployed for any of it.
    expect(await host.runs()).toHaveLength(2);
  });

  it('after the keep window, rollback starts a release of the version before, which says which release it undoes', async () => {
    const v1 = await start('brief', '1.0.0');
    expect((await until(v1.id, ['succeeded', 'rolled-back', 'failed'])).phase).toBe('succeeded');
    const v2 = await start('brief', '2.0.0');
    expect((await until(v2.id, ['succeeded', 'rolled-back', 'failed'])).phase).toBe('succeeded');
    const rolled = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: v2.id } }, body: { reason: 'too slow' } }));
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    const undo = rolled.body.rollbackRelease!;
    expect(undo).toMatchObject({ undoes: v2.id, artifact: { version: '1.0.0' }, plan: { name: 'glidepath:rollback' } });
    const created = (await api.GET('/api/v1/audit', { params: { query: { subjectId: undo.id } } })).data!.items.at(-1)!;
    expect(created).toMatchObject({ action: 'release.created' });
    expect(created.reason).toMatch(new RegExp(`rollback of ${v2.id}: too slow \\(the previous version was kept on slot s2 only until`));
    const done = await until(undo.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.undoes).toBe(v2.id);
    Object.assign(brief, { environmentId: v2.environment.id, undoneId: v2.id });
    // The release undone names the one that undoes it, in its detail and in the list.
    expect((await api.GET('/api/v1/releases/{id}', { params: { path: { id: v2.id } } })).data).toMatchObject({ undoes: null, undoneBy: undo.id });
    const listed = (await api.GET('/api/v1/releases', { params: { query: { service: 'shop', environment: 'brief' } } })).data!.items;
    expect(listed.find((r) => r.id === v2.id)).toMatchObject({ undoneBy: undo.id });
    expect(listed.find((r) => r.id === undo.id)).toMatchObject({ undoes: v2.id, undoneBy: null });
    // Deployed again on the idle slot, then all traffic at once.
    expect(done.slots).toMatchObject({ live: 's1', idle: 's2', previousReleaseId: v2.id, deployment: { status: 'ready', digest: digest('a') } });
    expect(await effects(undo.id)).toEqual([{ type: 'promote', slots: { live: 's1', idle: 's2' } }]);
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: v2.id } } })).data!.items;
    expect(audit[0]).toMatchObject({ action: 'release.rollback-started' });
  });

  it('a rollback release does not wait for approvals in a protected environment: it restores what ran live there', async () => {
    const v1 = await start('guarded', '1.0.0');
    expect((await until(v1.id, ['succeeded', 'rolled-back', 'failed'])).phase).toBe('succeeded');
    const v2 = await start('guarded', '2.0.0');
    expect((await until(v2.id, ['succeeded', 'rolled-back', 'failed'])).phase).toBe('succeeded');
    const env = (await api.GET('/api/v1/environments', { params: { query: { service: 'shop' } } })).data!.items.find((e) => e.name === 'guarded')!;
    const policy = { protected: true, requiredApprovals: 2, approverGroup: 'prod-approvers', approvalExpiresAfter: '1h' };
    const patched = await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id: env.id } }, body: { policy, reason: 'now protected' } }));
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const rolled = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: v2.id } }, body: { reason: '2.0.0 corrupts carts' } }));
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    const undo = await until(rolled.body.rollbackRelease!.id, ['succeeded', 'rolled-back', 'failed', 'awaiting-approval']);
    expect(undo.phase, undo.reason ?? '').toBe('succeeded');
    expect(undo.steps.map((step) => step.spec.type)).not.toContain('approval');
    // Any other release there waits for its two approvers.
    const v3 = await start('guarded', '3.0.0');
    expect((await until(v3.id, ['awaiting-approval', 'succeeded', 'failed', 'rolled-back'])).phase).toBe('awaiting-approval');
    expect((await reply(api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: v3.id } }, body: { reason: 'test over' } }))).status).toBe(200);
  });

  it('past the keep window the worker removes the previous version from the idle slot: once, through the deployer, audited', async () => {
    // brief: the rollback release of 1.0.0 is live on s2, and 2.0.0 (the release it undid) was kept on s1 for 1ms.
    const state = await slotState(brief.environmentId);
    expect(state).toMatchObject({ liveSlot: 's2' });
    const removalId = `${brief.environmentId}:remove:${brief.undoneId}`;
    await expect.poll(() => host.performed(removalId), { timeout: 30_000, interval: 100 }).toBe(1);
    expect(await host.digestOn('s1')).toBeNull();
    await expect.poll(async () => (await slotState(brief.environmentId))?.previousReleaseId, { timeout: 10_000 }).toBeNull();
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: brief.environmentId, action: 'environment.previous-removed' } } })).data!
      .items;
    const removed = audit.find((e) => (e.payload as { releaseId?: string }).releaseId === brief.undoneId);
    expect(removed).toMatchObject({ actor: { type: 'system' }, payload: { slot: 's1', version: '2.0.0', removalId } });
    expect(removed!.reason).toMatch(/kept on slot s1 past its time: 2\.0\.0 removed/);
    // Several sweeps later it is still one removal: the slot no longer counts as keeping anything.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await host.performed(removalId)).toBe(1);
    // The environment says so too.
    const environment = (await api.GET('/api/v1/environments/{id}', { params: { path: { id: brief.environmentId } } })).data!;
    expect(environment.slotsNow).toMatchObject({ live: { slot: 's2' }, idle: { slot: 's1', release: null, keptUntil: null } });
  });

  it('a deployer that fails, or reports another digest, ends the release with the reason and moves no traffic', async () => {
    const broken = await start('broken', '1.0.0');
    const failed = await until(broken.id, ['rolled-back', 'failed', 'succeeded']);
    expect(failed.phase).toBe('rolled-back');
    expect(failed.reason).toMatch(/deploy to slot b2 failed: .*image sha256:a{64} not found/);
    expect(await effects(broken.id)).toEqual([]);

    const wrong = await start('wrong', '1.0.0');
    const mismatch = await until(wrong.id, ['rolled-back', 'failed', 'succeeded']);
    expect(mismatch.phase).toBe('rolled-back');
    expect(mismatch.reason).toMatch(/sha256:e{64}/);
    expect(await effects(wrong.id)).toEqual([]);
  });

  it('a worker killed mid-deploy is replaced and the deploy is not made twice', async () => {
    const release = await start('slow', '3.0.0');
    const deploymentId = `${release.id}:deploy:1`;
    await expect.poll(() => host.performed(deploymentId), { timeout: 30_000, interval: 50 }).toBe(1);
    await worker.kill();
    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(await host.performed(deploymentId)).toBe(1);
    expect(await host.digestOn('slow')).toBe(digest('c'));
  });
});

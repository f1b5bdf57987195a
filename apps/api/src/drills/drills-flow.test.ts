import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { verifyStandardWebhook } from '@glidepath/providers';
import { startManagedHost, type ManagedHost } from '@glidepath/providers/deployer-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

// Rollback drills end to end: the real API, a real worker process, the command deployer running a
// real script that puts digests on slots, a real health endpoint, the recording router, and a real
// receiver for the signed event webhooks.
let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let host: ManagedHost;
let worker: WorkerProcess;
let receiver: Server;
let secret: string;
const heard: Array<{ type: string; drill: string; reason: string | null; payload: Record<string, unknown> }> = [];
let metricsPort = 0;
const workerEnv = () => ({
  GLIDEPATH_DEPLOY_COMMAND_DIRS: host.bin,
  GLIDEPATH_DEPLOY_STATE_DIR: host.state,
  GLIDEPATH_WEBHOOK_POLL_MS: '100',
  GLIDEPATH_WORKER_METRICS_PORT: String(metricsPort),
});
const envIds: Record<string, string> = {};
// A long interval: these drills run on demand (the schedule has its own test), with a short hold.
const onDemand = { every: '2160h', objective: '30s', hold: '300ms' };

const deployer = (mode: string, extra: Record<string, string> = {}, health = 'health') => ({
  type: 'command',
  config: {
    command: [host.script],
    env: { SLOTS: host.slots, MODE: mode, ...extra },
    timeoutMs: 30_000,
    healthCheck: { url: `${host.base}/${health}/{slot}`, digestHeader: 'x-glidepath-digest', passes: 1, intervalMs: 100, timeoutMs: 1500 },
  },
});

beforeAll(async () => {
  host = await startManagedHost();
  // A port of its own for the worker's /metrics, free a moment ago.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  metricsPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  t = await createTestApp({ deployCommandDirs: [host.bin] });
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!verifyStandardWebhook(secret, req.headers, body)) return void res.writeHead(401).end();
      const event = JSON.parse(body) as {
        type: string;
        data: { event: { subject: { id: string }; reason: string | null; payload: Record<string, unknown> } };
      };
      heard.push({ type: event.type, drill: event.data.event.subject.id, reason: event.data.event.reason, payload: event.data.event.payload });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = await reply(
    api.POST('/api/v1/webhooks', { body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['drill.*'] } }),
  );
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  secret = hook.body.secret;

  expect((await reply(api.POST('/api/v1/services', { body: { name: 'shop' } }))).status).toBe(201);
  const envs = [
    { name: 'prod', deployer: deployer('good'), slots: ['blue', 'green'] },
    { name: 'flaky', deployer: deployer('good'), slots: ['f1', 'f2'] },
    // The first release goes to quick; the drill then deploys to slot slow, where the script takes its time.
    { name: 'slow', deployer: deployer('good', { SLOW_SECONDS: '4' }), slots: ['slow', 'quick'] },
    { name: 'tight', deployer: deployer('good'), slots: ['t1', 't2'], drills: { ...onDemand, objective: '1ms' } },
    { name: 'sched', deployer: deployer('good'), slots: ['s1', 's2'] },
  ];
  for (const [position, env] of envs.entries()) {
    const created = await reply(
      api.POST('/api/v1/environments', {
        body: {
          service: 'shop',
          position,
          requireUpstreamSuccess: false,
          target: { type: 'recording', config: { key: env.name } },
          drills: onDemand,
          keepPreviousFor: '1ms',
          ...env,
        },
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    envIds[env.name] = created.body.id;
  }
  const plan: Schemas['PlanSpec'] = { strategy: 'canary', steps: [{ type: 'setWeight', weight: 50 }] };
  expect((await reply(api.POST('/api/v1/plans', { body: { name: 'quick', spec: plan } }))).status).toBe(201);
  const held: Schemas['PlanSpec'] = { strategy: 'canary', steps: [{ type: 'setWeight', weight: 20 }, { type: 'pause' }] };
  expect((await reply(api.POST('/api/v1/plans', { body: { name: 'held', spec: held } }))).status).toBe(201);
  expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'shop', version: '1.0.0', digest: digest('a') } }))).status).toBe(201);
  expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'shop', version: '2.0.0', digest: digest('b') } }))).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await host?.close();
  receiver?.close();
});

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 60_000, interval: 50 });
async function drillDone(environment: string, id: string) {
  let drill: Schemas['Drill'] | undefined;
  await expect
    .poll(
      async () => {
        const items = (await api.GET('/api/v1/environments/{id}/drills', { params: { path: { id: envIds[environment]! } } })).data!.items;
        drill = items.find((d) => d.id === id);
        return ['succeeded', 'failed', 'skipped'].includes(drill?.status ?? '');
      },
      { timeout: 60_000, interval: 50 },
    )
    .toBe(true);
  return drill!;
}
async function start(environment: string, version: string, plan = 'quick') {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment, version, plan } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}
const runDrill = async (environment: string) => {
  const created = await reply(api.POST('/api/v1/environments/{id}/drills', { params: { path: { id: envIds[environment]! } }, body: { reason: 'test' } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};
const effects = async (releaseId: string) => (await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } })).map((r) => r.effect);
const slotState = (environment: string) => t.prisma.environmentSlotState.findUnique({ where: { environmentId: envIds[environment]! } });
const heardOf = (drill: string) => heard.filter((h) => h.drill === drill).map((h) => h.type);

describe('rollback drills', { timeout: 120_000 }, () => {
  it('puts a version live in each environment: a drill deploys the live version again', async () => {
    const started = await Promise.all(Object.keys(envIds).map((name) => start(name, '1.0.0')));
    for (const release of started) {
      const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
      expect(done.phase, done.reason ?? '').toBe('succeeded');
    }
  });

  it('deploys the live version to the idle slot, shifts 5%, rolls back, and records the time; the live slot never changes', async () => {
    const before = await slotState('prod');
    expect(before).toMatchObject({ liveSlot: 'green' });
    const drill = await runDrill('prod');
    expect(drill).toMatchObject({ trigger: 'manual', status: 'running', version: '1.0.0', digest: digest('a'), slot: 'blue', weight: 5 });
    // One drill at a time, and no release beside it.
    const again = await reply(api.POST('/api/v1/environments/{id}/drills', { params: { path: { id: envIds.prod! } }, body: {} }));
    expect(again.status).toBe(409);
    expect(again.body.error!.message).toMatch(/under way/);
    const beside = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment: 'prod', version: '2.0.0', plan: 'quick' } }));
    expect(beside.status).toBe(409);

    const done = await drillDone('prod', drill.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(done).toMatchObject({ routerVerified: 'unsupported', objectiveMs: 30_000 });
    console.log(`drill: time to rollback ${done.timeToRollbackMs} ms (decision → router confirmed all traffic back)`);
    expect(done.timeToRollbackMs).toBeGreaterThanOrEqual(0);
    // Slow means above the objective, whatever this machine's load made the time (figures come from benches, not tests).
    expect(done.slow).toBe(done.timeToRollbackMs! > done.objectiveMs!);
    expect(Date.parse(done.rolledBackAt!)).toBeGreaterThanOrEqual(Date.parse(done.rollbackDecidedAt!));
    // The live version now on both slots; traffic 5% to the idle one, then all back to the live one.
    expect(await host.digestOn('blue')).toBe(digest('a'));
    const slots = { live: 'green', idle: 'blue' };
    expect(await effects(done.releaseId!)).toEqual([
      { type: 'set-weight', weight: 5, slots },
      { type: 'rollback', slots },
    ]);
    expect(await slotState('prod')).toMatchObject({ liveSlot: 'green', liveReleaseId: before!.liveReleaseId });
    const release = await until(done.releaseId!, ['rolled-back']);
    expect(release.reason).toBe('drill: rolled back as rehearsed after 5% on slot blue');
    expect(release.drill).toBe(drill.id);
    const listed = (await api.GET('/api/v1/releases', { params: { query: { environment: 'prod', service: 'shop' } } })).data!.items;
    expect(listed.find((r) => r.id === done.releaseId)).toMatchObject({ drill: drill.id, phase: 'rolled-back' });
    expect(listed.find((r) => r.id !== done.releaseId)).toMatchObject({ drill: null });
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: drill.id } } })).data!.items.map((e) => e.action);
    expect(audit).toEqual(['drill.succeeded', 'drill.started']);
    // The worker's metrics count it and its time.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/glidepath_drills_total\{outcome="succeeded"\} 1/);
    expect(metrics).toMatch(/glidepath_drill_time_to_rollback_seconds_count 1/);
    expect(metrics).toMatch(/glidepath_release_rollbacks_total\{cause="drill"\} 1/);
    // Signed event webhooks, in order.
    await expect.poll(() => heardOf(drill.id)).toEqual(['drill.started', 'drill.succeeded']);
    // Not a deployment: DORA counts the one release that put 1.0.0 live.
    const dora = (await api.GET('/api/v1/dora', { params: { query: { environment: 'prod' } } })).data!.items[0]!;
    expect(dora).toMatchObject({ deployments: 1, failures: 0 });
    // A release after the drill deploys to the idle slot as before.
    const next = await start('prod', '2.0.0');
    expect((await until(next.id, ['succeeded', 'rolled-back'])).phase).toBe('succeeded');
    expect(await slotState('prod')).toMatchObject({ liveSlot: 'blue', liveReleaseId: next.id });
  });

  it('a drill while the previous version is kept for a switch back, or without a deployer, is refused with why and changes nothing', async () => {
    await t.prisma.environment.update({ where: { id: envIds.prod! }, data: { keepPreviousForMs: 3_600_000 } });
    const next = await start('prod', '1.0.0');
    expect((await until(next.id, ['succeeded', 'rolled-back'])).phase).toBe('succeeded');
    const kept = await reply(api.POST('/api/v1/environments/{id}/drills', { params: { path: { id: envIds.prod! } }, body: {} }));
    expect(kept.status).toBe(409);
    expect(kept.body.error!.message).toMatch(/keeps the previous version .* for an instant switch back until/);
    const bare = await reply(
      api.POST('/api/v1/environments', { body: { service: 'shop', name: 'bare', position: 20, target: { type: 'recording', config: {} } } }),
    );
    const none = await reply(api.POST('/api/v1/environments/{id}/drills', { params: { path: { id: bare.body.id } }, body: {} }));
    expect(none.status).toBe(409);
    expect(none.body.error!.message).toMatch(/no deployer and slots/);
    const withoutDeployer = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id: bare.body.id } }, body: { drills: { every: '24h', objective: '30s' } } }),
    );
    expect(withoutDeployer.status).toBe(422);
    expect(JSON.stringify(withoutDeployer.body)).toMatch(/drills/);
    const rolling = await reply(
      api.POST('/api/v1/environments', {
        body: {
          service: 'shop',
          name: 'rolling',
          position: 21,
          target: { type: 'recording', config: {} },
          deployer: { type: 'none', config: {} },
          instances: ['web-1', 'web-2'],
          drills: { every: '24h', objective: '30s' },
        },
      }),
    );
    expect(rolling.status).toBe(422);
    expect(JSON.stringify(rolling.body)).toMatch(/instances replaced in place has no slots/);
    const badEvery = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id: envIds.prod! } }, body: { drills: { every: '10s', objective: '30s' } } }),
    );
    expect(badEvery.status).toBe(422);
    expect(JSON.stringify(badEvery.body)).toMatch(/drills\.every/);
    expect(await t.prisma.drill.count({ where: { environmentId: { in: [envIds.prod!, bare.body.id] } } })).toBe(1);
  });

  it.each([
    ['fails', 'fail', 'health', /deploy to slot f1 failed: .*image sha256:a{64} not found/],
    ['reports another digest', 'wrong', 'health', /slot f1.*sha256:e{64}.*sha256:a{64}/],
    ['never becomes healthy', 'good', 'nowhere', /deploy to slot f1 failed: .*health/i],
  ])('a deployer that %s fails the drill with the reason, alerts, and leaves the live slot serving all traffic', async (_name, mode, health, reason) => {
    const live = await slotState('flaky');
    const broken = deployer(mode, {}, health);
    expect((await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id: envIds.flaky! } }, body: { deployer: broken } }))).status).toBe(200);
    const drill = await runDrill('flaky');
    const done = await drillDone('flaky', drill.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(reason);
    expect(done.timeToRollbackMs).toBeNull();
    expect(await effects(done.releaseId!)).toEqual([]);
    expect(await slotState('flaky')).toMatchObject({ liveSlot: live!.liveSlot, liveReleaseId: live!.liveReleaseId });
    await expect.poll(() => heardOf(drill.id)).toEqual(['drill.started', 'drill.failed']);
    expect(heard.find((h) => h.type === 'drill.failed' && h.drill === drill.id)!.reason).toMatch(reason);
  });

  it('a drill slower than its objective succeeds and alerts drill.slow', async () => {
    const drill = await runDrill('tight');
    const done = await drillDone('tight', drill.id);
    expect(done).toMatchObject({ status: 'succeeded', slow: true, objectiveMs: 1 });
    expect(done.reason).toMatch(/slower than the objective of 1 ms/);
    await expect.poll(() => heardOf(drill.id)).toEqual(['drill.started', 'drill.succeeded', 'drill.slow']);
  });

  it('runs on schedule once for the latest due time, waits while a release is in flight, then runs', async () => {
    const id = envIds.sched!;
    const set = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id } }, body: { drills: { every: '1m', objective: '30s', hold: '200ms' } } }),
    );
    expect(set.body.drills).toMatchObject({ every: '1m', objective: '30s', hold: '200ms' });
    // A release holds the environment; then the schedule is moved back as if the worker had been down for five intervals.
    const holding = await start('sched', '2.0.0', 'held');
    await until(holding.id, ['paused']);
    const since = Date.now() - 5 * 60_000 - 30_000;
    await t.prisma.environment.update({
      where: { id },
      data: { drills: { everyMs: 60_000, objectiveMs: 30_000, holdMs: 200, since: new Date(since).toISOString() } },
    });
    let waiting: Schemas['Drill'] | undefined;
    await expect
      .poll(async () => (waiting = (await api.GET('/api/v1/environments/{id}/drills', { params: { path: { id } } })).data!.items[0])?.status, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe('waiting');
    expect(waiting).toMatchObject({ trigger: 'schedule', dueAt: new Date(since + 5 * 60_000).toISOString(), releaseId: null });
    expect(waiting!.reason).toMatch(new RegExp(`release ${holding.id} is paused in sched`));
    const aborted = await reply(api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: holding.id } }, body: { reason: 'make way' } }));
    expect(aborted.status).toBeLessThan(300);
    const done = await drillDone('sched', waiting!.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    // A few more sweeps: still one drill for the five missed intervals.
    await new Promise((r) => setTimeout(r, 1500));
    const all = await t.prisma.drill.findMany({ where: { environmentId: id } });
    expect(all).toHaveLength(1);
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: waiting!.id } } })).data!.items.map((e) => e.action);
    expect(audit).toEqual(['drill.succeeded', 'drill.started', 'drill.waiting']);
  });

  it('a worker killed in the middle of a drill is replaced and the drill goes on without deploying twice', async () => {
    const drill = await runDrill('slow');
    const deploymentId = `${drill.releaseId}:deploy:1`;
    await expect.poll(() => host.performed(deploymentId), { timeout: 30_000, interval: 50 }).toBe(1);
    await worker.kill();
    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
    const done = await drillDone('slow', drill.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(await host.performed(deploymentId)).toBe(1);
    expect(await slotState('slow')).toMatchObject({ liveSlot: 'quick' });
  });
});

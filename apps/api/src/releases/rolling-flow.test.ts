import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { startManagedHost, type ManagedHost } from '@glidepath/providers/deployer-testing';
import { startHaproxyBackend, type HaproxyBackend } from '@glidepath/providers/haproxy-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

// Rolling releases end to end: the real API, a real worker process, the command deployer running a
// real script that puts a digest on each instance (with a real health endpoint), and a real HAProxy
// whose backend has one server per instance, each answering with the digest it runs.
const INSTANCES = ['web-1', 'web-2', 'web-3'];
let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let host: ManagedHost;
let haproxy: HaproxyBackend;
let worker: WorkerProcess;
let servers: http.Server[] = [];
let environmentId: string;
const workerEnv = () => ({ GLIDEPATH_DEPLOY_COMMAND_DIRS: host.bin, GLIDEPATH_DEPLOY_STATE_DIR: host.state });

const deployer = (env: Record<string, string> = {}) => ({
  type: 'command',
  config: {
    command: [host.script],
    env: { SLOTS: host.slots, MODE: 'good', ...env },
    timeoutMs: 30_000,
    healthCheck: { url: `${host.base}/health/{slot}`, digestHeader: 'x-glidepath-digest', passes: 1, intervalMs: 100, timeoutMs: 10_000 },
  },
});

beforeAll(async () => {
  host = await startManagedHost();
  // Each instance serves "<name> <digest it runs>".
  servers = await Promise.all(
    INSTANCES.map(async (name) => {
      const server = http.createServer((_req, res) => void host.digestOn(name).then((d) => res.end(`${name} ${d ?? 'none'}`)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  haproxy = await startHaproxyBackend(INSTANCES.map((name, i) => ({ name, port: (servers[i]!.address() as AddressInfo).port })));
  t = await createTestApp({ deployCommandDirs: [host.bin] });
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'shop' } }))).status).toBe(201);
  const created = await reply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'shop',
        name: 'prod',
        position: 0,
        requireUpstreamSuccess: false,
        target: { type: 'haproxy', config: { runtimeApi: haproxy.tcpApi, backend: 'app' } },
        deployer: deployer(),
        instances: INSTANCES,
      },
    }),
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  environmentId = created.body.id;
  const plans: Array<[string, Schemas['PlanSpec']]> = [
    ['rolling', { strategy: 'rolling', batches: [25, 50, 100], interval: '100ms' }],
    ['steps', { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] }],
  ];
  for (const [name, spec] of plans) expect((await reply(api.POST('/api/v1/plans', { body: { name, spec } }))).status).toBe(201);
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
  await haproxy?.dispose();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await host?.close();
});

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 90_000, interval: 100 });
const start = async (version: string, plan = 'rolling') => {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment: 'prod', version, plan } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};
const setDeployer = async (env: Record<string, string>) => {
  const changed = await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id: environmentId } }, body: { deployer: deployer(env) } }));
  expect(changed.status, JSON.stringify(changed.body)).toBe(200);
};
const onInstances = () => Promise.all(INSTANCES.map((name) => host.digestOn(name)));
const recorded = async () => Object.fromEntries((await t.prisma.environmentInstance.findMany({ where: { environmentId } })).map((r) => [r.name, r.digest]));
/** Which instances answered through HAProxy, and with which digests. */
async function traffic(requests = 60) {
  const answers = await haproxy.ask(requests);
  return { instances: new Set(answers.map((a) => a.split(' ')[0])), digests: new Set(answers.map((a) => a.split(' ')[1])) };
}
const deploysOf = async (releaseId: string) =>
  (await host.runs()).filter((line) => line.includes(releaseId)).map((line) => line.split(' ')[1]!.slice(releaseId.length + 1));

describe('rolling releases on instances', { timeout: 240_000 }, () => {
  it('registers instances, and refuses what cannot work with the field named', async () => {
    const env = (await api.GET('/api/v1/environments/{id}', { params: { path: { id: environmentId } } })).data!;
    expect(env).toMatchObject({ instances: INSTANCES, slots: [], liveSlot: null });
    const base = {
      service: 'shop',
      position: 5,
      requireUpstreamSuccess: false,
      target: { type: 'haproxy', config: { runtimeApi: haproxy.tcpApi, backend: 'app' } },
    };
    const refusals: Array<[Record<string, unknown>, number, string, RegExp]> = [
      [{ deployer: { type: 'none', config: {} }, instances: ['web-1'] }, 422, 'instances', /at least 2/],
      [{ deployer: { type: 'none', config: {} }, instances: ['web-1', 'web-1'] }, 422, 'instances[1]', /duplicates/],
      [{ instances: ['web-1', 'web-2'] }, 422, 'instances', /through a deployer/],
      [{ deployer: { type: 'none', config: {} }, instances: ['web-1', 'web-2'], slots: ['a', 'b'] }, 422, 'slots', /not both/],
      [
        {
          target: { type: 'webhook', config: { url: 'https://router.example.com/hook', secret: `whsec_${'A'.repeat(32)}` } },
          deployer: { type: 'none', config: {} },
          instances: ['web-1', 'web-2'],
        },
        422,
        'instances',
        /webhook router cannot take instances/,
      ],
      // No ':' in an instance name: it goes into job ids and deployment keys.
      [{ deployer: { type: 'none', config: {} }, instances: ['web:1', 'web-2'] }, 400, 'body.instances.0', /pattern/],
      [{}, 422, 'target.config.stableServer', /name stableServer and canaryServer/],
      // Checked against the router where it can tell: the backend has no server web-9.
      [{ deployer: { type: 'none', config: {} }, instances: ['web-1', 'web-9'] }, 422, 'instances[1]', /HAProxy has no server web-9 in backend app/],
      // Slots are servers too: checked the same way.
      [{ deployer: { type: 'none', config: {} }, slots: ['web-1', 'blue'] }, 422, 'slots[1]', /HAProxy has no server blue in backend app/],
    ];
    for (const [fields, status, path, message] of refusals) {
      const refused = await reply(api.POST('/api/v1/environments', { body: { ...base, name: 'nope', ...fields } as never }));
      expect(refused.status, JSON.stringify(refused.body)).toBe(status);
      expect(JSON.stringify(refused.body)).toContain(path);
      expect(JSON.stringify(refused.body)).toMatch(message);
    }
    // Changing to slots the router lacks is refused the same way, and changes nothing.
    const toSlots = await reply(api.PATCH('/api/v1/environments/{id}', { params: { path: { id: environmentId } }, body: { slots: ['web-1', 'green'] } }));
    expect(toSlots.status, JSON.stringify(toSlots.body)).toBe(422);
    expect(JSON.stringify(toSlots.body)).toMatch(/slots\[1\].*HAProxy has no server green in backend app/);
    expect((await api.GET('/api/v1/environments/{id}', { params: { path: { id: environmentId } } })).data).toMatchObject({ instances: INSTANCES, slots: [] });
    // A canary plan has nothing to shift between on instances.
    const canary = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment: 'prod', version: '1.0.0', plan: 'steps' } }));
    expect(canary.status).toBe(409);
    expect(canary.body.error!.message).toMatch(/canary plan: environment prod replaces its 3 instances in place, where only a rolling plan runs/);
  });

  it('replaces every instance batch by batch: each one carries the new digest and takes traffic, each deployed once', async () => {
    const first = await start('1.0.0');
    expect((await until(first.id, ['succeeded', 'rolled-back', 'failed'])).phase).toBe('succeeded');
    const second = await start('2.0.0');
    const done = await until(second.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.canaryWeight).toBe(100);
    expect(done.rolling).toMatchObject({ batch: 3, batches: 3, replaced: 3, rollback: null });
    expect(done.rolling!.instances.map((i) => [i.name, i.batch, i.digest, i.previousDigest, i.inRotation, i.deploy?.status])).toEqual([
      ['web-1', 1, digest('b'), digest('a'), true, 'ready'],
      ['web-2', 2, digest('b'), digest('a'), true, 'ready'],
      ['web-3', 3, digest('b'), digest('a'), true, 'ready'],
    ]);
    expect(await onInstances()).toEqual([digest('b'), digest('b'), digest('b')]);
    expect(await recorded()).toEqual({ 'web-1': digest('b'), 'web-2': digest('b'), 'web-3': digest('b') });
    expect(await haproxy.weights()).toEqual({ 'web-1': 100, 'web-2': 100, 'web-3': 100 });
    const seen = await traffic();
    expect(seen.instances).toEqual(new Set(INSTANCES));
    expect(seen.digests).toEqual(new Set([digest('b')]));
    expect(await deploysOf(second.id)).toEqual(['instance:web-1:1', 'instance:web-2:1', 'instance:web-3:1']);
    // Each batch's evidence says what was put where.
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: second.id } } })).data!.items;
    expect(audit.some((e) => e.action === 'release.instance-verdict')).toBe(true);
  });

  it('a deploy failing in batch 2 puts batches 1–2 back on the previous digest, web-3 serving meanwhile, with the reason', async () => {
    await setDeployer({ FAIL_ON: `web-2:${digest('c')}` });
    const bad = await start('3.0.0');
    const done = await until(bad.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase).toBe('rolled-back');
    expect(done.reason).toMatch(/automatic rollback: batch 2 of 3: the deploy to instance web-2 failed: .*does not start on web-2/);
    expect(done.rolling).toMatchObject({ batch: 2, replaced: 0, rollback: { done: true, notRestored: [] } });
    expect(done.rolling!.instances.map((i) => i.deploy && [i.deploy.direction, i.deploy.attempt, i.deploy.status])).toEqual([
      ['back', 2, 'ready'],
      ['back', 2, 'ready'],
      null,
    ]);
    expect(await onInstances()).toEqual([digest('b'), digest('b'), digest('b')]);
    expect(await recorded()).toEqual({ 'web-1': digest('b'), 'web-2': digest('b'), 'web-3': digest('b') });
    expect(await haproxy.weights()).toEqual({ 'web-1': 100, 'web-2': 100, 'web-3': 100 });
    const seen = await traffic();
    expect(seen.instances).toEqual(new Set(INSTANCES));
    expect(seen.digests).toEqual(new Set([digest('b')]));
    // web-1 got the new digest and went back; web-2 failed and went back; web-3 was never touched.
    expect((await deploysOf(bad.id)).sort()).toEqual(['instance:web-1:1', 'instance:web-1:2', 'instance:web-2:1', 'instance:web-2:2']);
  });

  it('a worker killed mid-batch is replaced and no instance is deployed twice', async () => {
    await setDeployer({ SLOW_SLOT: 'web-2', SLOW_SECONDS: '6' });
    const release = await start('3.0.0');
    await expect.poll(() => host.performed(`${release.id}:instance:web-2:1`), { timeout: 60_000, interval: 50 }).toBe(1);
    // The release holds its instances by name: they are not renamed under it.
    const renamed = await reply(
      api.PATCH('/api/v1/environments/{id}', { params: { path: { id: environmentId } }, body: { instances: ['web-3', 'web-2', 'web-1'] } }),
    );
    expect(renamed.status).toBe(409);
    expect(renamed.body.error!.message).toMatch(/is under way here: change the instances once it has ended/);
    await worker.kill();
    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: workerEnv() });
    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(await deploysOf(release.id)).toEqual(['instance:web-1:1', 'instance:web-2:1', 'instance:web-3:1']);
    expect(await onInstances()).toEqual([digest('c'), digest('c'), digest('c')]);
    expect((await traffic()).digests).toEqual(new Set([digest('c')]));
  });
});

describe('rollback of a succeeded rolling release', { timeout: 120_000 }, () => {
  it('starts a release of the version before with the rolling rollback plan, which puts it back on every instance', async () => {
    await setDeployer({});
    const latest = (await api.GET('/api/v1/releases', { params: { query: { service: 'shop', phase: 'succeeded' } } })).data!.items[0]!;
    expect(latest.artifact.version).toBe('3.0.0');
    const rolled = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: latest.id } }, body: { reason: 'slow checkout' } }));
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    const undo = rolled.body.rollbackRelease!;
    expect(undo).toMatchObject({ undoes: latest.id, artifact: { version: '2.0.0' }, plan: { name: 'glidepath:rollback-rolling' } });
    const done = await until(undo.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.rolling).toMatchObject({ batches: 2, replaced: 3 });
    expect(await onInstances()).toEqual([digest('b'), digest('b'), digest('b')]);
    expect((await traffic()).digests).toEqual(new Set([digest('b')]));
  });
});

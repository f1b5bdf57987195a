import { createRedisEventBus, type GlidepathEvent } from '@glidepath/db';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcHarness } from '../testing/oidc-harness.ts';
import { TEST_REDIS_URL } from '../testing/test-app.ts';

// Deploy windows, freezes and break-glass against the real API, worker and OpenID provider.
let h: Awaited<ReturnType<typeof createOidcHarness>>;
let worker: WorkerProcess;
let envId: string;
const published: GlidepathEvent[] = [];
let bus: ReturnType<typeof createRedisEventBus>;
type Release = {
  id: string;
  phase: string;
  canaryWeight: number;
  reason: string | null;
  opensAt: string | null;
  breakGlass: { display: string; reason: string } | null;
};

async function admin(method: string, path: string, body?: unknown) {
  const res = await h.api(method, `/api/v1${path}`, undefined, { body, headers: h.t.admin });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res.json() as Promise<{ id: string; release?: Release }>;
}
async function until(id: string, phase: string): Promise<Release> {
  let release = {} as Release;
  await expect
    .poll(async () => (release = (await (await h.api('GET', `/api/v1/releases/${id}`, undefined, { headers: h.t.admin })).json()) as Release).phase, {
      timeout: 30_000,
      interval: 100,
    })
    .toBe(phase);
  return release;
}
const freezeFor = (ms: number, reason = 'payment provider migration') => ({
  freezes: [{ from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + ms).toISOString(), reason }],
});
let version = 0;
async function release(plan = 'manual') {
  version += 1;
  await admin('POST', '/artifacts', { service: 'shop', version: `2.0.${version}`, digest: `sha256:${String(version).padStart(64, 'b')}` });
  return (await admin('POST', '/releases', { service: 'shop', environment: 'live', version: `2.0.${version}`, plan })).id;
}

beforeAll(async () => {
  h = await createOidcHarness();
  worker = startWorkerProcess({ databaseUrl: h.t.databaseUrl, queuePrefix: h.t.queuePrefix });
  bus = createRedisEventBus(TEST_REDIS_URL, () => {}, h.t.queuePrefix);
  await bus.subscribe((event) => published.push(event));
  await admin('POST', '/services', { name: 'shop' });
  envId = (await admin('POST', '/environments', { service: 'shop', name: 'live', position: 0, target: { type: 'recording', config: { key: 'shop-live' } } }))
    .id;
  await admin('POST', '/plans', {
    name: 'manual',
    spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 30 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }] },
  });
  await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'glidepath-admins' }, role: 'admin' });
  await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'release-managers' }, role: 'deployer' });
}, 120_000);
afterAll(async () => {
  await bus.close();
  await worker.stop();
  await h.close();
});

describe('deploy windows and freezes', () => {
  it('a release asked for during a freeze is queued with the reason and when it starts, and starts by itself when the freeze ends', async () => {
    await admin('PATCH', `/environments/${envId}`, { policy: freezeFor(60 * 60_000) });
    const id = await release();
    const queued = await until(id, 'queued');
    expect(queued.reason).toMatch(/^frozen until .*: payment provider migration \(opens /);
    expect(Date.parse(queued.opensAt!)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(queued.canaryWeight).toBe(0);
    // The freeze is shortened to end in 3 s: the change wakes the release, which learns the new end and starts by itself
    // then (without the wake it would sleep until the old end, an hour away).
    await admin('PATCH', `/environments/${envId}`, { policy: freezeFor(3000) });
    const started = await until(id, 'paused'); // after setWeight 30, at the plan's open-ended pause
    expect(started.canaryWeight).toBe(30);

    // A freeze that begins while it runs holds it at the next step boundary, traffic unchanged.
    await admin('PATCH', `/environments/${envId}`, { policy: freezeFor(60 * 60_000, 'incident 42') });
    await admin('POST', `/releases/${id}/resume?wait=10000`, {});
    const held = await until(id, 'queued');
    expect(held).toMatchObject({ canaryWeight: 30, reason: expect.stringMatching(/incident 42/) });
    // Lifting the freeze wakes it at once.
    await admin('PATCH', `/environments/${envId}`, { policy: { freezes: [] } });
    expect((await until(id, 'succeeded')).canaryWeight).toBe(100);
  });

  it('rollback and abort are never blocked by a freeze', async () => {
    await admin('PATCH', `/environments/${envId}`, { policy: { freezes: [] } });
    const id = await release();
    await until(id, 'paused');
    await admin('PATCH', `/environments/${envId}`, { policy: freezeFor(60 * 60_000) });
    const rolled = await admin('POST', `/releases/${id}/rollback?wait=10000`, { reason: 'bad metrics' });
    expect(rolled.release!.phase).toBe('rolled-back');
    const queued = await release();
    await until(queued, 'queued');
    expect((await admin('POST', `/releases/${queued}/abort?wait=10000`, {})).release!.phase).toBe('aborted');
  });
});

describe('break-glass', () => {
  it('starts a frozen release now for a person with the role and a reason, marks it, and announces it', async () => {
    await admin('PATCH', `/environments/${envId}`, { policy: freezeFor(60 * 60_000) });
    const id = await release();
    await until(id, 'queued');
    const dana = await h.signIn('dana');
    const alice = await h.signIn('alice');
    const tokenTry = await h.api('POST', `/api/v1/releases/${id}/break-glass`, undefined, { headers: h.t.admin, body: { reason: 'checkout is down, hotfix' } });
    expect(tokenTry.status).toBe(403);
    expect(((await tokenTry.json()) as { error: { message: string } }).error.message).toMatch(/only a signed-in person/);
    const deployerTry = await h.api('POST', `/api/v1/releases/${id}/break-glass`, alice.session, {
      csrf: alice.csrf,
      body: { reason: 'checkout is down, hotfix' },
    });
    expect(deployerTry.status).toBe(403);
    const noReason = await h.api('POST', `/api/v1/releases/${id}/break-glass`, dana.session, { csrf: dana.csrf, body: { reason: 'now' } });
    expect(noReason.status).toBe(400);

    const broken = await h.api('POST', `/api/v1/releases/${id}/break-glass?wait=10000`, dana.session, {
      csrf: dana.csrf,
      body: { reason: 'checkout is down, hotfix' },
    });
    expect(broken.status).toBe(200);
    const running = await until(id, 'paused');
    expect(running.breakGlass).toMatchObject({ display: 'dana@example.test', reason: 'checkout is down, hotfix' });
    // Still frozen, yet it goes on: break-glass holds for the rest of the release.
    await admin('POST', `/releases/${id}/resume?wait=10000`, {});
    await until(id, 'succeeded');
    const audit = await h.t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: id, action: 'release.break-glass' } });
    expect(audit).toMatchObject({ actorName: 'dana@example.test', actorType: 'user' });
    await expect
      .poll(() => published.find((e) => e.type === 'release.break-glass' && (e.data as { releaseId: string }).releaseId === id))
      .toMatchObject({
        data: { environmentId: envId, display: 'dana@example.test', reason: 'checkout is down, hotfix' },
      });
  });

  it('can be disabled per environment', async () => {
    await admin('PATCH', `/environments/${envId}`, { policy: { ...freezeFor(60 * 60_000), breakGlass: false } });
    const id = await release();
    await until(id, 'queued');
    const dana = await h.signIn('dana');
    const res = await h.api('POST', `/api/v1/releases/${id}/break-glass`, dana.session, { csrf: dana.csrf, body: { reason: 'checkout is down, hotfix' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/disabled in this environment/);
    await admin('POST', `/releases/${id}/abort?wait=10000`, {});
  });
});

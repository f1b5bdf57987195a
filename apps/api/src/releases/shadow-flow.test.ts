import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { startMirrorProxy, type MirrorProxy } from '@glidepath/providers';
import { startVersionApp, type VersionApp } from '@glidepath/providers/mirror-testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

/**
 * Shadow releases end to end: the real API, a real worker process, Glidepath's mirroring proxy in
 * front of the live version (blue), and on the idle slot (green) a version that differs on 20% of
 * its answers, then one that differs only in an ignored field. Users keep sending GETs and POSTs
 * through the proxy all along; the recording router shows every call the release made.
 */
let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
let proxy: MirrorProxy;
let live: VersionApp;
let worse: VersionApp;
let equivalent: VersionApp;
const slots: Record<string, string> = {};
const users = { answers: 0, notLive: 0, failed: 0, stop: false };
let traffic: Promise<void>;
const MIRROR_TOKEN = 'mirror-control-token-of-the-flow-test';

beforeAll(async () => {
  live = await startVersionApp({ servedBy: 'blue' });
  worse = await startVersionApp({ servedBy: 'green', differEvery: 5 });
  equivalent = await startVersionApp({ servedBy: 'green' });
  Object.assign(slots, { blue: live.url, green: worse.url });
  // The control API wants a token, as in production (--token-file): the worker sends GLIDEPATH_MIRROR_TOKEN.
  proxy = await startMirrorProxy({
    listen: { host: '127.0.0.1', port: 0 },
    control: { host: '127.0.0.1', port: 0, token: MIRROR_TOKEN },
    live: live.url,
    slots,
  });
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: { GLIDEPATH_MIRROR_TOKEN: MIRROR_TOKEN } });
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'search' } }))).status).toBe(201);
  const env = await reply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'search',
        name: 'prod',
        position: 0,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: { key: 'shadow' } },
        deployer: { type: 'none', config: {} },
        slots: ['blue', 'green'],
      },
    }),
  );
  expect(env.status, JSON.stringify(env.body)).toBe(201);
  const spec: Schemas['PlanSpec'] = {
    strategy: 'shadow',
    mirror: { url: proxy.controlUrl },
    analysis: { interval: '1s', maxDuration: '90s', onInconclusive: 'fail' },
    compare: { ignoreFields: ['timestamp', 'requestId', '$.meta.*'], latencyThresholdMs: 250 },
  };
  const plan = await reply(api.POST('/api/v1/plans', { body: { name: 'shadow', spec } }));
  expect(plan.status, JSON.stringify(plan.body)).toBe(201);
  for (const [version, d] of [
    ['2.0.0', 'b'],
    ['2.0.1', 'c'],
  ] as const)
    expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'search', version, digest: digest(d) } }))).status).toBe(201);
  // Users: GETs of items, and now and then an order (a POST, never to be copied), ~150 requests a second.
  traffic = (async () => {
    for (let i = 0; !users.stop; i++) {
      try {
        const order = i % 10 === 9;
        const r = await fetch(`${proxy.url}${order ? '/orders' : `/items/${i % 300}`}`, { method: order ? 'POST' : 'GET' });
        const body = (await r.json()) as { meta?: { servedBy?: string } };
        users.answers += 1;
        if (!order && body.meta?.servedBy !== 'blue') users.notLive += 1;
      } catch {
        users.failed += 1;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
}, 60_000);
afterAll(async () => {
  users.stop = true;
  await traffic;
  await worker?.stop();
  await t?.close();
  await proxy?.close();
  await Promise.all([live, worse, equivalent].map((a) => a?.close()));
});

const until = (id: string, phases: string[], timeout = 90_000) => untilPhase(api, id, phases, { timeout, interval: 100 });
const effects = async (releaseId: string) => (await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } })).map((r) => r.effect);
const start = async (version: string) => {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'search', environment: 'prod', version, plan: 'shadow' } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};
type Comparison = NonNullable<NonNullable<Schemas['Verdict']['source']>['shadow']>;
type ShadowEvidence = Schemas['Verdict'] & { source: { type: string; session: string; slot: string; shadow: Comparison } };

describe('shadow releases', { timeout: 180_000 }, () => {
  it('a version whose answers differ on 20% of items fails on differences and rolls back: mirroring stopped, nothing served by it', async () => {
    const release = await start('2.0.0');
    // Once it runs, it cannot be promoted: it serves nothing.
    await expect.poll(async () => proxy.active()?.config.session.startsWith(release.id) ?? false, { timeout: 30_000 }).toBe(true);
    const promoted = await reply(api.POST('/api/v1/releases/{id}/promote', { params: { path: { id: release.id } }, body: {} }));
    expect(promoted.status).toBe(409);
    expect(promoted.body.error!.message).toMatch(/serves nothing/);

    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('rolled-back');
    expect(done.reason).toMatch(/differences/);
    const evidence = done.steps.at(-1)!.evidence as ShadowEvidence;
    expect(evidence.metrics.find((m) => m.name === 'differences')!.outcome).toBe('fail');
    const comparison = evidence.source.shadow;
    expect(evidence.source).toMatchObject({ type: 'mirror', slot: 'green', session: `${release.id}:0:1` });
    expect(comparison.rates.shadow).toBeGreaterThan(0.1);
    expect(comparison.rates.shadow).toBeLessThan(0.3);
    expect(comparison.rates.secondary).toBe(0);
    expect(comparison.fields[0]).toMatchObject({ path: '$.label', secondary: 0 });
    expect(comparison.samples.find((s) => s.arm === 'shadow')).toMatchObject({ method: 'GET', paths: ['$.label'], comparedAs: 'json' });
    expect(comparison.skipped.method).toBeGreaterThan(0); // the orders

    // Rolled back = copying stopped: the proxy's session is closed, and green gets no more copies.
    const session = proxy.sessions.get(`${release.id}:0:1`)!;
    expect(session.stoppedAt).not.toBeNull();
    expect(proxy.active()).toBeNull();
    const copies = worse.copies;
    await new Promise((r) => setTimeout(r, 300));
    expect(worse.copies).toBe(copies);
    // The router was never asked to send users anywhere but live: only the absolute "all to live" of the rollback.
    expect(await effects(release.id)).toEqual([{ type: 'rollback', slots: { live: 'blue', idle: 'green' } }]);
    // No order (POST) was ever copied, and every user's answer came from the live version.
    expect(worse.orders).toBe(0);
    expect(worse.received.POST ?? 0).toBe(0);
    expect(users.notLive).toBe(0);
    expect(users.failed).toBe(0);
  });

  it('a version that differs only in an ignored field passes, and the live slot stays live; a worker killed mid-shadow is replaced without a second session', async () => {
    slots.green = equivalent.url; // the deployer put 2.0.1 on green
    const release = await start('2.0.1');
    await expect.poll(async () => (proxy.active()?.tally.shadow.compared ?? 0) > 50, { timeout: 30_000 }).toBe(true);
    expect(proxy.active()!.config.session).toBe(`${release.id}:0:1`);
    await worker.kill();
    const compared = proxy.active()!.tally.shadow.compared;
    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: { GLIDEPATH_MIRROR_TOKEN: MIRROR_TOKEN } });

    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.reason).toMatch(/the shadow passed/);
    const evidence = done.steps.at(-1)!.evidence as ShadowEvidence;
    expect(evidence.outcome).toBe('pass');
    expect(evidence.source.shadow.rates.shadow).toBe(0);
    expect(evidence.source.shadow.shadow.compared).toBeGreaterThan(compared);
    // One session for the step attempt, continued across the worker's replacement, and closed.
    const sessions = [...proxy.sessions.keys()].filter((k) => k.startsWith(release.id));
    expect(sessions).toEqual([`${release.id}:0:1`]);
    expect(proxy.sessions.get(sessions[0]!)!.stoppedAt).not.toBeNull();
    // No router call at all, the slots unchanged: blue live, green holds the shadow.
    expect(await effects(release.id)).toEqual([]);
    expect(await t.prisma.environmentSlotState.findUnique({ where: { environmentId: release.environment.id } })).toMatchObject({ liveSlot: 'blue' });
    const transitions = await t.prisma.releaseTransition.findMany({ where: { releaseId: release.id } });
    expect(transitions.filter((tr) => (tr.effects as Array<{ type: string }> | null)?.some((e) => e.type === 'run-gate'))).toHaveLength(1);

    // Nothing to switch back to, and no version is rolled forward in its place.
    const rolled = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: release.id } }, body: {} }));
    expect(rolled.status).toBe(409);
    expect(rolled.body.error!.message).toMatch(/never served traffic/);
    expect(users.notLive).toBe(0);
    expect(equivalent.orders).toBe(0);
    // Nothing it passed made it "what runs" in prod: the board shows no release serving there.
    const board = await t.app.inject({ url: '/api/v1/board', headers: t.admin });
    const prod = (board.json() as { items: Array<{ environments: Array<{ name: string; running: unknown }> }> }).items[0]!.environments.find(
      (e) => e.name === 'prod',
    );
    expect(prod!.running).toBeNull();
  });

  it('an aborted shadow release stops copying: its next look closes the session', async () => {
    const artifact = await reply(api.POST('/api/v1/artifacts', { body: { service: 'search', version: '2.0.2', digest: digest('d') } }));
    expect(artifact.status).toBe(201);
    const release = await start('2.0.2');
    await expect.poll(async () => proxy.active()?.config.session.startsWith(release.id) ?? false, { timeout: 30_000 }).toBe(true);
    const aborted = await reply(api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: release.id } }, body: { reason: 'not now' } }));
    expect(aborted.status, JSON.stringify(aborted.body)).toBe(200);
    await expect.poll(() => proxy.sessions.get(`${release.id}:0:1`)?.stoppedAt ?? null, { timeout: 15_000 }).not.toBeNull();
    expect(proxy.sessions.get(`${release.id}:0:1`)!.stopReason).toBe('stopped by Glidepath');
    expect(proxy.active()).toBeNull();
  });

  it('a mirroring proxy restarted mid-shadow: the session is opened again and what it had counted is carried', async () => {
    const artifact = await reply(api.POST('/api/v1/artifacts', { body: { service: 'search', version: '2.0.3', digest: digest('e') } }));
    expect(artifact.status).toBe(201);
    slots.green = equivalent.url;
    const release = await start('2.0.3');
    const session = `${release.id}:0:1`;
    // Two looks at least have stored the session's counts before the proxy goes.
    await expect.poll(async () => (await t.prisma.analysisMeasurement.count({ where: { releaseId: release.id } })) >= 2, { timeout: 30_000 }).toBe(true);
    const before = proxy.sessions.get(session)!.tally.shadow.compared;
    const [listen, control] = [new URL(proxy.url), new URL(proxy.controlUrl)];
    await proxy.close();
    proxy = await startMirrorProxy({
      listen: { host: '127.0.0.1', port: Number(listen.port) },
      control: { host: '127.0.0.1', port: Number(control.port), token: MIRROR_TOKEN },
      live: live.url,
      slots,
    });
    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    const evidence = done.steps.at(-1)!.evidence as ShadowEvidence & { source: { restarts: number } };
    expect(evidence.source.restarts).toBe(1);
    // The counts the judge passed on are the new session's plus what the lost one had at the last look.
    expect(evidence.source.shadow.shadow.compared).toBeGreaterThan(proxy.sessions.get(session)!.tally.shadow.compared);
    expect(evidence.source.shadow.shadow.compared).toBeGreaterThan(before / 2);
  });

  it('a session stopped by its verdict before a worker died: the replacement judges the final tally rather than waiting for the limit', async () => {
    const artifact = await reply(api.POST('/api/v1/artifacts', { body: { service: 'search', version: '2.0.4', digest: digest('f') } }));
    expect(artifact.status).toBe(201);
    slots.green = equivalent.url;
    const release = await start('2.0.4');
    const session = `${release.id}:0:1`;
    await expect.poll(async () => (proxy.sessions.get(session)?.tally.shadow.compared ?? 0) > 50, { timeout: 30_000 }).toBe(true);
    // What a verdict's stop leaves when the worker dies before posting it: the session stopped, the step still running,
    // its tally enough for a verdict (copied on while no worker looked).
    await worker.kill();
    await expect.poll(async () => proxy.sessions.get(session)!.tally.shadow.compared > 1500, { timeout: 30_000 }).toBe(true);
    const stopped = await fetch(`${proxy.controlUrl}/sessions/${encodeURIComponent(session)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${MIRROR_TOKEN}` },
    });
    expect(stopped.status).toBe(200);
    await expect.poll(() => proxy.inFlight()).toBe(0); // copies under way at the stop still count
    const compared = proxy.sessions.get(session)!.tally.shadow.compared;
    const startedAt = Date.now();
    worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix, extra: { GLIDEPATH_MIRROR_TOKEN: MIRROR_TOKEN } });
    const done = await until(release.id, ['succeeded', 'rolled-back', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    // Judged on the stopped session's counts, well before the step's 90 s limit, with no second session.
    expect((done.steps.at(-1)!.evidence as ShadowEvidence).source.shadow.shadow.compared).toBe(compared);
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    expect([...proxy.sessions.keys()].filter((k) => k.startsWith(release.id))).toEqual([session]);
  });

  it('refuses a shadow plan with bad input, naming the field; and an environment without slots cannot run one', async () => {
    const bad = await reply(
      api.POST('/api/v1/plans', {
        body: {
          name: 'bad-shadow',
          spec: { strategy: 'shadow', mirror: { url: proxy.controlUrl }, compare: { methods: ['GET', 'POST', 'BREW'], ignoreFields: ['$.a..b'] } } as never,
        },
      }),
    );
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toMatch(/compare\.methods\[2\]/);
    expect(JSON.stringify(bad.body)).toMatch(/compare\.ignoreFields\[0\]/);
    const bare = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'search', name: 'bare', position: 1, requireUpstreamSuccess: false, target: { type: 'recording', config: {} } },
      }),
    );
    expect(bare.status).toBe(201);
    const refused = await reply(api.POST('/api/v1/releases', { body: { service: 'search', environment: 'bare', version: '2.0.1', plan: 'shadow' } }));
    expect(refused.status).toBe(409);
    expect(refused.body.error!.message).toMatch(/shadow step.*no deployer with slots/);
  });
});

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { verifyStandardWebhook, type DeploymentMessage, type DeploymentStatusQuery } from '@glidepath/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

// The signed-webhook deployer end to end: the real API, a real worker process, and a receiver as a
// platform would write one (below), which verifies every Standard Webhooks signature, applies each
// webhook-id once, and serves each slot's digest on a health endpoint the deployer checks.
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const WRONG = `sha256:${'e'.repeat(64)}`;

/** How the receiver deploys to a slot: at once (200 ready), later (202, ready on the second status query), another digest, or holding the request open until released. */
type Behaviour = 'sync' | 'async' | 'wrong' | 'hold';
interface Delivery {
  webhookId: string;
  valid: boolean;
  message: DeploymentMessage | DeploymentStatusQuery;
}
interface Operation {
  id: string;
  state: 'pending' | 'ready';
  digest: string;
  slot: string;
  queries: number;
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
async function startReceiver(behaviourOf: (slot: string) => Behaviour) {
  const deliveries: Delivery[] = [];
  const operations = new Map<string, Operation>();
  const slots = new Map<string, string>();
  const held = new Set<http.ServerResponse>();
  const performed = new Map<string, number>();
  const send = (res: http.ServerResponse, status: number, body?: unknown) =>
    void res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
  const answer = (op: Operation) => ({ id: op.id, state: op.state, ...(op.state === 'ready' ? { digest: op.digest } : {}) });
  const ready = (op: Operation) => {
    op.state = 'ready';
    slots.set(op.slot, op.digest);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET') {
        const [, kind, slot] = (req.url ?? '').split('/');
        const served = kind === 'health' && slot ? slots.get(decodeURIComponent(slot)) : undefined;
        return served ? void res.writeHead(200, { 'x-app-digest': served }).end('ok') : send(res, 503);
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyStandardWebhook(SECRET, req.headers, body);
      const webhookId = String(req.headers['webhook-id']);
      const message = JSON.parse(body) as DeploymentMessage | DeploymentStatusQuery;
      deliveries.push({ webhookId, valid, message });
      if (!valid) return send(res, 401);

      if (message.type === 'glidepath.deployment.status') {
        const op = message.id === null ? undefined : operations.get(message.id);
        if (!op) return send(res, 404);
        // An asynchronous deploy finishes between the first status query and the second.
        if (++op.queries >= 2 && op.state === 'pending' && behaviourOf(op.slot) === 'async') ready(op);
        return send(res, 200, answer(op));
      }
      if (message.action !== 'deploy') return send(res, 400);
      // Each webhook-id is applied once: a repeated delivery answers with the operation it started.
      const known = operations.get(webhookId);
      if (known) return known.state === 'pending' ? send(res, 202) : send(res, 200, answer(known));
      performed.set(webhookId, (performed.get(webhookId) ?? 0) + 1);
      const behaviour = behaviourOf(message.slot);
      const op: Operation = {
        id: webhookId,
        state: 'pending',
        digest: behaviour === 'wrong' ? WRONG : message.artifact.digest,
        slot: message.slot,
        queries: 0,
      };
      operations.set(webhookId, op);
      if (behaviour === 'async') return send(res, 202);
      if (behaviour === 'hold') return void held.add(res);
      ready(op);
      send(res, 200, answer(op));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    deliveries,
    deploys: (id: string) => deliveries.filter((d) => d.message.type === 'glidepath.deployment' && d.message.id === id),
    performed: (id: string) => performed.get(id) ?? 0,
    digestOn: (slot: string) => slots.get(slot) ?? null,
    /** Finishes a held deploy and answers whatever request is still open for it (a killed worker's is long gone). */
    release(id: string) {
      ready(operations.get(id)!);
      for (const res of held) if (!res.destroyed) send(res, 200, answer(operations.get(id)!));
      held.clear();
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
const startWorker = () => startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });

beforeAll(async () => {
  receiver = await startReceiver((slot) =>
    slot.startsWith('async') ? 'async' : slot.startsWith('wrong') ? 'wrong' : slot.startsWith('held') ? 'hold' : 'sync',
  );
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorker();
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'shop' } }))).status).toBe(201);
  const deployer = {
    type: 'webhook',
    config: {
      url: `${receiver.base}/glidepath/deploy`,
      secret: SECRET,
      // Longer than a held deploy is held: the killed worker's request is not retried before it dies.
      requestTimeoutMs: 20_000,
      pollIntervalMs: 100,
      readyTimeoutMs: 60_000,
      healthCheck: { url: `${receiver.base}/health/{slot}`, digestHeader: 'x-app-digest', passes: 1, intervalMs: 100, timeoutMs: 10_000 },
    },
  };
  const envs = [
    { name: 'prod', slots: ['blue', 'green'] },
    { name: 'later', slots: ['async-1', 'async-2'] },
    { name: 'wrong', slots: ['wrong-1', 'wrong-2'] },
    { name: 'held', slots: ['held-1', 'held-2'] },
  ];
  for (const [position, env] of envs.entries()) {
    const created = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'shop', position, requireUpstreamSuccess: false, target: { type: 'recording', config: { key: env.name } }, deployer, ...env },
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
  ] as const)
    expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'shop', version, digest: digest(d) } }))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t?.close();
  await receiver?.close();
});

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 60_000, interval: 50 });
const over = ['succeeded', 'rolled-back', 'failed'];
const effects = async (releaseId: string) => (await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } })).map((r) => r.effect);
const start = async (environment: string, version: string) => {
  const created = await reply(api.POST('/api/v1/releases', { body: { service: 'shop', environment, version, plan: 'steps' } }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};
/** The one deploy the receiver got for a deployment: signed, keyed by the deployment id, with the slot and digest asked. */
const expectOneDeploy = (id: string, slot: string, asked: string) => {
  expect(receiver.deploys(id)).toEqual([
    {
      webhookId: id,
      valid: true,
      message: expect.objectContaining({ type: 'glidepath.deployment', action: 'deploy', id, slot, artifact: expect.objectContaining({ digest: asked }) }),
    },
  ]);
};

describe('the webhook deployer through a real worker', { timeout: 120_000 }, () => {
  it('deploys to the idle slot with one signed request, shifts traffic to it; the next release goes to the other slot', async () => {
    const first = await start('prod', '1.0.0');
    const done = await until(first.id, over);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expectOneDeploy(`${first.id}:deploy:1`, 'green', digest('a'));
    expect(receiver.digestOn('green')).toBe(digest('a'));
    const slots = { live: 'blue', idle: 'green' };
    expect(await effects(first.id)).toEqual([
      { type: 'set-weight', weight: 20, slots },
      { type: 'promote', slots },
    ]);

    const second = await start('prod', '2.0.0');
    const next = await until(second.id, over);
    expect(next.phase, next.reason ?? '').toBe('succeeded');
    expectOneDeploy(`${second.id}:deploy:1`, 'blue', digest('b'));
    expect(receiver.digestOn('green')).toBe(digest('a'));
    expect(await effects(second.id)).toEqual([
      { type: 'set-weight', weight: 20, slots: { live: 'green', idle: 'blue' } },
      { type: 'promote', slots: { live: 'green', idle: 'blue' } },
    ]);
    expect(await t.prisma.environmentSlotState.findUnique({ where: { environmentId: second.environment.id } })).toMatchObject({
      liveSlot: 'blue',
      liveReleaseId: second.id,
      previousReleaseId: first.id,
    });
  });

  it('a receiver that answers 202 is asked for the status until it reports ready, each query signed with a fresh id', async () => {
    const release = await start('later', '1.0.0');
    const id = `${release.id}:deploy:1`;
    const done = await until(release.id, over);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expectOneDeploy(id, 'async-2', digest('a'));
    const queries = receiver.deliveries.filter((d) => d.message.type === 'glidepath.deployment.status' && d.message.id === id);
    // pending, then ready, then the confirmation after the health check.
    expect(queries.length).toBeGreaterThanOrEqual(3);
    expect(queries.every((q) => q.valid && q.webhookId.startsWith('query_') && q.message.slot === 'async-2')).toBe(true);
    expect(new Set(queries.map((q) => q.webhookId)).size).toBe(queries.length);
    expect(done.slots).toMatchObject({ live: 'async-1', idle: 'async-2', deployment: { status: 'ready', digest: digest('a') } });
    expect(await effects(release.id)).toHaveLength(2);
    expect(await t.prisma.environmentSlotState.findUnique({ where: { environmentId: release.environment.id } })).toMatchObject({ liveSlot: 'async-2' });
  });

  it('a receiver that reports another digest ends the release naming both, and no traffic moves', async () => {
    const release = await start('wrong', '1.0.0');
    const done = await until(release.id, over);
    expect(done.phase).toBe('rolled-back');
    expect(done.reason).toContain(`the receiver reported digest ${WRONG}, asked ${digest('a')}`);
    expectOneDeploy(`${release.id}:deploy:1`, 'wrong-2', digest('a'));
    expect(await effects(release.id)).toEqual([]);
    expect(await t.prisma.environmentSlotState.findUnique({ where: { environmentId: release.environment.id } })).toMatchObject({
      liveSlot: 'wrong-1',
      liveReleaseId: null,
    });
  });

  it('a worker killed while the receiver holds the deploy: the replacement sends the same webhook-id, and it is applied once', async () => {
    const release = await start('held', '1.0.0');
    const id = `${release.id}:deploy:1`;
    await expect.poll(() => receiver.performed(id), { timeout: 30_000, interval: 50 }).toBe(1);
    await worker.kill();
    worker = startWorker();
    // The protocol promises one webhook-id per deployment, on every delivery from any worker; the receiver de-duplicates.
    await expect.poll(() => receiver.deploys(id).length, { timeout: 30_000, interval: 50 }).toBe(2);
    receiver.release(id);
    const done = await until(release.id, over);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(receiver.deploys(id).map((d) => [d.webhookId, d.valid])).toEqual([
      [id, true],
      [id, true],
    ]);
    expect(receiver.performed(id)).toBe(1);
    expect(receiver.digestOn('held-2')).toBe(digest('a'));
  });

  it('every request the receiver got was signed', () => {
    expect(receiver.deliveries.length).toBeGreaterThan(0);
    expect(receiver.deliveries.filter((d) => !d.valid)).toEqual([]);
  });
});

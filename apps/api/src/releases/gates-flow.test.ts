import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
let server: Server;
let base: string;
/** What the fake service and the external gate answer; tests flip these. */
const behaviour = { healthStatus: 200, gateVerdict: 'pass' as 'pass' | 'fail', gateCalls: [] as unknown[] };

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(behaviour.healthStatus).end(behaviour.healthStatus === 200 ? 'ok 2.0.0' : 'broken');
    } else if (req.url === '/gate' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        behaviour.gateCalls.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ verdict: behaviour.gateVerdict, reason: 'change ticket CHG-1' }));
      });
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
  await api.POST('/api/v1/services', { body: { name: 'search' } });
  for (const [position, name] of ['a', 'b', 'c'].entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'search', name, position, requireUpstreamSuccess: false, target: { type: 'recording', config: {} }, smokeBaseUrl: base },
      }),
    );
    expect(env.status).toBe(201);
  }
  const plan = await reply(
    api.POST('/api/v1/plans', {
      body: {
        name: 'gated',
        spec: {
          strategy: 'canary',
          steps: [
            { type: 'setWeight', weight: 10 },
            { type: 'smoke', checks: [{ path: '/healthz', expectStatus: 200, bodyContains: 'ok', maxLatency: '2s' }], retries: 1, retryDelay: '200ms' },
            { type: 'webhook', url: `${base}/gate`, timeout: '2s', retries: 0 },
            { type: 'setWeight', weight: 100 },
          ],
        },
      },
    }),
  );
  expect(plan.status).toBe(201);
  await api.POST('/api/v1/artifacts', { body: { service: 'search', version: '2.0.0', digest: digest('d') } });
}, 60_000);
afterAll(async () => {
  await worker.stop();
  await t.close();
  server.close();
});

async function finish(environment: string) {
  const r = await reply(api.POST('/api/v1/releases', { body: { service: 'search', environment, version: '2.0.0', plan: 'gated' } }));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  let release: Schemas['ReleaseDetail'] | undefined;
  const get = async () => (release = (await api.GET('/api/v1/releases/{id}', { params: { path: { id: r.body.id } } })).data);
  await expect
    .poll(async () => ['succeeded', 'rolled-back'].includes((await get())?.phase ?? ''), {
      timeout: 30_000,
      interval: 100,
    })
    .toBe(true);
  return release as { phase: string; reason: string; steps: Array<{ status: string; evidence: Record<string, unknown> }> };
}

describe('smoke and webhook gates', () => {
  it('passes smoke checks and an external gate, with the evidence of both', { timeout: 60_000 }, async () => {
    const done = await finish('a');
    expect(done.phase).toBe('succeeded');
    expect(done.steps[1]!.evidence).toMatchObject({ baseUrl: base, rounds: [[{ path: '/healthz', ok: true, status: 200 }]] });
    expect(done.steps[2]!.evidence).toMatchObject({ verdict: { verdict: 'pass', reason: 'change ticket CHG-1' } });
    expect(behaviour.gateCalls.at(-1)).toMatchObject({ service: 'search', environment: 'a', artifact: { version: '2.0.0', digest: digest('d') } });
  });

  it('rolls back when the external gate says fail', { timeout: 60_000 }, async () => {
    behaviour.gateVerdict = 'fail';
    const done = await finish('b');
    expect(done).toMatchObject({ phase: 'rolled-back', reason: expect.stringMatching(/webhook gate .* answered fail: change ticket CHG-1/) });
    behaviour.gateVerdict = 'pass';
  });

  it('rolls back when smoke checks keep failing after their retries', { timeout: 60_000 }, async () => {
    behaviour.healthStatus = 500;
    const done = await finish('c');
    expect(done.phase).toBe('rolled-back');
    expect(done.reason).toMatch(/smoke failed after 2 round\(s\): \/healthz answered 500, expected 200/);
    behaviour.healthStatus = 200;
  });
});

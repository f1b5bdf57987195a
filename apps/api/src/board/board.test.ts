import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

// The board from real rows: successes written as the worker leaves them, an in-flight release
// started through the API (no worker runs here, so it stays pending).
let t: Awaited<ReturnType<typeof createTestApp>>;
const ids: Record<string, string> = {};
const digest = (c: string) => `sha256:${c.repeat(64)}`;

async function post(url: string, payload: unknown) {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return (res.json() as { id: string }).id;
}

async function succeeded(env: string, version: string, finishedAt: Date) {
  await t.prisma.release.create({
    data: {
      id: randomUUID(),
      serviceId: ids.service!,
      environmentId: ids[env]!,
      artifactId: ids[version]!,
      planId: ids.plan!,
      phase: 'succeeded',
      stepIndex: 1,
      state: {},
      version: 3,
      requestedBy: 'token:test',
      finishedAt,
    },
  });
}

beforeAll(async () => {
  t = await createTestApp();
  ids.service = await post('/services', { name: 'checkout' });
  for (const [position, name] of ['dev', 'staging', 'prod'].entries())
    ids[name] = await post('/environments', { service: 'checkout', name, position, target: { type: 'recording', config: { key: `board-${name}` } } });
  ids.plan = await post('/plans', {
    name: 'quick',
    spec: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 50 },
        { type: 'setWeight', weight: 100 },
      ],
    },
  });
  for (const [version, c] of Object.entries({ '1.0.1': 'a', '1.0.2': 'b', '1.0.3': 'c' }))
    ids[version] = await post('/artifacts', { service: 'checkout', version, digest: digest(c) });
  await succeeded('dev', '1.0.1', new Date('2026-11-01T10:00:00Z'));
  await succeeded('staging', '1.0.1', new Date('2026-11-01T12:00:00Z'));
  await succeeded('dev', '1.0.2', new Date('2026-11-02T10:00:00Z'));
});
afterAll(() => t.close());

type Board = {
  items: Array<{
    service: { name: string };
    environments: Array<{
      name: string;
      running: { version: string; digest: string } | null;
      inFlight: Array<{ version: string; phase: string; steps: number }>;
      promotion: { to: { name: string }; version: string; plan: string } | null;
    }>;
  }>;
};

async function board(headers = t.admin) {
  const res = await t.app.inject({ url: '/api/v1/board', headers });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as Board).items;
}

describe('GET /api/v1/board', () => {
  it('shows each environment in promotion order with what runs there and what could move on', async () => {
    const [checkout] = await board();
    expect(checkout!.environments.map((e) => [e.name, e.running?.version ?? null, e.promotion?.version ?? null, e.promotion?.to.name ?? null])).toEqual([
      ['dev', '1.0.2', '1.0.2', 'staging'],
      ['staging', '1.0.1', '1.0.1', 'prod'],
      ['prod', null, null, null],
    ]);
    expect(checkout!.environments[0]!.promotion!.plan).toBe('quick');
  });

  it('shows a release in flight with its progress, and stops offering the digest it carries', async () => {
    await post('/releases', { service: 'checkout', environment: 'staging', version: '1.0.2', plan: 'quick' });
    const [checkout] = await board();
    const [dev, staging] = checkout!.environments;
    expect(staging!.inFlight).toMatchObject([{ version: '1.0.2', phase: 'pending', steps: 2 }]);
    expect(dev!.promotion).toBeNull();
  });

  it('refuses, in words, to promote a digest that never succeeded upstream', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/releases',
      headers: t.admin,
      payload: { service: 'checkout', environment: 'prod', version: '1.0.3', plan: 'quick' },
    });
    expect(res.statusCode).toBe(409);
    expect((res.json() as { error: { message: string } }).error.message).toContain('has no succeeded release in staging');
  });

  it('shows a scoped reader only the environments it may read', async () => {
    const secret = await t.tokenWith('prod-reader', 'viewer', { serviceId: ids.service, environmentId: ids.prod });
    const items = await board({ authorization: `Bearer ${secret}` });
    expect(items.map((s) => [s.service.name, s.environments.map((e) => e.name)])).toEqual([['checkout', ['prod']]]);
    const other = await post('/services', { name: 'other' });
    const otherReader = await t.tokenWith('other-reader', 'viewer', { serviceId: other });
    expect((await board({ authorization: `Bearer ${otherReader}` })).map((s) => [s.service.name, s.environments])).toEqual([['other', []]]);
  });
});

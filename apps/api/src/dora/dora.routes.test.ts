import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

// DORA figures from real rows: releases written with known outcome times, figures worked out by hand.
let t: Awaited<ReturnType<typeof createTestApp>>;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const h = (hours: number) => new Date(T0 + hours * 3_600_000);
const ids: Record<string, string> = {};

async function post(url: string, payload: unknown) {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return (res.json() as { id: string }).id;
}

beforeAll(async () => {
  t = await createTestApp();
  ids.service = await post('/services', { name: 'checkout' });
  ids.dev = await post('/environments', { service: 'checkout', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'd' } } });
  ids.prod = await post('/environments', { service: 'checkout', name: 'prod', position: 1, target: { type: 'recording', config: { key: 'p' } } });
  ids.plan =
    (await t.prisma.releasePlan.findFirst())?.id ??
    (await post('/plans', { name: 'p', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } }));
  const release = async (env: 'dev' | 'prod', phase: string, registeredAt: Date, at: Date) => {
    const version = `1.0.${Object.keys(ids).length}`;
    ids[version] = await post('/artifacts', { service: 'checkout', version, digest: `sha256:${randomUUID().replaceAll('-', '').padEnd(64, '0')}` });
    await t.prisma.artifact.update({ where: { id: ids[version] }, data: { createdAt: registeredAt } });
    await t.prisma.release.create({
      data: {
        id: randomUUID(),
        serviceId: ids.service!,
        environmentId: ids[env]!,
        artifactId: ids[version]!,
        planId: ids.plan!,
        phase,
        stepIndex: 1,
        state: {},
        version: 1,
        requestedBy: 'token:test',
        finishedAt: phase === 'failed' ? null : at,
        updatedAt: at,
      },
    });
  };
  await release('dev', 'succeeded', h(0), h(2));
  await release('dev', 'rolled-back', h(29), h(30));
  await release('dev', 'succeeded', h(31), h(33));
  await release('prod', 'succeeded', h(0), h(6));
  await release('prod', 'failed', h(40), h(50));
  await release('prod', 'succeeded', h(31), h(54));
  await release('prod', 'rolled-back', h(88), h(90));
});
afterAll(() => t.close());

describe('GET /api/v1/dora', () => {
  it('returns the figures worked out by hand for each environment', async () => {
    const res = await t.app.inject({ url: `/api/v1/dora?from=${h(0).toISOString()}&to=${h(96).toISOString()}`, headers: t.admin });
    expect(res.statusCode, res.body).toBe(200);
    const { items } = res.json() as { items: Array<Record<string, unknown>> };
    expect(items.map((i) => i.environment)).toEqual(['dev', 'prod']);
    expect(items[0]).toMatchObject({
      deployments: 3,
      failures: 1,
      deploymentsPerDay: 0.75,
      changeFailureRate: 1 / 3,
      leadTime: { medianSeconds: 7200 },
      timeToRestore: { medianSeconds: 10800 },
    });
    expect(items[1]).toMatchObject({
      lastEnvironment: true,
      deployments: 4,
      changeFailureRate: 0.5,
      leadTime: { count: 2, medianSeconds: 52_200 },
      timeToRestore: { count: 1, medianSeconds: 14_400, unrestored: 1 },
    });
  });

  it('shows a scoped reader only its environment, and names a bad period', async () => {
    const secret = await t.tokenWith('prod-reader', 'viewer', { serviceId: ids.service, environmentId: ids.prod });
    const res = await t.app.inject({
      url: `/api/v1/dora?from=${h(0).toISOString()}&to=${h(96).toISOString()}`,
      headers: { authorization: `Bearer ${secret}` },
    });
    expect((res.json() as { items: Array<{ environment: string }> }).items.map((i) => i.environment)).toEqual(['prod']);
    const bad = await t.app.inject({ url: `/api/v1/dora?from=${h(10).toISOString()}&to=${h(1).toISOString()}`, headers: t.admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('querystring.from: must be before to');
  });
});

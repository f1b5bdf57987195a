import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, digest, reply } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'search' } }))).status).toBe(201);
  const environments = {
    // Told not to read latency: an empty latencyBuckets query.
    blind: { type: 'prometheus', config: { url: 'http://prometheus.example:9090', queries: { latencyBuckets: '' } } },
    seeing: { type: 'prometheus', config: { url: 'http://prometheus.example:9090' } },
  };
  for (const [position, [name, metrics]] of Object.entries(environments).entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', {
        body: { service: 'search', name, position, requireUpstreamSuccess: false, target: { type: 'recording', config: { key: name } }, metrics },
      }),
    );
    expect(env.status).toBe(201);
  }
  expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'search', version: '1.0.0', digest: digest('e') } }))).status).toBe(201);
  const spec = {
    strategy: 'canary' as const,
    steps: [
      { type: 'setWeight' as const, weight: 10 },
      { type: 'analysis' as const, metrics: [{ name: 'p-slow', kind: 'latency' as const, thresholdMs: 250 }] },
      { type: 'setWeight' as const, weight: 100 },
    ],
  };
  expect((await reply(api.POST('/api/v1/plans', { body: { name: 'latency', spec } }))).status).toBe(201);
});
afterAll(() => t.close());

describe('a release is refused when its plan could never be judged where it goes', () => {
  it('a latency metric in an environment whose metrics source never reads latency: 409 with why; elsewhere it starts', async () => {
    const blind = await reply(api.POST('/api/v1/releases', { body: { service: 'search', environment: 'blind', version: '1.0.0', plan: 'latency' } }));
    expect(blind).toMatchObject({
      status: 409,
      body: { error: { message: 'plan "latency" judges latency, which environment blind never measures: its metrics source has no latencyBuckets query' } },
    });
    expect(await t.prisma.release.count()).toBe(0);
    const seeing = await reply(api.POST('/api/v1/releases', { body: { service: 'search', environment: 'seeing', version: '1.0.0', plan: 'latency' } }));
    expect(seeing.status).toBe(201);
  });

  it('a latency threshold no histogram has a boundary for cannot be saved', async () => {
    for (const thresholdMs of [0.5, 3_600_000]) {
      const saved = await reply(
        api.POST('/api/v1/plans', {
          body: { name: 'never', spec: { strategy: 'canary', steps: [{ type: 'analysis', metrics: [{ name: 'slow', kind: 'latency', thresholdMs }] }] } },
        }),
      );
      expect(saved.status).toBe(422);
      expect(JSON.stringify(saved.body.error)).toContain('steps[0].metrics[0].thresholdMs: must be a number 1–60000');
    }
  });
});

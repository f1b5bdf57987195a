import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

// Metrics sources with any label naming, and HAProxy's own metrics, as registration sees them.
let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'shop' } })).statusCode).toBe(201);
});
afterAll(() => t.close());

let position = 0;
const haproxy = { type: 'haproxy', config: { runtimeApi: 'tcp:127.0.0.1:9999', backend: 'shop', stableServer: 'blue', canaryServer: 'green' } };
const prometheus = (config: Record<string, unknown> = {}) => ({ type: 'prometheus', config: { url: 'http://127.0.0.1:9090', ...config } });
const environment = (fields: Record<string, unknown>) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/environments',
    headers: t.admin,
    payload: { service: 'shop', name: `env-${++position}`, position, requireUpstreamSuccess: false, target: haproxy, ...fields },
  });

function refused(res: { statusCode: number; json(): unknown }, field: string, problem: RegExp) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(422);
  const { error } = res.json() as { error: { details: Array<{ field: string; problem: string }> } };
  expect(error.details).toEqual([{ field, problem: expect.stringMatching(problem) }]);
}

describe('registering a metrics source', () => {
  it('another version label, a raw version in a query, a track label, a metadata value: accepted', async () => {
    for (const config of [
      { versionLabel: 'app_version' },
      {
        queries: {
          requests: 'sum(rate(http_requests_total{app_version="{{version}}"}[{{window}}]))',
          errors: 'sum(rate(http_requests_total{app_version="{{version}}",code=~"5.."}[{{window}}]))',
        },
      },
      { tracks: { canary: 'canary', baseline: 'primary' }, queries: { requests: 'sum(increase(x{track="{{track}}"}[{{window}}]))' } },
      { queries: { requests: 'sum(increase(x{pod_template_hash="{{metadata.podHash}}"}[{{window}}]))', latencyBuckets: '' } },
    ]) {
      const res = await environment({ metrics: prometheus(config) });
      expect(res.statusCode, JSON.stringify(res.json())).toBe(201);
    }
  });

  it('a template with an unknown placeholder or unbalanced braces is a 422 naming the query', async () => {
    refused(
      await environment({ metrics: prometheus({ queries: { requests: 'sum(x{v="{{verison}}"})' } }) }),
      'body.metrics.config.queries.requests',
      /unknown placeholder \{\{verison\}\}/,
    );
    refused(await environment({ metrics: prometheus({ queries: { errors: 'sum(x{v="a"' } }) }), 'body.metrics.config.queries.errors', /unbalanced "\{"/);
  });

  it("HAProxy's own metrics with an HAProxy router: nothing else to configure; with another router: 422, on create and when the router changes", async () => {
    const created = await environment({ metrics: prometheus({ preset: 'haproxy' }) });
    expect(created.statusCode, JSON.stringify(created.json())).toBe(201);
    refused(
      await environment({ target: { type: 'recording', config: {} }, metrics: prometheus({ preset: 'haproxy' }) }),
      'body.metrics.config.preset',
      /needs the environment's target to be haproxy \(it is recording\)/,
    );
    const id = (created.json() as { id: string }).id;
    const update = (payload: object) => t.app.inject({ method: 'PATCH', url: `/api/v1/environments/${id}`, headers: t.admin, payload });
    refused(await update({ target: { type: 'recording', config: {} } }), 'body.metrics.config.preset', /needs the environment's target to be haproxy/);
    expect((await update({ target: { ...haproxy, config: { ...haproxy.config, canaryServer: 'green2' } } })).statusCode).toBe(200);
  });

  it('a plan that judges latency where only HAProxy metrics are read is a 409 saying why; with errors only it starts', async () => {
    const env = await environment({ metrics: prometheus({ preset: 'haproxy' }) });
    const name = (env.json() as { name: string }).name;
    const artifact = await t.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: t.admin,
      payload: { service: 'shop', version: '3.0.0', digest: digest('a') },
    });
    expect(artifact.statusCode).toBe(201);
    const plan = (planName: string, kind: 'latency' | 'errors') =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/plans',
        headers: t.admin,
        payload: {
          name: planName,
          spec: {
            strategy: 'canary',
            steps: [
              { type: 'setWeight', weight: 10 },
              { type: 'analysis', metrics: [{ name: 'm', kind }] },
            ],
          },
        },
      });
    expect((await plan('haproxy-latency', 'latency')).statusCode).toBe(201);
    expect((await plan('haproxy-errors', 'errors')).statusCode).toBe(201);
    const release = (planName: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/releases',
        headers: t.admin,
        payload: { service: 'shop', environment: name, version: '3.0.0', plan: planName },
      });
    const latency = await release('haproxy-latency');
    expect(latency.statusCode).toBe(409);
    expect((latency.json() as { error: { message: string } }).error.message).toMatch(
      /judges latency, which environment env-\d+ never measures: its metrics source reads HAProxy's own metrics, which have no latency histogram/,
    );
    expect((await release('haproxy-errors')).statusCode).toBe(201);
  });
});

import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_REDIS_URL } from '../testing/test-app.ts';

// The real API on the test PostgreSQL and Redis, which the policy counts as the control plane's own.
let t: Awaited<ReturnType<typeof createTestApp>>;
let sockets: string;
let databasePort: string;
const redisPort = new URL(TEST_REDIS_URL).port || '6379';

beforeAll(async () => {
  sockets = await mkdtemp(join(tmpdir(), 'gp-sockets-'));
  t = await createTestApp({ egress: { unixSocketDirs: [sockets], allow: ['169.254.169.123'] } });
  databasePort = new URL(t.databaseUrl).port || '5432';
  await symlink('/var/run/docker.sock', join(sockets, 'docker.sock'));
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'egress' } })).statusCode).toBe(201);
});
afterAll(async () => {
  await t.close();
  await rm(sockets, { recursive: true, force: true });
});

let position = 0;
const environment = (fields: Record<string, unknown>) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/environments',
    headers: t.admin,
    payload: { service: 'egress', name: `env-${++position}`, position, target: { type: 'recording', config: {} }, ...fields },
  });
const haproxy = (runtimeApi: string) => ({ type: 'haproxy', config: { runtimeApi, backend: 'app', stableServer: 'stable', canaryServer: 'canary' } });

function refused(res: { statusCode: number; json(): unknown }, field: string, reason: RegExp) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(400);
  const { error } = res.json() as { error: { code: string; message: string; details: Array<{ field: string; problem: string }> } };
  expect(error.code).toBe('validation_failed');
  expect(error.details).toEqual([{ field, problem: expect.stringMatching(reason) }]);
  expect(error.message).toContain(field);
}

describe('registering destinations the network policy refuses', () => {
  it("an HAProxy runtime API on the control plane's PostgreSQL or Redis port, by any loopback name, is a 400 naming the field", async () => {
    refused(
      await environment({ target: haproxy(`tcp:127.0.0.1:${databasePort}`) }),
      'body.target.config.runtimeApi',
      new RegExp(`^is refused by the network policy: 127\\.0\\.0\\.1:${databasePort} is the control plane's own database \\(DATABASE_URL\\)`),
    );
    refused(await environment({ target: haproxy(`tcp:[::1]:${databasePort}`) }), 'body.target.config.runtimeApi', /own database/);
    refused(await environment({ target: haproxy(`tcp:localhost:${redisPort}`) }), 'body.target.config.runtimeApi', /own Redis \(REDIS_URL\)/);
  });

  it('a unix socket outside GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS, or a link inside them that leads out, is a 400', async () => {
    refused(
      await environment({ target: haproxy('unix:/var/run/docker.sock') }),
      'body.target.config.runtimeApi',
      /unix socket \/var\/run\/docker\.sock .*is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS/,
    );
    refused(await environment({ target: haproxy(`unix:${sockets}/../docker.sock`) }), 'body.target.config.runtimeApi', /is not under/);
    refused(await environment({ target: haproxy(`unix:${sockets}/docker.sock`) }), 'body.target.config.runtimeApi', /\(really \/(var\/)?run\/docker\.sock\)/);
    expect((await environment({ target: haproxy(`unix:${sockets}/haproxy.sock`) })).statusCode).toBe(201);
  });

  it('a metrics source or smoke base URL at link-local (cloud metadata) is a 400, on create and on update', async () => {
    refused(await environment({ metrics: { type: 'prometheus', config: { url: 'http://169.254.169.254:9090' } } }), 'body.metrics.config.url', /link-local/);
    refused(await environment({ smokeBaseUrl: 'http://[::ffff:169.254.169.254]/' }), 'body.smokeBaseUrl', /169\.254\.169\.254:80 is link-local/);
    const created = await environment({ target: haproxy('tcp:127.0.0.1:9999'), smokeBaseUrl: 'http://127.0.0.1:8080' });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const update = (payload: object) => t.app.inject({ method: 'PATCH', url: `/api/v1/environments/${id}`, headers: t.admin, payload });
    refused(await update({ smokeBaseUrl: `http://localhost:${databasePort}` }), 'body.smokeBaseUrl', /own database/);
    refused(
      await update({ target: { type: 'webhook', config: { url: 'http://169.254.169.254/x', secret: `whsec_${'A'.repeat(32)}` } } }),
      'body.target.config.url',
      /link-local/,
    );
    expect((await update({ smokeBaseUrl: 'http://127.0.0.1:8081' })).statusCode).toBe(200);
  });

  it('an explicit GLIDEPATH_EGRESS_ALLOW entry lets a default denial through', async () => {
    expect((await environment({ smokeBaseUrl: 'http://169.254.169.123/' })).statusCode).toBe(201);
  });

  it('a webhook subscription to http://169.254.169.254/ is a 400, on create and on update', async () => {
    const subscribe = (url: string) => t.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: t.admin, payload: { url, events: ['*'] } });
    refused(await subscribe('http://169.254.169.254/'), 'body.url', /^is refused by the network policy: 169\.254\.169\.254:80 is link-local/);
    refused(await subscribe(`http://localhost:${redisPort}/`), 'body.url', /own Redis/);
    const ok = await subscribe('https://hooks.invalid/glidepath');
    expect(ok.statusCode).toBe(201);
    const id = (ok.json() as { subscription: { id: string } }).subscription.id;
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${id}`, headers: t.admin, payload: { url: 'http://[fe80::1]/' } });
    refused(patched, 'body.url', /IPv6 link-local/);
  });

  it("a plan's webhook gate at the database, or a smoke path that leaves the environment, is a 400 naming the step", async () => {
    const plan = (steps: unknown[]) =>
      t.app.inject({ method: 'POST', url: '/api/v1/plans', headers: t.admin, payload: { name: `p-${++position}`, spec: { strategy: 'canary', steps } } });
    refused(
      await plan([
        { type: 'setWeight', weight: 10 },
        { type: 'webhook', url: `http://localhost:${databasePort}/gate` },
      ]),
      'body.spec.steps[1].url',
      /own database/,
    );
    refused(await plan([{ type: 'smoke', checks: [{ path: '//other-host/x' }] }]), 'body.spec.steps[0].checks[0].path', /must be a path on the environment/);
    const blueGreen = await t.app.inject({
      method: 'POST',
      url: '/api/v1/plans',
      headers: t.admin,
      payload: { name: 'bg-egress', spec: { strategy: 'blue-green', checks: [{ type: 'webhook', url: 'http://169.254.169.254/' }] } },
    });
    refused(blueGreen, 'body.spec.checks[0].url', /link-local/);
    // A shadow plan's mirroring proxy is called by the worker too.
    const shadow = await t.app.inject({
      method: 'POST',
      url: '/api/v1/plans',
      headers: t.admin,
      payload: { name: 'shadow-egress', spec: { strategy: 'shadow', mirror: { url: 'http://169.254.169.254/' } } },
    });
    refused(shadow, 'body.spec.mirror.url', /link-local/);
    expect(
      (
        await plan([
          { type: 'smoke', checks: [{ path: '/healthz' }] },
          { type: 'webhook', url: 'https://ci.invalid/gate' },
        ])
      ).statusCode,
    ).toBe(201);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

// A person or token with a role for one service or environment sees only that in lists.
let t: Awaited<ReturnType<typeof createTestApp>>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  const post = async (url: string, payload: unknown) => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return (res.json() as { id: string }).id;
  };
  for (const service of ['alpha', 'beta']) {
    ids[service] = await post('/services', { name: service });
    for (const [position, env] of ['dev', 'prod'].entries())
      ids[`${service}/${env}`] = await post('/environments', {
        service,
        name: env,
        position,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: { key: `${service}-${env}` } },
      });
    await post('/artifacts', { service, version: '1.0.0', digest: `sha256:${(service === 'alpha' ? 'a' : 'b').repeat(64)}` });
  }
  await post('/plans', { name: 'quick', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } });
  for (const service of ['alpha', 'beta'])
    for (const environment of ['dev', 'prod']) await post('/releases', { service, environment, version: '1.0.0', plan: 'quick' });
});
afterAll(() => t.close());

async function list(secret: string, url: string) {
  const res = await t.app.inject({ url: `/api/v1${url}`, headers: { authorization: `Bearer ${secret}` } });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { items: Array<Record<string, unknown>> }).items;
}

describe('lists for scoped readers', () => {
  it('show a service-wide reader that service and all its environments only', async () => {
    const secret = await t.tokenWith('alpha-viewer', 'viewer', { serviceId: ids.alpha });
    expect((await list(secret, '/services')).map((s) => s.name)).toEqual(['alpha']);
    expect((await list(secret, '/environments')).map((e) => e.id).sort()).toEqual([ids['alpha/dev'], ids['alpha/prod']].sort());
    expect((await list(secret, '/artifacts')).map((a) => a.service)).toEqual(['alpha']);
    const releases = await list(secret, '/releases');
    expect(releases.map((r) => `${(r.service as { name: string }).name}/${(r.environment as { name: string }).name}`).sort()).toEqual([
      'alpha/dev',
      'alpha/prod',
    ]);
    expect((await t.app.inject({ url: `/api/v1/services/${ids.beta}`, headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(403);
  });

  it('show an environment reader its environment, its releases and its service', async () => {
    const secret = await t.tokenWith('alpha-prod-viewer', 'viewer', { serviceId: ids.alpha, environmentId: ids['alpha/prod'] });
    expect((await list(secret, '/services')).map((s) => s.name)).toEqual(['alpha']);
    expect((await list(secret, '/environments')).map((e) => e.id)).toEqual([ids['alpha/prod']]);
    expect((await list(secret, '/releases')).map((r) => (r.environment as { id: string }).id)).toEqual([ids['alpha/prod']]);
    expect((await t.app.inject({ url: `/api/v1/environments/${ids['alpha/dev']}`, headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(403);
  });

  it('show a global reader everything, but keep the audit log from scoped readers', async () => {
    const global = await t.tokenWith('global-viewer', 'viewer');
    expect(await list(global, '/services')).toHaveLength(2);
    expect(await list(global, '/releases')).toHaveLength(4);
    const scoped = await t.tokenWith('scoped-admin', 'admin', { serviceId: ids.alpha });
    const audit = await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${scoped}` } });
    expect(audit.statusCode).toBe(403);
    expect(audit.json().error.message).toBe(
      'token "scoped-admin" may not audit:read: that needs the viewer or deployer or approver or admin role granted globally',
    );
  });
});

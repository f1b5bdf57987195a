import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

const metricsToken = 'scrape_0123456789abcdef0123456789abcdef';
let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp({ access: { metricsToken } });
});
afterAll(() => t.close());

describe('hardening', () => {
  it('sends security headers and a content security policy', async () => {
    const res = await t.app.inject({ url: '/livez' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('limits the rate of expensive reads and of sign-in, per caller, with a 429 that says when to come back', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await t.app.inject({ url: '/api/v1/audit/verify', headers: t.admin })).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    const limited = await t.app.inject({ url: '/api/v1/audit/verify', headers: t.admin });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/^too many requests: at most 10 per 1 minute; try again in \d+ s$/),
    });
    // Another caller has a budget of its own.
    expect((await t.app.inject({ url: '/api/v1/audit/verify', headers: { authorization: `Bearer ${t.deployerToken}` } })).statusCode).toBe(200);

    let last = 0;
    for (let i = 0; i < 31; i++) last = (await t.app.inject({ url: '/auth/login' })).statusCode;
    expect(last).toBe(429);
  });

  it('lets Prometheus scrape /metrics with the scrape token, and people with audit rights', async () => {
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/metrics', headers: { authorization: `bearer ${t.deployerToken}` } })).statusCode).toBe(200);
    const service = await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'scraped' } });
    const scoped = await t.tokenWith('scoped-viewer', 'viewer', { serviceId: service.json().id });
    expect((await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${scoped}` } })).statusCode).toBe(403);
  });
});

describe('types in bodies', () => {
  it('refuses a wrong type in a JSON body instead of converting it, naming the field, and changes nothing', async () => {
    const before = await t.prisma.service.count();
    const named = await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: true } });
    expect(named.statusCode).toBe(400);
    expect(named.json().error.details).toEqual([expect.objectContaining({ field: 'body.name' })]);
    const version = await t.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: `{"service":"x","version":1e-400,"digest":"sha256:${'a'.repeat(64)}"}`,
    });
    expect(version.statusCode).toBe(400);
    expect(version.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'body.version' })]));
    expect(await t.prisma.service.count()).toBe(before);
  });

  it('still reads numbers from query strings', async () => {
    const res = await t.app.inject({ url: '/api/v1/audit?limit=2', headers: t.admin });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.length).toBeLessThanOrEqual(2);
  });
});

describe('plans in YAML', () => {
  const yaml = (payload: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/plans', headers: { ...t.admin, 'content-type': 'application/yaml' }, payload });

  it('takes a plan written in YAML like the same plan in JSON', async () => {
    const res = await yaml('name: from-yaml\nspec:\n  strategy: canary\n  steps:\n    - type: setWeight\n      weight: 100\n');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ name: 'from-yaml', version: 1, spec: { strategy: 'canary' } });
  });

  it('refuses tags that build other objects, duplicate keys and alias bombs, and saves nothing', async () => {
    const before = await t.prisma.releasePlan.count();
    for (const payload of [
      'name: tagged\nspec: !!set { a, b }\n',
      'name: binary\nspec: !!binary aGVsbG8=\n',
      'name: twice\nname: again\nspec: { strategy: canary, steps: [] }\n',
      `name: bomb\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nspec: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    ]) {
      const res = await yaml(payload);
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.message).toMatch(/^body: is not valid YAML: /);
    }
    expect(await t.prisma.releasePlan.count()).toBe(before);
  });
});

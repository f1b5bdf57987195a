import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('API tokens', () => {
  it('refuses state changes without a token, with a bad header or an unknown token, and changes nothing', async () => {
    const before = await t.prisma.auditEvent.count();
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'x' } });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({
      error: { code: 'unauthorized', message: 'POST /api/v1/services changes state: send "Authorization: Bearer <token>"' },
    });
    const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'x' }, headers: { authorization: 'Basic abc' } });
    expect(malformed.json()).toMatchObject({ error: { message: 'header.authorization: must be "Bearer <token>"' } });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/services',
      payload: { name: 'x' },
      headers: { authorization: `Bearer gp_${'x'.repeat(43)}` },
    });
    expect(unknown.statusCode).toBe(401);
    expect(await t.prisma.auditEvent.count()).toBe(before);
    expect(await t.prisma.service.count()).toBe(0);
  });

  it('lets a deployer token release but not administer, and records the token as the actor', async () => {
    const deployer = { authorization: `Bearer ${t.deployerToken}` };
    const forbidden = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'x' }, headers: deployer });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({
      error: { code: 'forbidden', message: 'token "test-ci" is a deployer token; POST /api/v1/services needs an admin token' },
    });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'shop' }, headers: t.admin })).statusCode).toBe(201);
    const artifact = await t.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      payload: { service: 'shop', version: '1.0.0', digest: `sha256:${'e'.repeat(64)}` },
      headers: deployer,
    });
    expect(artifact.statusCode).toBe(201);
    const events = (await t.app.inject({ url: '/api/v1/audit?action=artifact.registered' })).json() as { items: Array<{ actor: unknown }> };
    expect(events.items[0]!.actor).toEqual({ type: 'token', id: 'test-ci' });
  });

  it('stores only a hash of each token', async () => {
    const rows = await t.prisma.apiToken.findMany();
    expect(rows.map((r) => r.tokenHash)).not.toContain(t.adminToken);
    expect(JSON.stringify(rows)).not.toContain(t.deployerToken);
  });
});

import { createAuditedTransaction, createRedisEventBus, revokeApiToken } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_REDIS_URL } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const unknownToken = `gp_${'x'.repeat(43)}`;

describe('API tokens', () => {
  it('refuses reads and writes without an identity, with a bad header or a worthless token, and changes nothing', async () => {
    const before = await t.prisma.auditEvent.count();
    for (const [method, url] of [
      ['POST', '/api/v1/services'],
      ['GET', '/api/v1/services'],
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/audit/export'],
      ['GET', '/api/openapi.json'],
      ['GET', '/api/docs/'],
      ['GET', '/metrics'],
    ] as const) {
      const none = await t.app.inject({ method, url, payload: method === 'POST' ? { name: 'x' } : undefined });
      expect(none.statusCode, `${method} ${url}`).toBe(401);
      expect(none.json()).toMatchObject({ error: { code: 'unauthorized', message: 'sign in (session cookie), or send "Authorization: Bearer <token>"' } });
    }
    const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'x' }, headers: { authorization: 'Basic abc' } });
    expect(malformed.json()).toMatchObject({ error: { message: 'header.authorization: must be "Bearer <token>"' } });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/services',
      payload: { name: 'x' },
      headers: { authorization: `Bearer ${unknownToken}` },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ error: { message: 'header.authorization: the token is unknown (mistyped, or deleted)' } });
    expect(await t.prisma.auditEvent.count()).toBe(before);
    expect(await t.prisma.service.count()).toBe(0);
  });

  it('accepts the Bearer scheme in any case, as HTTP says', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect((await t.app.inject({ url: '/api/v1/services', headers: { authorization: `${scheme} ${t.adminToken}` } })).statusCode).toBe(200);
    }
  });

  it('lets a deployer token release but not administer, and records the token as the actor', async () => {
    const deployer = { authorization: `Bearer ${t.deployerToken}` };
    const forbidden = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'x' }, headers: deployer });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({
      error: { code: 'forbidden', message: 'token "test-ci" may not service:write: that needs the admin role granted globally' },
    });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'shop' }, headers: t.admin })).statusCode).toBe(201);
    const artifact = await t.app.inject({
      method: 'POST',
      url: '/api/v1/artifacts',
      payload: { service: 'shop', version: '1.0.0', digest: `sha256:${'e'.repeat(64)}` },
      headers: deployer,
    });
    expect(artifact.statusCode).toBe(201);
    const events = (await t.app.inject({ url: '/api/v1/audit?action=artifact.registered', headers: t.admin })).json() as { items: Array<{ actor: unknown }> };
    expect(events.items[0]!.actor).toEqual({ type: 'token', id: 'test-ci' });
  });

  it('decides on the route that matched, so an encoded path gains nothing', async () => {
    const deployer = { authorization: `Bearer ${t.deployerToken}` };
    for (const url of ['/%61pi/v1/services', '/api/v1/%73ervices', '/api/v1/services/', '/API/v1/services']) {
      const res = await t.app.inject({ method: 'POST', url, payload: { name: 'sneaky' }, headers: deployer });
      expect([403, 404], url).toContain(res.statusCode);
    }
    expect(await t.prisma.service.count({ where: { name: 'sneaky' } })).toBe(0);
  });

  it('refuses revoked and expired tokens, each saying which', async () => {
    const revokedSecret = await t.tokenWith('soon-revoked', 'viewer');
    const { id } = await t.prisma.apiToken.findUniqueOrThrow({ where: { name: 'soon-revoked' } });
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/tokens/${id}/revoke`, headers: t.admin, payload: {} })).statusCode).toBe(200);
    const revoked = await t.app.inject({ url: '/api/v1/services', headers: { authorization: `Bearer ${revokedSecret}` } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.message).toBe('header.authorization: the token was revoked');

    const expiringSecret = await t.tokenWith('expiring', 'viewer');
    await t.prisma.apiToken.update({ where: { name: 'expiring' }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await t.app.inject({ url: '/api/v1/services', headers: { authorization: `Bearer ${expiringSecret}` } });
    expect(expired.json().error.message).toBe('header.authorization: the token has expired');
  });

  it('forgets a remembered token at once when another process revokes it', async () => {
    const secret = await t.tokenWith('other-process', 'viewer');
    const headers = { authorization: `Bearer ${secret}` };
    expect((await t.app.inject({ url: '/api/v1/services', headers })).statusCode).toBe(200);
    // Another API instance (or the CLI) revokes it: the event reaches this one through Redis.
    const bus = createRedisEventBus(TEST_REDIS_URL, () => {}, t.queuePrefix);
    const { id } = await t.prisma.apiToken.findUniqueOrThrow({ where: { name: 'other-process' } });
    await revokeApiToken(
      createAuditedTransaction(t.prisma, bus, () => {}),
      id,
      { type: 'system', id: 'elsewhere' },
    );
    await expect.poll(async () => (await t.app.inject({ url: '/api/v1/services', headers })).statusCode, { timeout: 2000, interval: 10 }).toBe(401);
    await bus.close();
  });

  it('stores only a hash of each token', async () => {
    const rows = await t.prisma.apiToken.findMany();
    expect(rows.map((r) => r.tokenHash)).not.toContain(t.adminToken);
    expect(JSON.stringify(rows)).not.toContain(t.deployerToken);
  });
});

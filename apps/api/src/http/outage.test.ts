import { startTcpProxy } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_REDIS_URL } from '../testing/test-app.ts';

// PostgreSQL and Redis restarting under a running API: every reply stays in the error model,
// a 503 with Retry-After while a dependency is away, and normal again once it is back.
let t: Awaited<ReturnType<typeof createTestApp>>;
let database: Awaited<ReturnType<typeof startTcpProxy>>;
let redis: Awaited<ReturnType<typeof startTcpProxy>>;

beforeAll(async () => {
  database = await startTcpProxy(5432);
  redis = await startTcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379));
  t = await createTestApp({
    databaseUrlFor: (url) => Object.assign(new URL(url), { port: String(database.port) }).toString(),
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    logLevel: process.env.OUTAGE_LOG ?? 'silent',
  });
});
afterAll(async () => {
  await database.up().catch(() => {});
  await redis.up().catch(() => {});
  await t.close();
});

const reads = ['/api/v1/services', '/api/v1/releases', '/api/v1/audit', '/api/v1/environments', '/api/v1/approvals', '/api/v1/board'];

describe('PostgreSQL away', () => {
  it('answers 503 with Retry-After on reads and writes, and recovers', async () => {
    for (const url of reads) expect((await t.app.inject({ url, headers: t.admin })).statusCode, url).toBe(200);
    await database.down();
    const replies = [
      ...(await Promise.all(reads.map((url) => t.app.inject({ url, headers: t.admin })))),
      await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'during-outage' } }),
      // A credential not seen before needs the database to be checked.
      await t.app.inject({ url: '/api/v1/services', headers: { authorization: 'Bearer gp_unknown_token_0123456789' } }),
    ];
    for (const reply of replies) {
      expect(reply.statusCode, reply.body).toBe(503);
      expect(reply.headers['retry-after']).toMatch(/^\d+$/);
      expect(reply.json()).toMatchObject({ error: { code: 'unavailable', message: expect.stringMatching(/database/) } });
    }
    await database.up();
    await expect.poll(async () => (await t.app.inject({ url: '/api/v1/services', headers: t.admin })).statusCode, { timeout: 20_000 }).toBe(200);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'after-outage' } });
    expect(created.statusCode).toBe(201);
  });
});

describe('Redis away', () => {
  it('keeps reads and writes working (the sweeper enqueues later); readiness says why', async () => {
    await redis.down();
    for (const url of reads) expect((await t.app.inject({ url, headers: t.admin })).statusCode, url).toBe(200);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'redis-away' } });
    expect(created.statusCode, created.body).toBe(201);
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toMatch(/^\d+$/);
    await redis.up();
  });
});

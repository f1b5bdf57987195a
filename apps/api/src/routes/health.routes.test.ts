import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

describe('health', () => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('is live and ready with PostgreSQL and Redis up', async () => {
    expect((await t.app.inject({ url: '/livez' })).json()).toEqual({ status: 'ok' });
    await new Promise((r) => setTimeout(r, 100)); // let the lazy Redis connection open
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', checks: { postgres: { ok: true }, redis: { ok: true } } });
  });

  it('serves Prometheus metrics and the OpenAPI 3.1 document with its docs page', async () => {
    await t.app.inject({ url: '/livez' });
    const metrics = await t.app.inject({ url: '/metrics', headers: t.admin });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/glidepath_http_request_duration_seconds_count\{method="GET",route="\/livez",status="200"\} \d+/);
    const doc = (await t.app.inject({ url: '/api/openapi.json', headers: t.admin })).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/audit', '/api/v1/audit/verify', '/api/v1/services', '/readyz']));
    expect((await t.app.inject({ url: '/api/docs/', headers: t.admin })).statusCode).toBe(200);
  });

  it('answers unknown routes with the error model', async () => {
    const res = await t.app.inject({ url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_found', message: 'no route for GET /api/v1/nope' } });
  });
});

describe('readyz with Redis unreachable', () => {
  it('answers 503 naming the failed dependency instead of crashing', async () => {
    const t = await createTestApp({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const res = await t.app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'unavailable', checks: { postgres: { ok: true }, redis: { ok: false, error: expect.any(String) } } });
    } finally {
      await t.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('credentials inside stored URLs', () => {
  it('are kept for the calls that need them but never returned in a reply or written to the audit log', async () => {
    const secret = 'pr0m-s3cret';
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/services', headers: t.admin, payload: { name: 'creds' } })).statusCode).toBe(201);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/environments',
      headers: t.admin,
      payload: {
        service: 'creds',
        name: 'dev',
        position: 0,
        target: { type: 'recording', config: { key: 'c' } },
        metrics: { type: 'prometheus', config: { url: `https://scraper:${secret}@prom.example:9090` } },
        smokeBaseUrl: `https://smoke:${secret}@canary.example`,
        reason: `moved to https://ops:${secret}@wiki.example/page`,
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(secret);
    expect(created.json()).toMatchObject({
      metrics: { config: { url: 'https://scraper:***@prom.example:9090' } },
      smokeBaseUrl: 'https://smoke:***@canary.example',
    });
    const id = created.json().id as string;
    for (const url of [`/api/v1/environments/${id}`, '/api/v1/environments', '/api/v1/audit', '/api/v1/audit/export']) {
      const res = await t.app.inject({ url, headers: t.admin });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain(secret);
    }
    const stored = await t.prisma.environment.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(stored.metrics)).toContain(secret);
    expect(JSON.stringify(await t.prisma.auditEvent.findMany(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(secret);
  });
});

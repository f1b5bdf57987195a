import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 7; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/services',
      payload: { name: `svc-${i}`, owners: ['team'] },
      headers: { ...t.admin, 'x-request-id': `req-${i}` },
    });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(() => t.close());

describe('GET /api/v1/audit', () => {
  it('pages newest first with a cursor until the end', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.app.inject({ url: `/api/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: t.admin });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: Array<{ seq: string }>; nextCursor: string | null };
      seen.push(...body.items.map((e) => e.seq));
      cursor = body.nextCursor;
    } while (cursor);
    // Two token.created events come first (the test app's tokens), then the seven services.
    expect(seen).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1']);
  });

  it('filters by action, subject, actor and time range, and records the request id', async () => {
    const all = (await t.app.inject({ url: '/api/v1/audit?action=service.created', headers: t.admin })).json() as {
      items: Array<{ subject: { id: string }; requestId: string; createdAt: string }>;
    };
    expect(all.items).toHaveLength(7);
    expect(all.items[6]!.requestId).toBe('req-0');
    const one = (
      await t.app.inject({ url: `/api/v1/audit?subjectType=service&subjectId=${all.items[0]!.subject.id}&actorId=test-admin`, headers: t.admin })
    ).json() as {
      items: unknown[];
    };
    expect(one.items).toHaveLength(1);
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = (await t.app.inject({ url: `/api/v1/audit?from=${future}`, headers: t.admin })).json() as { items: unknown[] };
    expect(none.items).toHaveLength(0);
  });

  it('names the field and the problem for bad filters', async () => {
    const res = await t.app.inject({ url: '/api/v1/audit?limit=0&cursor=abc&from=yesterday', headers: t.admin });
    expect(res.statusCode).toBe(400);
    const { error } = res.json() as { error: { code: string; details: Array<{ field: string }>; requestId: string } };
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d) => d.field).sort()).toEqual(['querystring.cursor', 'querystring.from', 'querystring.limit']);
    expect(error.requestId).toBe(res.headers['x-request-id']);
  });

  it('verifies the chain and exports it as NDJSON, oldest first', async () => {
    expect((await t.app.inject({ url: '/api/v1/audit/verify', headers: t.admin })).json()).toEqual({ ok: true, checked: 9, lastSeq: '9' });
    const res = await t.app.inject({ url: '/api/v1/audit/export', headers: t.admin });
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: string; prevHash: string; hash: string });
    expect(lines.map((l) => l.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(lines[1]!.prevHash).toBe(lines[0]!.hash);
  });
});

describe('GET /api/v1/audit, by service and request', () => {
  it('filters by service (its environments included) and by the request that caused the events', async () => {
    const env = await t.app.inject({
      method: 'POST',
      url: '/api/v1/environments',
      payload: { service: 'svc-1', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'audit-svc-1' } } },
      headers: { ...t.admin, 'x-request-id': 'req-env' },
    });
    expect(env.statusCode, env.body).toBe(201);
    const ofService = (await t.app.inject({ url: '/api/v1/audit?service=svc-1', headers: t.admin })).json() as { items: Array<{ action: string }> };
    expect(ofService.items.map((e) => e.action).sort()).toEqual(['environment.created', 'service.created']);
    const ofRequest = (await t.app.inject({ url: '/api/v1/audit?requestId=req-3', headers: t.admin })).json() as { items: Array<{ requestId: string }> };
    expect(ofRequest.items.map((e) => e.requestId)).toEqual(['req-3']);
    const byName = (await t.app.inject({ url: '/api/v1/audit?actor=test-admin&service=svc-1', headers: t.admin })).json() as { items: unknown[] };
    expect(byName.items).toHaveLength(2);
    const unknown = await t.app.inject({ url: '/api/v1/audit?service=no-such-service', headers: t.admin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { message: expect.stringContaining('querystring.service') } });
  });
});

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

// Inputs a schema lets through but PostgreSQL refuses: each must be a 400 naming the field,
// never a 500, and change nothing.
let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function send(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const body = typeof payload === 'string' ? payload : payload === undefined ? undefined : JSON.stringify(payload);
  const headers = { ...t.admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await t.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
  return { status: res.statusCode, error: (res.json() as { error?: { message: string; details?: Array<{ field: string }> } }).error };
}

/** JSON text nested n objects deep, built as text (serialising it would exhaust this test's own stack). */
const deep = (n: number) => `${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}`;

describe('bad input that used to reach PostgreSQL', () => {
  it('answers 400 naming the field, and changes nothing', async () => {
    const auditBefore = await t.prisma.auditEvent.count();
    const cases: Array<[string, 'GET' | 'POST', string, unknown, string]> = [
      ['urn uuid id', 'GET', '/api/v1/releases/urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', undefined, 'params.id'],
      ['urn uuid service id', 'GET', '/api/v1/services/urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', undefined, 'params.id'],
      ['NUL in a query filter', 'GET', '/api/v1/audit?action=a%00b', undefined, 'querystring.action'],
      ['NUL in a body', 'POST', '/api/v1/services', { name: 'ok', description: 'a\u0000b' }, 'body.description'],
      ['lone surrogate in a body', 'POST', '/api/v1/services', { name: 'ok2', description: 'a\ud800b' }, 'body.description'],
      ['limit=Infinity', 'GET', '/api/v1/audit?limit=Infinity', undefined, 'querystring.limit'],
      ['limit=1e400', 'GET', '/api/v1/releases?limit=1e400', undefined, 'querystring.limit'],
      ['version past 2^53', 'GET', '/api/v1/plans/p?version=99999999999999999999', undefined, 'querystring.version'],
      ['version past a 32-bit integer', 'GET', '/api/v1/plans/p?version=3000000000', undefined, 'querystring.version'],
      ['cursor beyond bigint', 'GET', '/api/v1/audit?cursor=9999999999999999999', undefined, 'querystring.cursor'],
      ['date PostgreSQL cannot store', 'GET', '/api/v1/audit?from=0000-01-01T00:00:00Z', undefined, 'querystring.from'],
      [
        'release cursor with no UUID in it',
        'GET',
        `/api/v1/releases?cursor=${Buffer.from('2026-01-01T00:00:00.000Z|nope').toString('base64url')}`,
        undefined,
        'querystring.cursor',
      ],
      [
        'metadata nested thousands deep',
        'POST',
        '/api/v1/artifacts',
        `{"service":"s","version":"1.0.0","digest":"sha256:${'a'.repeat(64)}","metadata":${deep(5000)}}`,
        'body.metadata',
      ],
    ];
    for (const [what, method, url, payload, field] of cases) {
      const res = await send(method, url, payload);
      expect(res.status, what).toBe(400);
      expect(JSON.stringify(res.error), what).toContain(field);
    }
    expect(await t.prisma.service.count()).toBe(0);
    expect(await t.prisma.auditEvent.count()).toBe(auditBefore);
  });
});

describe('JSON bodies', () => {
  it('takes an empty body as no body where the body is optional, and refuses broken or poisoned JSON in words', async () => {
    const empty = await t.app.inject({
      method: 'POST',
      url: '/api/v1/me/sign-out-everywhere',
      headers: { ...t.admin, 'content-type': 'application/json' },
      payload: '',
    });
    // The handler got the request (a token has no sessions): the empty body was no obstacle.
    expect(empty.json()).toMatchObject({ error: { code: 'conflict', message: 'a token has no sessions; revoke the token instead' } });
    const broken = await send('POST', '/api/v1/services', '{"name": ');
    expect(broken.status).toBe(400);
    expect(broken.error!.message).toMatch(/^body: is not valid JSON/);
    const poisoned = await send('POST', '/api/v1/services', '{"name":"p","__proto__":{"admin":true}}');
    expect(poisoned.status).toBe(400);
  });
});

describe("Fastify's own refusals", () => {
  it('answer in the error model: a URL that is not valid percent-encoding, a plain GET of the websocket', async () => {
    const url = await t.app.inject({ url: '/api/v1/services/%E0%A4%A', headers: t.admin });
    expect(url.statusCode).toBe(400);
    expect(url.json()).toMatchObject({ error: { code: 'bad_request', message: expect.stringMatching(/^url: /), requestId: expect.any(String) } });
    const stream = await t.app.inject({ url: '/api/v1/stream', headers: t.admin });
    expect(stream.statusCode).toBe(426);
    expect(stream.json()).toMatchObject({ error: { code: 'upgrade_required', message: expect.stringContaining('websocket') } });
  });
});

describe('duplicate keys', () => {
  it('are refused in JSON bodies, naming the key', async () => {
    const res = await send('POST', '/api/v1/services', '{"name":"dup","name":"other"}');
    expect(res.status).toBe(400);
    expect(res.error!.message).toBe('body.name: appears twice; send each key once');
    expect(await t.prisma.service.count({ where: { name: { in: ['dup', 'other'] } } })).toBe(0);
  });
});

describe("Node's and Fastify's own refusals over a socket", () => {
  it('answer headers too large, a path segment too long and a non-HTTP request in the error model', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const raw = (text: string) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let out = '';
        socket.on('data', (d) => (out += d));
        socket.on('error', reject);
        socket.on('close', () => {
          const [head, body] = out.split('\r\n\r\n');
          resolve({ status: Number(head!.split(' ')[1]), body: JSON.parse(body!) });
        });
      });
    const headers = await raw(`GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(headers).toMatchObject({ status: 431, body: { error: { code: 'headers_too_large', message: expect.stringContaining('16 KiB') } } });
    const segment = await raw(`GET /api/v1/services/${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(segment).toMatchObject({ status: 414, body: { error: { code: 'uri_too_long', message: expect.stringMatching(/^url: /) } } });
    expect(JSON.stringify(segment.body)).not.toContain('aaaa');
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatchObject({ status: 400, body: { error: { code: 'bad_request', requestId: expect.any(String) } } });
  });
});

import { createRedisEventBus, type EventBus } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, TEST_REDIS_URL } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let base: string;
let bus: EventBus;
beforeAll(async () => {
  t = await createTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  bus = createRedisEventBus(TEST_REDIS_URL, () => {}, t.queuePrefix);
});
afterAll(async () => {
  await bus.close();
  await t.close();
});

type Message = { type: string; data: { action?: string; subject?: { id: string }; id?: string } };
function connect(headers: Record<string, string>): Promise<{ socket: WebSocket; received: Message[]; closed: Promise<number> }> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream`, { headers });
  const received: Message[] = [];
  socket.on('message', (raw) => received.push(JSON.parse(String(raw))));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, received, closed }));
    socket.once('error', reject);
  });
}

async function post(url: string, payload: unknown) {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as { id: string };
}

describe('websocket stream', () => {
  it('pushes each new audit event to every connected client over a real socket', async () => {
    const [a, b] = await Promise.all([connect(t.admin), connect(t.admin)]);
    const created = await fetch(`${base}/api/v1/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...t.admin },
      body: JSON.stringify({ name: 'streamed-svc' }),
    });
    const { id } = (await created.json()) as { id: string };
    for (const client of [a, b]) {
      await expect
        .poll(() => client.received.find((e) => e.data.subject?.id === id), { timeout: 5000 })
        .toMatchObject({ type: 'audit.appended', data: { action: 'service.created' } });
      client.socket.close();
    }
  });

  it('refuses anonymous sockets, and closes their connection', async () => {
    await expect(connect({})).rejects.toThrow(/401/);
  });

  it('sends a scoped reader only what it may read, and closes its stream when its token is revoked', async () => {
    const alpha = await post('/services', { name: 'stream-alpha' });
    const beta = await post('/services', { name: 'stream-beta' });
    const alphaDev = await post('/environments', { service: 'stream-alpha', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'sa' } } });
    const betaDev = await post('/environments', { service: 'stream-beta', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'sb' } } });
    const secret = await t.tokenWith('stream-scoped', 'viewer', { serviceId: alpha.id, environmentId: alphaDev.id });
    const scoped = await connect({ authorization: `Bearer ${secret}` });
    const global = await connect(t.admin);
    await new Promise((r) => setTimeout(r, 200)); // the scoped socket looks its environments up
    for (const [id, environmentId] of [
      ['r-alpha', alphaDev.id],
      ['r-beta', betaDev.id],
    ]) {
      await bus.publish({
        type: 'release.updated',
        data: { id, serviceId: environmentId === alphaDev.id ? alpha.id : beta.id, environmentId, phase: 'progressing' },
      });
    }
    await expect.poll(() => global.received.filter((m) => m.type === 'release.updated').length, { timeout: 5000 }).toBe(2);
    await expect.poll(() => scoped.received.filter((m) => m.type === 'release.updated').map((m) => m.data.id), { timeout: 5000 }).toEqual(['r-alpha']);
    expect(scoped.received.filter((m) => m.type === 'audit.appended')).toEqual([]);

    const { id: tokenId } = await t.prisma.apiToken.findUniqueOrThrow({ where: { name: 'stream-scoped' } });
    await post(`/tokens/${tokenId}/revoke`, {});
    expect(await scoped.closed).toBe(4401);
    global.socket.close();
  });
});

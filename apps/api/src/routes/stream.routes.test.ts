import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let base: string;
beforeAll(async () => {
  t = await createTestApp();
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => t.close());

function connect(): Promise<{ socket: WebSocket; received: Array<{ type: string; data: { action: string; subject: { id: string } } }> }> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream`, { headers: t.admin });
  const received: Array<{ type: string; data: { action: string; subject: { id: string } } }> = [];
  socket.on('message', (raw) => received.push(JSON.parse(String(raw))));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, received }));
    socket.once('error', reject);
  });
}

describe('websocket stream', () => {
  it('pushes each new audit event to every connected client over a real socket', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
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
});

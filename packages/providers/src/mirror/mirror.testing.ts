import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny service in versions that answer alike or not, for the mirroring proxy's tests, the
 * shadow release flow test and the bench. GET /items/<n> answers JSON
 * `{ id, label, price, timestamp, requestId, meta: { servedBy } }`; POST /orders counts orders.
 * - `differEvery`: every n-th item (n % differEvery === 0) gets another label (20%: 5);
 * - `servedBy`: meta.servedBy (differs between versions, ignored by `$.meta.*`);
 * - `delayMs`: answers that late; `hang`: never answers;
 * - timestamp and requestId differ on every answer (ignored by `timestamp`, `requestId`);
 * - `noisyEvery`: every n-th answer of this version carries a random `nonce` (noise the ignored fields miss).
 */
export interface VersionBehaviour {
  differEvery?: number;
  servedBy?: string;
  delayMs?: number;
  hang?: boolean;
  noisyEvery?: number;
}

export interface VersionApp {
  url: string;
  /** Requests received, by method, and how many carried the proxy's x-glidepath-shadow header. */
  received: Record<string, number>;
  copies: number;
  orders: number;
  behaviour: VersionBehaviour;
  close(): Promise<void>;
}

export async function startVersionApp(behaviour: VersionBehaviour = {}, port = 0): Promise<VersionApp> {
  const app: Omit<VersionApp, 'url' | 'close'> = { received: {}, copies: 0, orders: 0, behaviour };
  let answers = 0;
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    app.received[method] = (app.received[method] ?? 0) + 1;
    if (req.headers['x-glidepath-shadow']) app.copies += 1;
    req.resume();
    req.on('end', () => {
      if (app.behaviour.hang) return;
      const answer = () => {
        answers += 1;
        const item = /^\/items\/(\d+)/.exec(req.url ?? '');
        if (method === 'POST' && req.url === '/orders') {
          app.orders += 1;
          return res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ order: app.orders }));
        }
        if (!item) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        const n = Number(item[1]);
        const changed = app.behaviour.differEvery && n % app.behaviour.differEvery === 0;
        const body = {
          id: n,
          label: changed ? `ITEM ${n}` : `item-${n}`,
          price: n * 1.5,
          timestamp: Date.now(),
          requestId: randomUUID(),
          meta: { servedBy: app.behaviour.servedBy ?? 'v1' },
          ...(app.behaviour.noisyEvery && answers % app.behaviour.noisyEvery === 0 ? { nonce: randomUUID() } : {}),
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(method === 'HEAD' ? undefined : JSON.stringify(body));
      };
      if (app.behaviour.delayMs) setTimeout(answer, app.behaviour.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(app, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
}

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { createEgress } from '@glidepath/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSmokeGate } from './smoke.gate.ts';
import { runWebhookGate } from './webhook.gate.ts';

// Real listeners: a stand-in for the control plane's database (counts connections, speaks
// nothing) and an environment that answers checks, gate calls and redirects.
let database: Server;
let databasePort: number;
let databaseConnections = 0;
let environment: HttpServer;
let base: string;
let environmentRequests: string[] = [];
let egress: ReturnType<typeof createEgress>;

beforeAll(async () => {
  database = createNetServer((socket) => {
    databaseConnections++;
    socket.on('error', () => {}).resume();
    socket.end();
  });
  await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
  databasePort = (database.address() as AddressInfo).port;
  environment = createHttpServer((req, res) => {
    environmentRequests.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.url === '/gate-moved') return void res.writeHead(307, { location: `http://localhost:${databasePort}/gate` }).end();
    if (req.url === '/gate') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"verdict":"pass"}');
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => environment.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(environment.address() as AddressInfo).port}`;
  egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] }, { databaseUrl: `postgresql://glidepath@127.0.0.1:${databasePort}/glidepath` });
});
afterEach(() => {
  databaseConnections = 0;
  environmentRequests = [];
});
afterAll(async () => {
  environment.closeAllConnections();
  await Promise.all([new Promise((r) => database.close(r)), new Promise((r) => environment.close(r))]);
});

const smoke = (...paths: string[]) => ({
  type: 'smoke' as const,
  checks: paths.map((path) => ({ path, expectStatus: 200, maxLatencyMs: null, bodyContains: null })),
  retries: 1,
  retryDelayMs: 10,
});

describe('gates through the network policy', () => {
  it('a webhook gate whose URL is refused fails at once with the reason as evidence, without retrying', async () => {
    const result = await runWebhookGate(egress, { type: 'webhook', url: 'http://169.254.169.254/gate', timeoutMs: 1000, retries: 3 }, {});
    expect(result.outcome).toBe('fail');
    expect(result.summary).toMatch(/refused by the network policy: 169\.254\.169\.254:80 is link-local/);
    expect(result.evidence).toMatchObject({ denied: expect.stringMatching(/link-local/), attempts: [expect.anything()] });
  });

  it('a webhook gate redirected to the database is refused before that hop connects', async () => {
    const result = await runWebhookGate(egress, { type: 'webhook', url: `${base}/gate-moved`, timeoutMs: 1000, retries: 2 }, {});
    expect(result.outcome).toBe('fail');
    expect(result.evidence).toMatchObject({
      denied: expect.stringMatching(new RegExp(`localhost:${databasePort} \\(127\\.0\\.0\\.1\\) is the control plane's own database`)),
    });
    expect(environmentRequests).toEqual(['POST /gate-moved']);
    expect(databaseConnections).toBe(0);
  });

  it('a smoke gate against the database fails with the reason in each check, and never connects', async () => {
    const result = await runSmokeGate(egress, smoke('/healthz'), `http://localhost:${databasePort}`);
    expect(result.outcome).toBe('fail');
    expect(result.summary).toMatch(/\/healthz refused by the network policy: .*own database \(DATABASE_URL\)/);
    expect(databaseConnections).toBe(0);
  });

  it('a smoke check path cannot leave the environment: //host/x fails without a request anywhere', async () => {
    const result = await runSmokeGate(egress, smoke('/ok', `//127.0.0.1:${databasePort}/x`), base);
    expect(result.outcome).toBe('fail');
    expect(result.summary).toMatch(/must be a path on the environment/);
    expect(databaseConnections).toBe(0);
    expect((await runSmokeGate(egress, smoke('/ok'), base)).outcome).toBe('pass');
  });
});

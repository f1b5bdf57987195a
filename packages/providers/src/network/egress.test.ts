import { mkdtemp, rm, symlink, mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEgress, type Egress } from './egress.ts';
import { isEgressDenied } from './egress-denied.ts';
import { prometheusMetricProvider } from '../prometheus/prometheus.metric-provider.ts';

/** A real listener that counts every connection made to it, so a test can say none was. */
interface Listener {
  server: Server | HttpServer;
  port: number;
  connections: number;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string };

async function httpListener(host: string, handle: (req: IncomingMessage, body: string) => Answer) {
  const listener: Listener = { server: undefined as never, port: 0, connections: 0, requests: [] };
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      listener.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const answer = handle(req, body);
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    });
  });
  server.on('connection', () => listener.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  listener.server = server;
  listener.port = (server.address() as AddressInfo).port;
  return listener;
}

/** A plain TCP listener standing in for PostgreSQL: it only counts connections. */
async function tcpListener(options: { host: string } | { path: string }) {
  const listener: Listener = { server: undefined as never, port: 0, connections: 0, requests: [] };
  const server = createNetServer((socket) => {
    listener.connections++;
    socket.on('error', () => {}).resume();
    socket.end('hello\n');
  });
  await new Promise<void>((resolve) => ('path' in options ? server.listen(options.path, resolve) : server.listen(0, options.host, resolve)));
  listener.server = server;
  if (!('path' in options)) listener.port = (server.address() as AddressInfo).port;
  return listener;
}

const denial = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isEgressDenied(error), String(error)).toBe(true);
  return (error as Error).message;
};

const listeners: Listener[] = [];
const track = <L extends Listener>(l: L) => (listeners.push(l), l);
let dir: string;
let app: Listener;
let database: Listener;
let egress: Egress;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-egress-'));
  app = track(
    await httpListener('127.0.0.1', (req, body): Answer => {
      if (req.url === '/to-database') return { status: 302, headers: { location: `http://localhost:${database.port}/` } };
      if (req.url === '/to-metadata') return { status: 307, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
      if (req.url === '/see-other') return { status: 303, headers: { location: '/echo' } };
      if (req.url === '/temporary') return { status: 307, headers: { location: '/echo' } };
      if (req.url === '/loop') return { status: 302, headers: { location: '/loop' } };
      if (req.url === '/slow') return { status: 200, body: 'never' };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null }),
      };
    }),
  );
  // "PostgreSQL" on loopback: the policy is told it is the control plane's database.
  database = track(await tcpListener({ host: '127.0.0.1' }));
  egress = createEgress(
    { allow: [], deny: ['127.0.0.2'], unixSocketDirs: [join(dir, 'allowed')] },
    { databaseUrl: `postgresql://postgres@127.0.0.1:${database.port}/glidepath`, redisUrl: 'redis://127.0.0.1:1' },
  );
});
afterEach(() => {
  for (const l of listeners) {
    l.connections = 0;
    l.requests.length = 0;
  }
});
afterAll(async () => {
  for (const l of listeners) if ('closeAllConnections' in l.server) l.server.closeAllConnections();
  await Promise.all(listeners.map((l) => new Promise((resolve) => l.server.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

describe('guarded fetch against real listeners', () => {
  it('lets an allowed call through, by address and by the name localhost, with its method, body and credentials', async () => {
    const response = await egress.fetch(`http://u:p%40ss@localhost:${app.port}/echo`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ method: 'POST', body: '{"a":1}', auth: `Basic ${Buffer.from('u:p@ss').toString('base64')}` });
    expect((await egress.fetch(`http://127.0.0.1:${app.port}/echo`)).ok).toBe(true);
    expect(app.connections).toBe(2);
  });

  it("refuses the control plane's database by any loopback spelling, without connecting", async () => {
    for (const url of [
      `http://127.0.0.1:${database.port}/`,
      `http://localhost:${database.port}/`,
      `http://[::ffff:127.0.0.1]:${database.port}/`,
      `http://127.0.0.3:${database.port}/`,
      `http://[::1]:${database.port}/`,
      `http://0x7f.1:${database.port}/`,
    ]) {
      expect(await denial(egress.fetch(url)), url).toMatch(/is the control plane's own database \(DATABASE_URL\); add it to GLIDEPATH_EGRESS_ALLOW/);
    }
    expect(database.connections).toBe(0);
  });

  it('refuses link-local (cloud metadata) and a denied address before connecting', async () => {
    expect(await denial(egress.fetch('http://169.254.169.254/latest/meta-data/'))).toMatch(/169\.254\.169\.254:80 is link-local/);
    const denied = track(await httpListener('127.0.0.2', () => ({ status: 200 })));
    expect(await denial(egress.fetch(`http://127.0.0.2:${denied.port}/`))).toBe(
      `refused by the network policy: 127.0.0.2:${denied.port} is denied by GLIDEPATH_EGRESS_DENY (127.0.0.2)`,
    );
    expect(denied.connections).toBe(0);
  });

  it('checks every redirect hop: one to the database or the metadata service is refused before it connects', async () => {
    expect(await denial(egress.fetch(`http://127.0.0.1:${app.port}/to-database`))).toMatch(/own database/);
    expect(await denial(egress.fetch(`http://127.0.0.1:${app.port}/to-metadata`, { method: 'POST', body: 'x' }))).toMatch(/link-local/);
    expect(database.connections).toBe(0);
    // manual hands the redirect back without following it.
    const manual = await egress.fetch(`http://127.0.0.1:${app.port}/to-database`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(database.connections).toBe(0);
  });

  it('follows allowed redirects as fetch does: 303 becomes a GET, 307 keeps the body; loops end', async () => {
    expect(await (await egress.fetch(`http://127.0.0.1:${app.port}/see-other`, { method: 'POST', body: 'x' })).json()).toMatchObject({
      method: 'GET',
      body: '',
    });
    expect(await (await egress.fetch(`http://127.0.0.1:${app.port}/temporary`, { method: 'POST', body: 'x' })).json()).toMatchObject({
      method: 'POST',
      body: 'x',
    });
    await expect(egress.fetch(`http://127.0.0.1:${app.port}/loop`)).rejects.toMatchObject({
      message: 'fetch failed',
      cause: { message: 'more than 5 redirects' },
    });
  });

  it('reports a timeout as fetch does, with the signal reason', async () => {
    const silent = track(await tcpListener({ host: '127.0.0.1' }));
    // A TCP listener that answers "hello" and closes is no HTTP; one that never answers needs its own server.
    const mute = createNetServer((socket) => socket.on('error', () => {}).resume());
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    try {
      const error = await egress
        .fetch(`http://127.0.0.1:${(mute.address() as AddressInfo).port}/`, { signal: AbortSignal.timeout(100) })
        .catch((e: unknown) => e);
      expect((error as Error).name).toBe('TimeoutError');
    } finally {
      await new Promise((resolve) => mute.close(resolve));
    }
    await expect(egress.fetch(`http://127.0.0.1:${silent.port}/`)).rejects.toMatchObject({ message: 'fetch failed' });
  });
});

describe('guarded connect against real listeners', () => {
  it('connects to an allowed TCP address and refuses the database port on loopback', async () => {
    const other = track(await tcpListener({ host: '127.0.0.1' }));
    (await egress.connect({ kind: 'tcp', host: 'localhost', port: other.port })).destroy();
    expect(other.connections).toBe(1);
    expect(await denial(egress.connect({ kind: 'tcp', host: '::1', port: database.port }))).toMatch(/own database/);
    expect(await denial(egress.connect({ kind: 'tcp', host: 'localhost', port: database.port }))).toMatch(/own database/);
    expect(database.connections).toBe(0);
  });

  it('connects to a unix socket only when it really is under an allowed directory', async () => {
    await mkdir(join(dir, 'allowed'));
    await mkdir(join(dir, 'outside'));
    const inside = track(await tcpListener({ path: join(dir, 'allowed', 'admin.sock') }));
    const outside = track(await tcpListener({ path: join(dir, 'outside', 'docker.sock') }));
    await symlink(join(dir, 'outside', 'docker.sock'), join(dir, 'allowed', 'link.sock'));
    // The allowed directory reached through a link to it is the same directory.
    await symlink(join(dir, 'allowed'), join(dir, 'alias'));

    (await egress.connect({ kind: 'unix', path: join(dir, 'allowed', 'admin.sock') })).destroy();
    (await egress.connect({ kind: 'unix', path: join(dir, 'alias', 'admin.sock') })).destroy();
    expect(inside.connections).toBe(2);

    expect(await denial(egress.connect({ kind: 'unix', path: join(dir, 'outside', 'docker.sock') }))).toMatch(/is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS/);
    expect(await denial(egress.connect({ kind: 'unix', path: join(dir, 'allowed', '..', 'outside', 'docker.sock') }))).toMatch(/not under/);
    expect(await denial(egress.connect({ kind: 'unix', path: join(dir, 'allowed', 'link.sock') }))).toMatch(/link\.sock \(really .*outside\/docker\.sock\)/);
    expect(outside.connections).toBe(0);
  });
});

describe('registration-time check', () => {
  it.each([
    [{ kind: 'url', url: 'http://169.254.169.254/' }, /link-local/],
    [{ kind: 'url', url: 'http://[fe80::1]:8080/' }, /IPv6 link-local/],
    [{ kind: 'tcp', host: 'localhost', port: 1 }, /own Redis \(REDIS_URL\)/],
    [{ kind: 'unix', path: '/var/run/docker.sock' }, /unix socket \/var\/run\/docker\.sock .*is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS/],
    [{ kind: 'url', url: 'ftp://example.com/' }, /only http and https/],
  ] as const)('%j is refused', async (target, reason) => {
    const decision = await egress.check(target);
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.reason).toMatch(reason);
  });

  it('the database port by name is refused, a name that does not resolve is left to the call, a socket yet to come in an allowed directory passes', async () => {
    expect(await egress.check({ kind: 'url', url: `http://localhost:${database.port}/x` })).toMatchObject({ allowed: false });
    expect(await egress.check({ kind: 'url', url: 'https://hooks.invalid/x' })).toEqual({ allowed: true });
    expect(await egress.check({ kind: 'unix', path: join(dir, 'allowed', 'later.sock') })).toEqual({ allowed: true });
    expect(await egress.check({ kind: 'tcp', host: '127.0.0.1', port: app.port })).toEqual({ allowed: true });
    expect(database.connections).toBe(0);
  });
});

describe('providers call through it', () => {
  it('Prometheus at the database port is refused before a query is sent', async () => {
    const prometheus = prometheusMetricProvider().create({ url: `http://localhost:${database.port}` }, { egress });
    const measuring = prometheus.measure({ service: 's', environment: 'e', environmentId: 'e', canaryVersion: '1', from: new Date(0), to: new Date(60_000) });
    expect(await denial(measuring)).toMatch(/own database/);
    expect(database.connections).toBe(0);
  });
});

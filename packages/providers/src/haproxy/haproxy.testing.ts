import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDirectly } from '../network/guarded-connect.ts';
import { runtimeApiCommand } from './haproxy-runtime-api.ts';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';

/** Test helper: a real HAProxy in front of two tiny HTTP servers that answer their own name. */
export interface HaproxyFixture {
  dir: string;
  /** `unix:<dir>/admin.sock` */
  unixApi: string;
  /** `tcp:127.0.0.1:<port>` */
  tcpApi: string;
  frontendPort: number;
  /** Sends `warmUp` then `requests` requests through HAProxy; the share of the latter answered by the canary, in %. */
  observeCanaryShare(requests?: number, warmUp?: number): Promise<number>;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export function requireHaproxy(): void {
  if (!existsSync(HAPROXY_BINARY)) {
    throw new Error(
      `HAProxy is not installed (${HAPROXY_BINARY} is missing). These tests run a real HAProxy 2.6: ` +
        'apt-get update && apt-get install -y --no-install-recommends haproxy',
    );
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function nameServer(name: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return server;
}

function getText(port: number, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HAProxy answered ${res.statusCode}: ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error('request through HAProxy timed out')));
    req.on('error', reject);
  });
}

const CONCURRENCY = 8;

async function sendRequests(port: number, agent: http.Agent, count: number): Promise<string[]> {
  const answers: string[] = [];
  let sent = 0;
  const lane = async () => {
    while (sent < count) {
      sent++;
      answers.push(await getText(port, agent));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane));
  return answers;
}

export async function startHaproxyFixture(): Promise<HaproxyFixture> {
  requireHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'gp-haproxy-'));
  const [stable, canary] = await Promise.all([nameServer('stable'), nameServer('canary')]);
  const [frontendPort, apiPort] = await Promise.all([freePort(), freePort()]);
  const socketPath = join(dir, 'admin.sock');
  const configPath = join(dir, 'haproxy.cfg');
  const portOf = (s: http.Server) => (s.address() as AddressInfo).port;
  await writeFile(
    configPath,
    haproxyConfig({
      sockets: [`${socketPath} mode 600`, `ipv4@127.0.0.1:${apiPort}`],
      frontendPort,
      servers: [`stable 127.0.0.1:${portOf(stable)} weight 100`, `canary 127.0.0.1:${portOf(canary)} weight 0`],
    }),
  );

  let child: ChildProcess | null = null;
  let output = '';
  const unixApi = `unix:${socketPath}`;

  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  // Foreground (-db) as our own child rather than -D with a pid file: the process we kill is
  // the one we started, and a failed start shows HAProxy's own output in the error.
  const start = async () => {
    await stop();
    output = '';
    const spawned = spawn(HAPROXY_BINARY, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    spawned.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (spawned.exitCode !== null) throw new Error(`haproxy exited with ${spawned.exitCode}: ${output}`);
      const reply = await runtimeApiCommand(unixApi, 'get weight app/stable', 200, connectDirectly).catch(() => '');
      if (reply.includes('initial')) return;
      if (Date.now() > deadline) throw new Error(`haproxy did not come up within 5 s: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  await start();
  return {
    dir,
    unixApi,
    tcpApi: `tcp:127.0.0.1:${apiPort}`,
    frontendPort,
    async observeCanaryShare(requests = 400, warmUp = 800) {
      // HAProxy balances each request of a kept-alive connection on its own.
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      try {
        // Right after a weight change, roundrobin (fwrr) can be far off for a few hundred
        // requests: it keeps each server's position in the cycle, so a server whose weight
        // rose may take every request until the other catches up (measured on 2.6: up to
        // ~600 requests, e.g. 100% canary for 300 requests after 100/0 → 0/100 → 50/50).
        // The contract is about the split it settles on, so that transient is skipped here.
        await sendRequests(frontendPort, agent, warmUp);
        // Picks happen one at a time under HAProxy's lock, so these `requests` are consecutive
        // picks, and once settled every 100 consecutive picks hold exactly the asked split.
        const answers = await sendRequests(frontendPort, agent, requests);
        return (answers.filter((name) => name === 'canary').length / requests) * 100;
      } finally {
        agent.destroy();
      }
    },
    stop,
    start,
    async dispose() {
      await stop();
      await Promise.all([stable, canary].map((s) => new Promise((resolve) => s.close(resolve))));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test helper: a real HAProxy whose backend `app` has the servers given (each at weight 100, in
 * rotation), balancing `roundrobin`, with its runtime API on TCP. `ask` sends requests through it
 * and returns the answers.
 */
export async function startHaproxyBackend(servers: ReadonlyArray<{ name: string; port: number }>) {
  requireHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'gp-haproxy-backend-'));
  const [frontendPort, apiPort] = await Promise.all([freePort(), freePort()]);
  const configPath = join(dir, 'haproxy.cfg');
  await writeFile(
    configPath,
    haproxyConfig({ sockets: [`ipv4@127.0.0.1:${apiPort}`], frontendPort, servers: servers.map((s) => `${s.name} 127.0.0.1:${s.port} weight 100`) }),
  );
  const tcpApi = `tcp:127.0.0.1:${apiPort}`;
  let output = '';
  const child = spawn(HAPROXY_BINARY, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${output}`);
    const reply = await runtimeApiCommand(tcpApi, `get weight app/${servers[0]!.name}`, 200, connectDirectly).catch(() => '');
    if (reply.includes('initial')) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not come up within 5 s: ${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    tcpApi,
    frontendPort,
    /** Each server's current weight, as the runtime API reads it. */
    async weights(): Promise<Record<string, number>> {
      const read = async (name: string) => Number((await runtimeApiCommand(tcpApi, `get weight app/${name}`, 2000, connectDirectly)).split(' ')[0]);
      return Object.fromEntries(await Promise.all(servers.map(async (s) => [s.name, await read(s.name)] as const)));
    },
    /** `count` requests through HAProxy, one connection each: the answers' bodies. */
    async ask(count: number): Promise<string[]> {
      const agent = new http.Agent({ keepAlive: false });
      try {
        return await sendRequests(frontendPort, agent, count);
      } finally {
        agent.destroy();
      }
    },
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type HaproxyBackend = Awaited<ReturnType<typeof startHaproxyBackend>>;

/** The configuration both helpers run: admin runtime API sockets, one frontend, backend `app` balancing roundrobin. */
function haproxyConfig(o: { sockets: readonly string[]; frontendPort: number; servers: readonly string[] }): string {
  return [
    'global',
    ...o.sockets.map((socket) => `  stats socket ${socket} level admin`),
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend web',
    `  bind 127.0.0.1:${o.frontendPort}`,
    '  default_backend app',
    'backend app',
    '  balance roundrobin',
    ...o.servers.map((server) => `  server ${server}`),
    '',
  ].join('\n');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDirectly } from '../network/guarded-connect.ts';
import { runtimeApiCommand } from './haproxy-runtime-api.ts';
import { freePort, HAPROXY_BINARY, requireHaproxy } from './haproxy.testing.ts';

/**
 * Test helper: a real HAProxy with its built-in Prometheus exporter (`http-request
 * use-service prometheus-exporter`), one frontend per backend, each backend a stable and a
 * canary server that answer 503 to every n-th request. The servers count what they answered,
 * so a test can hold what Prometheus read against what really happened.
 */
export interface ExporterBackendSpec {
  name: string;
  /** Every n-th request a server receives is answered 503; 0: never. */
  stableErrorEvery: number;
  canaryErrorEvery: number;
  /** Canary weight out of 100 (stable gets the rest). */
  canaryWeight: number;
}

export interface ServedCounts {
  requests: number;
  errors: number;
}

export interface HaproxyExporterFixture {
  /** host:port Prometheus scrapes (path /metrics). */
  exporterAddress: string;
  /** `unix:<dir>/admin.sock`, for a router config that validates. */
  runtimeApi: string;
  /** What each server of a backend answered so far. */
  served(backend: string): { stable: ServedCounts; canary: ServedCounts };
  /** Sends `count` requests through the backend's frontend (any status is fine). */
  send(backend: string, count: number): Promise<void>;
  dispose(): Promise<void>;
}

async function countingServer(errorEvery: number): Promise<{ server: http.Server; counts: ServedCounts }> {
  const counts: ServedCounts = { requests: 0, errors: 0 };
  const server = http.createServer((_req, res) => {
    counts.requests++;
    const fail = errorEvery > 0 && counts.requests % errorEvery === 0;
    if (fail) counts.errors++;
    res.writeHead(fail ? 503 : 200, { 'content-type': 'text/plain' }).end(fail ? 'no' : 'ok');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { server, counts };
}

const CONCURRENCY = 8;

function sendOne(port: number, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('timeout', () => req.destroy(new Error('request through HAProxy timed out')));
    req.on('error', reject);
  });
}

export async function startHaproxyWithExporter(backends: ExporterBackendSpec[]): Promise<HaproxyExporterFixture> {
  requireHaproxy();
  const dir = await mkdtemp(join(tmpdir(), 'gp-haproxy-exporter-'));
  const servers = new Map<string, { stable: Awaited<ReturnType<typeof countingServer>>; canary: Awaited<ReturnType<typeof countingServer>> }>();
  const frontends = new Map<string, number>();
  const portOf = (s: http.Server) => (s.address() as AddressInfo).port;
  let child: ChildProcess | null = null;

  const dispose = async () => {
    const running = child;
    child = null;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    }
    await Promise.all([...servers.values()].flatMap((b) => [b.stable.server, b.canary.server]).map((s) => new Promise((resolve) => s.close(resolve))));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const b of backends) {
      servers.set(b.name, { stable: await countingServer(b.stableErrorEvery), canary: await countingServer(b.canaryErrorEvery) });
      frontends.set(b.name, await freePort());
    }
    const exporterPort = await freePort();
    const socketPath = join(dir, 'admin.sock');
    const configPath = join(dir, 'haproxy.cfg');
    await writeFile(
      configPath,
      [
        'global',
        `  stats socket ${socketPath} mode 600 level admin`,
        '  maxconn 512',
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend exporter',
        `  bind 127.0.0.1:${exporterPort}`,
        '  http-request use-service prometheus-exporter if { path /metrics }',
        ...backends.flatMap((b) => {
          const s = servers.get(b.name)!;
          return [
            `frontend ${b.name}_in`,
            `  bind 127.0.0.1:${frontends.get(b.name)}`,
            `  default_backend ${b.name}`,
            `backend ${b.name}`,
            '  balance roundrobin',
            `  server stable 127.0.0.1:${portOf(s.stable.server)} weight ${100 - b.canaryWeight}`,
            `  server canary 127.0.0.1:${portOf(s.canary.server)} weight ${b.canaryWeight}`,
          ];
        }),
        '',
      ].join('\n'),
    );
    let output = '';
    const spawned = spawn(HAPROXY_BINARY, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    spawned.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (spawned.exitCode !== null) throw new Error(`haproxy exited with ${spawned.exitCode}: ${output}`);
      const reply = await runtimeApiCommand(`unix:${socketPath}`, 'show info', 200, connectDirectly).catch(() => '');
      if (reply.includes('Name: HAProxy')) break;
      if (Date.now() > deadline) throw new Error(`haproxy did not come up within 5 s: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    return {
      exporterAddress: `127.0.0.1:${exporterPort}`,
      runtimeApi: `unix:${socketPath}`,
      served(backend) {
        const s = servers.get(backend);
        if (!s) throw new Error(`no backend ${backend}`);
        return { stable: { ...s.stable.counts }, canary: { ...s.canary.counts } };
      },
      async send(backend, count) {
        const port = frontends.get(backend);
        if (port === undefined) throw new Error(`no backend ${backend}`);
        // HAProxy balances each request of a kept-alive connection on its own.
        const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
        let sent = 0;
        const lane = async () => {
          while (sent < count) {
            sent++;
            await sendOne(port, agent);
          }
        };
        try {
          await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane));
        } finally {
          agent.destroy();
        }
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

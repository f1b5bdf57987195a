// Read throughput and latency of `GET /api/v1/audit?limit=20` on a seeded audit log, next to a
// bare Fastify hello world measured in the same run, and the ratio between the two.
//
//   node_modules/.bin/tsx bench/api-read.bench.ts      (or: pnpm bench:api)
//
// How it measures, and why:
// - The machine has 2 cores, shared by the load generator, the server under test and (for the
//   API) PostgreSQL. Running autocannon and the server on one event loop would make them take
//   turns, so neither number would mean much. Both servers therefore run in a child process of
//   their own (`node --import tsx ...`) and autocannon runs here, in the parent, so each gets its
//   own thread and the OS scheduler shares the cores. Both targets are measured the same way, one
//   after the other (never at once), each in a fresh process.
// - The API child is the real entry point, apps/api/src/server.ts, configured through its
//   environment (LOG_LEVEL=silent, its own database). The bench may not import an app (the
//   eslint import-direction rule covers bench/**), and starting the production entry point also
//   measures exactly what ships. It cannot report a port chosen by the OS without logging every
//   request, so the bench asks the OS for a free loopback port first and hands it over.
// - The database is created and migrated here (not cloned from the shared test template, which
//   preparing would drop under any test run going on at the same time), seeded through
//   appendAuditEvent so the rows and hash chain are real, and dropped at the end.
// - autocannon's histogram keeps whole milliseconds, too coarse for a hello world, so p50/p99 are
//   computed from the per-response timings it emits (hrtime, sub-millisecond).
// - Everything is on 127.0.0.1; a watchdog ends the run if it ever takes longer than 58 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { appendAuditEvent, createPrismaClient, migrate, MIGRATIONS_DIR, type PrismaClient } from '@glidepath/db';
import { createEmptyDatabase } from '@glidepath/db/testing';
import autocannon, { type Result } from 'autocannon';

// Every read needs an identity: both targets get the same header (the hello world ignores it),
// so the API's figures include looking the token and its role bindings up.
const BENCH_TOKEN = randomBytes(32).toString('hex');
const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };

// Seeding goes through appendAuditEvent (lock + read of the chain head + insert, ~2.5 ms per
// event here), so 10,000 events would take ~25 s of the 60 s budget. The measured query is a
// backward scan of the primary key with LIMIT 21, whose cost does not grow with the table.
const SEED_EVENTS = 5_000;
const EVENTS_PER_TRANSACTION = 250;
const CONNECTIONS = [10];
const WARMUP_SECONDS = 2;
const MEASURE_SECONDS = 8;
const WATCHDOG_MS = 58_000;
const API_PATH = '/api/v1/audit?limit=20';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const root = fileURLToPath(new URL('..', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('../apps/api/src/server.ts', import.meta.url));
const HELLO_ENTRY = fileURLToPath(new URL('./hello-server.ts', import.meta.url));

interface Measurement {
  target: string;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

const children = new Set<ChildProcess>();
let dropDatabase: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const started = Date.now();
  const db = await createEmptyDatabase('gp_bench');
  dropDatabase = db.drop;
  await migrate({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR });

  // The API child compiles and starts (a few seconds, nothing measured) while the seed runs.
  const apiPort = await freeLoopbackPort();
  const api = startChild('api', API_ENTRY, {
    DATABASE_URL: db.url,
    REDIS_URL,
    GLIDEPATH_HOST: '127.0.0.1',
    GLIDEPATH_PORT: String(apiPort),
    GLIDEPATH_CREATE_DATABASE: 'false',
    GLIDEPATH_WEB_DIST: '',
    GLIDEPATH_BOOTSTRAP_TOKEN: BENCH_TOKEN,
    LOG_LEVEL: 'silent',
  });

  const prisma = createPrismaClient(db.url);
  const seedStarted = Date.now();
  try {
    await seed(prisma, () => api.failure);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE audit_event');
  } finally {
    await prisma.$disconnect();
  }
  const seedSeconds = (Date.now() - seedStarted) / 1000;

  const results: Measurement[] = [];
  const apiUrl = `http://127.0.0.1:${apiPort}${API_PATH}`;
  await waitUntilServing(api, apiUrl);
  await checkApiResponse(apiUrl);
  for (const connections of CONNECTIONS) results.push(await measure(`api   GET ${API_PATH}`, apiUrl, connections));
  await stopChild(api);

  const hello = startChild('hello', HELLO_ENTRY, {});
  const helloPort = await reportedPort(hello);
  const helloUrl = `http://127.0.0.1:${helloPort}/`;
  await waitUntilServing(hello, helloUrl);
  for (const connections of CONNECTIONS) results.push(await measure('hello GET / (bare Fastify)', helloUrl, connections));
  await stopChild(hello);

  await db.drop();
  dropDatabase = undefined;

  printReport(results, seedSeconds, (Date.now() - started) / 1000);
  const failed = results.filter((r) => r.errors > 0 || r.non2xx > 0);
  if (failed.length > 0) {
    console.error(`\nFAILED: errors or non-2xx responses in ${failed.map((r) => `${r.target} (${r.connections} conns)`).join(', ')}`);
    process.exitCode = 1;
  }
}

/** Real audit events through the real append path, a few hundred per transaction. */
async function seed(prisma: PrismaClient, apiFailure: () => Error | undefined): Promise<void> {
  const actions = ['service.created', 'service.updated', 'release.planned', 'release.started', 'release.promoted', 'release.completed'];
  const environments = ['env-dev', 'env-staging', 'env-prod'];
  for (let done = 0; done < SEED_EVENTS; done += EVENTS_PER_TRANSACTION) {
    const failure = apiFailure(); // the API child starting meanwhile has already died: stop early
    if (failure) throw failure;
    const count = Math.min(EVENTS_PER_TRANSACTION, SEED_EVENTS - done);
    await prisma.$transaction(
      async (tx) => {
        for (let i = done; i < done + count; i++) {
          const service = `svc-${i % 97}`;
          await appendAuditEvent(tx, {
            actor: i % 5 === 0 ? { type: 'system', id: 'worker' } : { type: 'user', id: `user-${i % 13}` },
            action: actions[i % actions.length]!,
            subject: { type: 'service', id: service },
            environmentId: i % 4 === 0 ? null : environments[i % environments.length]!,
            before: i % 3 === 0 ? null : { name: service, owners: ['team-a'], replicas: i % 7 },
            after: { name: service, owners: ['team-a', 'team-b'], replicas: (i % 7) + 1 },
            payload: { version: `1.${i % 50}.${i % 10}`, note: 'seeded by bench/api-read.bench.ts' },
            reason: i % 2 === 0 ? 'scheduled rollout' : null,
            requestId: `bench-${i}`,
          });
        }
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
  }
}

async function measure(target: string, url: string, connections: number): Promise<Measurement> {
  process.stdout.write(`measuring ${target.padEnd(32)} ${connections} conns, ${WARMUP_SECONDS} s warm-up + ${MEASURE_SECONDS} s ... `);
  const latencies: number[] = [];
  const instance = autocannon({
    url,
    headers: AUTH,
    connections,
    duration: MEASURE_SECONDS,
    warmup: { connections, duration: WARMUP_SECONDS },
    timeout: 5,
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false,
  });
  // Only the measured phase: the warm-up runs on a tracker of its own.
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result: Result = await instance;
  const warm = result.warmup;
  const sorted = Float64Array.from(latencies).sort();
  const m: Measurement = {
    target,
    connections,
    reqPerSec: result.requests.mean,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors + (warm?.errors ?? 0),
    non2xx: result.non2xx + (warm?.non2xx ?? 0),
    total: result['2xx'] + result.non2xx,
  };
  console.log(`${fmt(m.reqPerSec, 0)} req/s`);
  return m;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function printReport(results: Measurement[], seedSeconds: number, totalSeconds: number): void {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log('');
  console.log(`Glidepath API read benchmark — ${new Date().toISOString()}`);
  console.log(`${os.cpus().length} cores (${cpu}), Node ${process.version}, ${os.platform()} ${os.release()}`);
  console.log(`${fmt(SEED_EVENTS, 0)} audit events seeded in ${seedSeconds.toFixed(1)} s; each server in its own child process, autocannon in the parent`);
  console.log(`${WARMUP_SECONDS} s warm-up + ${MEASURE_SECONDS} s measured per row, loopback 127.0.0.1; latency from per-response hrtime`);
  console.log('');
  const header = ['target', 'conns', 'req/s (mean)', 'p50 ms', 'p99 ms', 'requests', 'errors', 'non-2xx'];
  const rows = results.map((r) => [
    r.target,
    String(r.connections),
    fmt(r.reqPerSec, 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.total, 0),
    String(r.errors),
    String(r.non2xx),
  ]);
  for (const connections of CONNECTIONS) {
    const api = results.find((r) => r.connections === connections && r.target.startsWith('api'));
    const hello = results.find((r) => r.connections === connections && r.target.startsWith('hello'));
    if (!api || !hello) continue;
    rows.push([
      'ratio api ÷ hello',
      String(connections),
      `${(api.reqPerSec / hello.reqPerSec).toFixed(3)}×`,
      `${(api.p50 / hello.p50).toFixed(1)}×`,
      `${(api.p99 / hello.p99).toFixed(1)}×`,
      '',
      '',
      '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) {
    if (row[0]!.startsWith('ratio')) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(line(row));
  }
  console.log('');
  console.log(`total run ${totalSeconds.toFixed(1)} s`);
}

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// --- child processes -------------------------------------------------------------------------

interface Child {
  process: ChildProcess;
  stopping: boolean;
  /** Set when the server exits before it was asked to stop. */
  failure?: Error;
}

function startChild(name: string, entry: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = { process: proc, stopping: false };
  children.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  proc.once('exit', (code, signal) => {
    children.delete(proc);
    if (!child.stopping) child.failure = new Error(`${name} server exited (${signal ?? code}): ${stderr.trim() || 'no output'}`);
  });
  return child;
}

function reportedPort(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.process.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.process.once('exit', () => setImmediate(() => reject(child.failure ?? new Error('server exited'))));
  });
}

/** Polls until the server answers 200 (tsx compiles the app on start: a few seconds). */
async function waitUntilServing(child: Child, url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.failure) throw child.failure;
    try {
      const res = await fetch(url, { headers: AUTH });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function checkApiResponse(url: string): Promise<void> {
  const res = await fetch(url, { headers: AUTH });
  const body = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
  if (res.status !== 200 || body.items?.length !== 20 || typeof body.nextCursor !== 'string') {
    throw new Error(`unexpected answer from ${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

function stopChild(child: Child): Promise<void> {
  const proc = child.process;
  child.stopping = true;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** A port the OS considers free on loopback, for the API child (which cannot report one itself). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await dropDatabase?.().catch((error: unknown) => console.error(`could not drop the bench database: ${(error as Error).message}`));
}

const watchdog = setTimeout(() => {
  console.error(`\nFAILED: the benchmark ran longer than ${WATCHDOG_MS / 1000} s; stopping`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

try {
  await main();
} catch (error) {
  console.error(`\nFAILED: ${(error as Error).stack ?? String(error)}`);
  await cleanUp();
  process.exitCode = 1;
}

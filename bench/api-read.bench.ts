// The API's hot reads next to the database's own limit, side by side in one run: for the audit
// page, the release list, the release detail and the approvals inbox, the real API (with a
// token) against a bare Fastify server running the same single SQL statement through pg and
// answering the same JSON (bench/raw-read-server.ts), and the ratio. Then what identity costs at
// most: the audit page with a token and with a session cookie, against the same baseline.
//
//   node_modules/.bin/tsx bench/api-read.bench.ts      (or: pnpm bench:api)
//
// How it measures, and why:
// - 2 cores, shared by the load generator, the servers and PostgreSQL. Each server runs in a
//   child process of its own (`node --import tsx ...`) and autocannon runs here, so each gets its
//   own thread and the OS shares the cores. Only one target is loaded at a time.
// - The API child is the real entry point, apps/api/src/server.ts, configured through its
//   environment (LOG_LEVEL=silent, its own database). The bench may not import an app (the
//   eslint import-direction rule covers bench/**); the baseline imports packages/db's read
//   repositories, so "the same SQL" is the same code, not a copy.
// - Both servers stay up for the whole run and each read is measured in short alternating
//   rounds (API, baseline, API, baseline, …). The ratio is the median of each API round over the
//   baseline round next to it: a machine whose load drifts (this one is shared) moves both alike.
// - The same ratio in CPU: what a request costs the server process and its PostgreSQL backends
//   (user+sys from /proc, backends told apart by application_name). When the cores are the limit,
//   throughput follows it, and it hardly moves with whatever else the machine is doing.
// - Before measuring, the bench checks that both servers answer each read with the same JSON.
// - The database is created and migrated here (not cloned from the shared test template),
//   seeded with a history the real state machine would have left (packages/db/testing
//   seedHistory: releases driven by core's transition(), with transitions, measurements,
//   approvals and a hash-chained audit log), and dropped at the end.
// - autocannon's histogram keeps whole milliseconds, so p50/p99 come from per-response hrtime.
// - A watchdog ends the run after 150 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  createPrismaClient,
  createSession,
  createSqlPool,
  hashToken,
  insertRoleBinding,
  migrate,
  MIGRATIONS_DIR,
  upsertUserFromSignIn,
  type PrismaClient,
} from '@glidepath/db';
import { createEmptyDatabase, seedHistory } from '@glidepath/db/testing';
import autocannon, { type Result } from 'autocannon';

type Pool = ReturnType<typeof createSqlPool>;

const SEED = { services: 40, releasesPerEnvironment: 8, awaitingApproval: 30, auditEvents: 10_000 };
const CONNECTIONS = 10;
const WARMUP_SECONDS = 2;
const ROUND_SECONDS = 1;
const ROUNDS = 7;
const WATCHDOG_MS = 150_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const root = fileURLToPath(new URL('..', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('../apps/api/src/server.ts', import.meta.url));
const RAW_ENTRY = fileURLToPath(new URL('./raw-read-server.ts', import.meta.url));

interface Read {
  name: string;
  /** One path, or several that each connection cycles through (release details). */
  paths: string[];
}

interface Measurement {
  read: string;
  target: 'api' | 'raw' | 'api-session';
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  failed: number;
  /** CPU of the server process per request, ms. */
  cpuMsPerRequest: number;
  /** CPU of its PostgreSQL backends per request, ms. */
  pgCpuMsPerRequest: number;
  /** api ÷ raw: median over paired rounds (raw: undefined). */
  ratio?: number;
}

interface Target {
  name: Measurement['target'];
  base: string;
  headers: Record<string, string>;
  child: Child;
  /** The application_name its PostgreSQL connections carry. */
  pgName: string;
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
    DATABASE_URL: withAppName(db.url, 'gp-bench-api'),
    REDIS_URL,
    GLIDEPATH_HOST: '127.0.0.1',
    GLIDEPATH_PORT: String(apiPort),
    GLIDEPATH_CREATE_DATABASE: 'false',
    GLIDEPATH_WEB_DIST: '',
    LOG_LEVEL: 'silent',
  });
  const raw = startChild('raw', RAW_ENTRY, { DATABASE_URL: withAppName(db.url, 'gp-bench-raw') });
  const rawPort = await reportedPort(raw);

  const prisma = createPrismaClient(db.url);
  const seedStarted = Date.now();
  let seeded: Awaited<ReturnType<typeof seedHistory>>;
  let credentials: Awaited<ReturnType<typeof createCredentials>>;
  try {
    seeded = await seedHistory(prisma, SEED);
    credentials = await createCredentials(prisma);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE');
  } finally {
    await prisma.$disconnect();
  }
  const seedSeconds = (Date.now() - seedStarted) / 1000;

  // Details of releases across the list (newest first, so the ones people open), each with its history.
  const details = seeded.releaseIds
    .slice()
    .reverse()
    .filter((_, i) => i % 40 === 0)
    .slice(0, 20);
  const reads: Read[] = [
    { name: 'audit page      GET /api/v1/audit?limit=50', paths: ['/api/v1/audit?limit=50'] },
    { name: 'release list    GET /api/v1/releases?limit=50', paths: ['/api/v1/releases?limit=50'] },
    { name: 'release detail  GET /api/v1/releases/:id', paths: details.map((id) => `/api/v1/releases/${id}`) },
    { name: 'approvals inbox GET /api/v1/approvals', paths: ['/api/v1/approvals'] },
  ];
  const apiTarget: Target = {
    name: 'api',
    base: `http://127.0.0.1:${apiPort}`,
    headers: { authorization: `Bearer ${credentials.token}` },
    child: api,
    pgName: 'gp-bench-api',
  };
  const sessionTarget: Target = { ...apiTarget, name: 'api-session', headers: { cookie: `glidepath_session=${credentials.session}` } };
  // The baseline gets the same header bytes; it reads none of them.
  const rawTarget: Target = { name: 'raw', base: `http://127.0.0.1:${rawPort}`, headers: apiTarget.headers, child: raw, pgName: 'gp-bench-raw' };

  await waitUntilServing(api, `${apiTarget.base}/api/v1/audit?limit=1`, apiTarget.headers);
  await waitUntilServing(raw, `${rawTarget.base}/hello`, {});
  for (const read of reads) for (const path of read.paths) await sameJson(read.name, path, apiTarget, rawTarget);
  const inbox = (await (await fetch(`${apiTarget.base}/api/v1/approvals`, { headers: apiTarget.headers })).json()) as { items: unknown[] };
  if (inbox.items.length !== seeded.awaitingApprovalIds.length)
    throw new Error(`the inbox shows ${inbox.items.length} of ${seeded.awaitingApprovalIds.length} waiting releases`);

  const monitor = createSqlPool(db.url, 1);
  const results: Measurement[] = [];
  try {
    // The audit page also with a person's session cookie: what identity costs, token or session.
    for (const read of reads)
      results.push(...(await alternate(monitor, read, read === reads[0] ? [apiTarget, sessionTarget, rawTarget] : [apiTarget, rawTarget])));
  } finally {
    await monitor.end();
  }

  await stopChild(api);
  await stopChild(raw);
  await db.drop();
  dropDatabase = undefined;

  printReport(results, reads, seeded, seedSeconds, (Date.now() - started) / 1000);
  const failed = results.filter((r) => r.failed > 0);
  if (failed.length > 0) {
    console.error(`\nFAILED: errors or non-2xx responses in ${failed.map((r) => `${r.target} ${r.read}`).join(', ')}`);
    process.exitCode = 1;
  }
}

/** A service-account token and a person's session, both with the approver role everywhere (read, audit:read, approve). */
async function createCredentials(prisma: PrismaClient): Promise<{ token: string; session: string }> {
  const token = `gp_${randomBytes(32).toString('hex')}`;
  const session = await prisma.$transaction(async (tx) => {
    const row = await tx.apiToken.create({ data: { id: randomUUID(), name: 'bench-approver', tokenHash: hashToken(token), createdBy: 'bench' } });
    await insertRoleBinding(tx, { subjectType: 'token', subjectId: row.id, role: 'approver', serviceId: null, environmentId: null }, 'bench');
    const { user } = await upsertUserFromSignIn(tx, { issuer: 'bench', subject: 'approver', email: 'approver@bench.test', name: 'Bench Approver', groups: [] });
    await insertRoleBinding(tx, { subjectType: 'user', subjectId: user.id, role: 'approver', serviceId: null, environmentId: null }, 'bench');
    return (await createSession(tx, { userId: user.id, authTime: new Date(), absoluteMs: 3_600_000 })).secret;
  });
  return { token, session };
}

/** Both servers must give the same JSON (values and key order; PostgreSQL's spacing aside). */
async function sameJson(read: string, path: string, a: Target, b: Target): Promise<void> {
  const [x, y] = await Promise.all(
    [a, b].map(async (t) => {
      const res = await fetch(`${t.base}${path}`, { headers: t.headers });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${t.name} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as unknown;
    }),
  );
  if (!isDeepStrictEqual(x, y) || JSON.stringify(x) !== JSON.stringify(y))
    throw new Error(`${read}: the API and the baseline answer ${path} differently:\n${JSON.stringify(x).slice(0, 400)}\n${JSON.stringify(y).slice(0, 400)}`);
}

/** Warm each target up, then load them in turn, ROUNDS times; one measurement per target over its rounds. */
async function alternate(monitor: Pool, read: Read, targets: Target[]): Promise<Measurement[]> {
  process.stdout.write(`measuring ${read.name.padEnd(48)} `);
  for (const target of targets) await load(monitor, read, target, WARMUP_SECONDS);
  const rounds = new Map<Target, Array<Awaited<ReturnType<typeof load>>>>(targets.map((t) => [t, []]));
  for (let round = 0; round < ROUNDS; round++) for (const target of targets) rounds.get(target)!.push(await load(monitor, read, target, ROUND_SECONDS));
  const raw = rounds.get(targets.find((t) => t.name === 'raw')!)!;
  const measurements = targets.map((target) => {
    const runs = rounds.get(target)!;
    const latencies = Float64Array.from(runs.flatMap((r) => r.latencies)).sort();
    const requests = runs.reduce((n, r) => n + r.requests, 0);
    const seconds = runs.reduce((n, r) => n + r.seconds, 0);
    const paired = runs.map((r, i) => r.requests / r.seconds / (raw[i]!.requests / raw[i]!.seconds)).sort((x, y) => x - y);
    return {
      read: read.name,
      target: target.name,
      reqPerSec: requests / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      requests,
      failed: runs.reduce((n, r) => n + r.failed, 0),
      cpuMsPerRequest: runs.reduce((n, r) => n + r.cpuMs, 0) / requests,
      pgCpuMsPerRequest: runs.reduce((n, r) => n + r.pgCpuMs, 0) / requests,
      ratio: target.name === 'raw' ? undefined : paired[Math.floor(paired.length / 2)],
    };
  });
  console.log(measurements.map((m) => `${m.target} ${fmt(m.reqPerSec, 0)} req/s`).join(', '));
  return measurements;
}

async function load(monitor: Pool, read: Read, target: Target, seconds: number) {
  const latencies: number[] = [];
  const cpuBefore = processCpuMs(target.child.process.pid!);
  const pgBefore = await backendCpuMs(monitor, target.pgName);
  const instance = autocannon({
    url: target.base,
    requests: read.paths.map((path) => ({ method: 'GET', path })),
    headers: target.headers,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 5,
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false,
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result: Result = await instance;
  const cpuMs = processCpuMs(target.child.process.pid!) - cpuBefore;
  const pgAfter = await backendCpuMs(monitor, target.pgName);
  // Backends that started during the round count from zero; one that ended is missed (pools keep theirs).
  const pgCpuMs = [...pgAfter].reduce((sum, [pid, ms]) => sum + ms - (pgBefore.get(pid) ?? 0), 0);
  if (target.child.failure) throw target.child.failure;
  return { latencies, requests: result['2xx'], seconds: result.duration, failed: result.errors + result.non2xx, cpuMs, pgCpuMs };
}

/** CPU so far of each PostgreSQL backend whose connection carries this application_name, by pid. */
async function backendCpuMs(monitor: Pool, applicationName: string): Promise<Map<number, number>> {
  const { rows } = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, processCpuMs(pid));
    } catch {
      // ended meanwhile
    }
  }
  return cpu;
}

function withAppName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/** user + system CPU of a process so far, in ms (Linux). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function printReport(
  results: Measurement[],
  reads: Read[],
  seeded: { releaseIds: string[]; awaitingApprovalIds: string[] },
  seedSeconds: number,
  totalSeconds: number,
): void {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const [load1] = os.loadavg();
  console.log('');
  console.log(`Glidepath API read benchmark — ${new Date().toISOString()}`);
  console.log(`${os.cpus().length} cores (${cpu}), Node ${process.version}, ${os.platform()} ${os.release()}, load average ${load1!.toFixed(2)} at the end`);
  console.log(
    `seeded in ${seedSeconds.toFixed(1)} s: ${SEED.services} services × 3 environments, ${fmt(seeded.releaseIds.length, 0)} releases with their transitions and measurements, ` +
      `${seeded.awaitingApprovalIds.length} waiting for approval, ${fmt(SEED.auditEvents, 0)} audit events`,
  );
  console.log(
    `${CONNECTIONS} connections; per read ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s per target. ` +
      'api = apps/api/src/server.ts with a token; raw = bare Fastify + the same statement through pg (bench/raw-read-server.ts)',
  );
  console.log('');
  const header = ['read', 'target', 'req/s', 'p50 ms', 'p99 ms', 'node CPU ms/req', 'PG CPU ms/req', 'requests', 'failed', 'req/s ÷ raw', 'CPU: raw ÷ api'];
  const rows: string[][] = [];
  const byRead = new Map<string, Measurement[]>();
  for (const r of results) byRead.set(r.read, [...(byRead.get(r.read) ?? []), r]);
  const cost = (m: Measurement) => m.cpuMsPerRequest + m.pgCpuMsPerRequest;
  for (const [read, ms] of byRead) {
    const rawM = ms.find((m) => m.target === 'raw')!;
    for (const m of ms)
      rows.push([
        m === ms[0] ? read : '',
        m.target,
        fmt(m.reqPerSec, 0),
        fmt(m.p50, 2),
        fmt(m.p99, 2),
        fmt(m.cpuMsPerRequest, 3),
        fmt(m.pgCpuMsPerRequest, 3),
        fmt(m.requests, 0),
        String(m.failed),
        m.ratio === undefined ? '' : `${m.ratio.toFixed(2)}×`,
        m.target === 'raw' ? '' : `${(cost(rawM) / cost(m)).toFixed(2)}×`,
      ]);
    rows.push([]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(0, -1)) console.log(row.length ? line(row) : '');
  console.log('');
  const hot = reads.map((read) => byRead.get(read.name)!);
  const ratios = hot.map((ms) => ms.find((m) => m.target === 'api')!.ratio!);
  const costRatios = hot.map((ms) => cost(ms.find((m) => m.target === 'raw')!) / cost(ms.find((m) => m.target === 'api')!));
  const list = (xs: number[]) => xs.map((r) => `${r.toFixed(2)}×`).join(', ');
  console.log(`hot reads (audit, list, detail, inbox), api ÷ raw: req/s ${list(ratios)}; CPU ${list(costRatios)}`);
  console.log(
    `goal ≥ 0.90× each: ${ratios.every((r) => r >= 0.9) ? 'met' : 'NOT met'} by req/s, ${costRatios.every((r) => r >= 0.9) ? 'met' : 'NOT met'} by CPU`,
  );
  const identity = byRead.get(reads[0]!.name)!;
  const [token, session, rawI] = ['api', 'api-session', 'raw'].map((t) => identity.find((m) => m.target === t)!);
  const share = (m: Measurement) => `${(100 * (1 - m.ratio!)).toFixed(1)}% by req/s, ${(100 * (1 - cost(rawI!) / cost(m))).toFixed(1)}% by CPU`;
  console.log(
    `identity, on the audit page: at most everything the API adds to the statement (identity, access checks, hooks) — with a token: ${share(token!)}; ` +
      `with a session cookie: ${share(session!)} (goal < 10%)`,
  );
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
async function waitUntilServing(child: Child, url: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.failure) throw child.failure;
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
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

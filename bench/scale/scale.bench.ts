// How one worker process keeps up with many concurrent canary releases: reconcile lag on timed
// pauses, time to create and start the releases, worker CPU and memory per release.
//
//   node_modules/.bin/tsx bench/scale/scale.bench.ts [--sizes 500,1000,2000] [--concurrency 10]
//        [--sweep-ms 30000] [--pause-s 10] [--max-wait-s 150]
//
// For each size N, in a database and a queue prefix of its own:
// 1. creates and migrates an empty database (`gp_bench_scale_*`) and starts one real worker process
//    (apps/worker/src/main.ts through startWorkerProcess), tuned through its environment
//    (GLIDEPATH_WORKER_CONCURRENCY, GLIDEPATH_SWEEP_EVERY_MS; the Prisma pool is min(concurrency + 5, 40));
// 2. runs 20 short warm-up releases (1 s pauses) so the measured ones do not pay for cold code;
// 3. seeds N releases of one service, one recording-router environment each (only one active release
//    per environment is allowed), plan `setWeight 10 → pause 10s → setWeight 50 → pause 10s →
//    setWeight 100`, started the way the API does it: release row + `start` in the inbox + a reconcile
//    job with the start priority (behind running releases' wake-ups). Rows go in with createMany
//    (createManyAndReturn for the inbox) in chunks of 500 and jobs with Queue.addBulk, while the
//    worker already consumes them;
// 4. waits until every release is terminal or the size's time is up (--max-wait-s, and the share of
//    the watchdog budget left), sampling pg_stat_activity (what the worker's connections wait on) and
//    the CPU of the worker, of its PostgreSQL backends and of the whole machine;
// 5. measures from the database:
//    - lag of a timed pause = commit − due. `due` is the pause's wakeAt, which the state machine sets to
//      step.startedAt + durationMs, both kept in the final state (the bench checks on live rows that
//      release.wake_at equals that sum). `commit` is audit_event.created_at of the release.step-advanced
//      event that left the pause: appendAuditEvent stamps it after taking the audit-chain lock, as the
//      last statement before COMMIT, so it is when the advance became durable, within a millisecond.
//      (release_transition.created_at is the transaction's start, and step.finishedAt the reconciler's
//      `now`, taken before it even asks for a connection: both would hide part of the queueing.)
//      A pause still running at the cut-off counts with its lag so far, and percentiles that reach
//      those lower bounds are printed with ≥;
//    - the split of that lag: pickup (wakeAt → BullMQ processedOn of the `wake-<ms>` job), decide
//      (wakeAt → the reconciler's `now`, = step.finishedAt) and transaction (now → commit);
// 6. stops the worker (the tsx wrapper and the real node process under it: killing only the wrapper
//    would orphan the worker), deletes the queue's Redis keys and drops the database. The same happens
//    on a failure, Ctrl-C, or the watchdog (7.5 min for the whole run).
//
// Worker CPU is user+sys of the worker's process tree (/proc/<pid>/stat) from just before seeding to the
// end of measuring; memory is the real worker process's VmHWM (peak RSS since it started) and
// (VmHWM − RSS when idle before seeding) ÷ N. "other procs" is the machine's busy time (/proc/stat) less
// this run's worker, its PostgreSQL backends and the bench itself: on a shared 2-core box it says how
// much CPU the run actually had. Everything is on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { initialReleaseState, JOB, reconcileJobId, TERMINAL_PHASES, validatePlan, type PlanSpec } from '@glidepath/core';
import { createJobQueue, createPrismaClient, migrate, MIGRATIONS_DIR, Prisma, START_PRIORITY, type JobQueue, type PrismaClient } from '@glidepath/db';
import { createEmptyDatabase, startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { Redis } from 'ioredis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WATCHDOG_MS = 450_000;
const SEED_CHUNK = 500;
const BENCH_APP = 'gp-bench-scale';

const options = parseArgs(process.argv.slice(2));
const canary = (pause: string): PlanSpec => ({
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight: 10 },
    { type: 'pause', duration: pause },
    { type: 'setWeight', weight: 50 },
    { type: 'pause', duration: pause },
    { type: 'setWeight', weight: 100 },
  ],
});
const PLAN = canary(`${options.pauseSeconds}s`);
/** A few short releases first, so the measured ones do not pay for cold code (JIT, Prisma query plans). */
const WARMUP = { count: 20, plan: canary('1s') };
const WORKER_ENV = {
  GLIDEPATH_WORKER_CONCURRENCY: String(options.concurrency),
  GLIDEPATH_SWEEP_EVERY_MS: String(options.sweepMs),
  // startWorkerProcess sets 2 s for crash tests; under load a busy event loop could miss renewals.
  GLIDEPATH_JOB_LOCK_MS: '30000',
  // info logs only start-up and shutdown here; the bench reads the metrics port from "worker started".
  LOG_LEVEL: 'info',
};

interface SizeResult {
  n: number;
  seedSeconds: number;
  /** from the start of seeding to the last release started / finished; NaN when not all did */
  startedSeconds: number;
  doneSeconds: number;
  /** from the start of seeding to the end of measuring (all finished, or the cut-off) */
  measuredSeconds: number;
  lag: Stats;
  /** the smallest lag among overdue pauses (a lower bound of theirs); Infinity when none */
  overdueFrom: number;
  decide: Stats;
  pickup: Stats;
  tx: Stats;
  pauses: number;
  overdue: number;
  workerCpuSeconds: number;
  pgCpuSeconds: number;
  peakRssMb: number;
  idleRssMb: number;
  started: number;
  succeeded: number;
  terminal: number;
  recordedEffects: number;
  /** router effects listed in committed transitions: what the recording router needed to receive */
  committedEffects: number;
  auditEvents: number;
  /** finished jobs by trigger; due = time has come but not finished (the backlog); scheduled = delayed into the future */
  jobs: { start: number; wake: number; sweep: number; failedOnce: number; due: number; scheduled: number };
  failureReasons: Map<string, number>;
  wait: WaitProfile;
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
  wakeChecked: number;
  wakeMismatched: number;
  /** machine-wide busy share of all cores while measuring, and the cores' worth used by other processes */
  machineBusy: number;
  otherCores: number;
  loadAverage: number;
}
interface Stats {
  p50: number;
  p99: number;
  max: number;
}
interface WaitProfile {
  samples: number;
  advisory: number;
  rowLock: number;
  wal: number;
  active: number;
  idleInTx: number;
  connections: number;
}

// ---- cleanup: every resource registers how to release it; run on success, failure, Ctrl-C, watchdog
const cleanups: Array<{ name: string; run: () => Promise<void> }> = [];
let cleaning: Promise<void> | undefined;
/** Registers a cleanup; the function returned runs it now (once) and takes it off the list. */
function onCleanup(name: string, run: () => Promise<void>): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await run();
  };
}
function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const entry = cleanups.pop()!;
      try {
        await withTimeout(entry.run(), 20_000, entry.name);
      } catch (error) {
        console.error(`cleanup "${entry.name}" failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}
let aborting = false;
async function abort(message: string, code: number): Promise<never> {
  aborting = true;
  console.error(`\n${message}: stopping the worker, dropping databases ...`);
  await cleanupAll();
  process.exit(code);
}
process.once('SIGINT', () => void abort('interrupted', 130));
process.once('SIGTERM', () => void abort('terminated', 143));
const watchdog = setTimeout(() => void abort(`watchdog: the run took longer than ${WATCHDOG_MS / 1000} s`, 2), WATCHDOG_MS);

async function main(): Promise<void> {
  const started = Date.now();
  console.log(
    `scale bench: sizes ${options.sizes.join(', ')}; worker concurrency ${options.concurrency} (Prisma pool ${Math.min(options.concurrency + 5, 40)}), ` +
      `sweep every ${options.sweepMs} ms; plan setWeight 10 → pause ${options.pauseSeconds}s → setWeight 50 → pause ${options.pauseSeconds}s → setWeight 100`,
  );
  console.log(
    `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  const results: SizeResult[] = [];
  for (const [index, n] of options.sizes.entries()) {
    // Whatever the earlier sizes left of the budget, shared by this size and the ones after it.
    const left = WATCHDOG_MS - 20_000 - (Date.now() - started);
    const budgetMs = left / (options.sizes.length - index);
    const result = await runSize(n, budgetMs);
    results.push(result);
    printSize(result);
  }
  printTables(results, (Date.now() - started) / 1000);
  const incomplete = results.filter((r) => r.succeeded !== r.n);
  if (incomplete.length > 0) {
    console.error(`\nFAILED: not every release succeeded at ${incomplete.map((r) => `${r.n} (${r.succeeded}/${r.n})`).join(', ')}`);
    process.exitCode = 1;
  }
}

/** One size in a fresh database, queue prefix and worker; `budgetMs` bounds it from start to cleanup. */
async function runSize(n: number, budgetMs: number): Promise<SizeResult> {
  const sizeStart = Date.now();
  const db = await createEmptyDatabase('gp_bench_scale');
  const dropDb = onCleanup(`drop database ${db.name}`, db.drop);
  await migrate({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR });
  const prefix = `gp-bench-scale-${randomBytes(4).toString('hex')}`;
  const deleteKeys = onCleanup(`delete Redis keys ${prefix}:*`, () => deleteRedisKeys(prefix));

  process.stdout.write(`[${n}] database ${db.name}, queue prefix ${prefix}: starting the worker ... `);
  const worker = startWorkerProcess({ databaseUrl: db.url, queuePrefix: prefix, redisUrl: REDIS_URL, extra: WORKER_ENV });
  const tree = new Set<number>([worker.child.pid!]);
  const stop = onCleanup(`stop worker ${worker.child.pid}`, () => stopWorker(worker, tree, prefix));
  const benchUrl = withAppName(db.url, BENCH_APP);
  const prisma = createPrismaClient(benchUrl, 4);
  const monitor = createPrismaClient(benchUrl, 1);
  const jobs = createJobQueue({ redisUrl: REDIS_URL, prefix });
  const disconnect = onCleanup('disconnect bench clients', async () => {
    await jobs.close();
    await Promise.all([prisma.$disconnect(), monitor.$disconnect()]);
  });
  const alive = () => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) throw new Error(`the worker exited:\n${worker.output().slice(-3000)}`);
  };
  try {
    const metricsPort = await waitForWorker(worker);
    for (const pid of descendants(worker.child.pid!)) tree.add(pid);
    const workerPid = deepestNode(worker.child.pid!, prefix);
    process.stdout.write(`ready (pid ${workerPid}); warm-up ... `);

    const warmup = await seed(prisma, jobs, 'bench-warmup', WARMUP.plan, WARMUP.count);
    for (const until = Date.now() + 60_000; (await releaseCounts(monitor, warmup.serviceId)).terminal < WARMUP.count;) {
      alive();
      if (Date.now() > until) throw new Error('the warm-up releases did not finish within 60 s');
      await settle(200);
    }
    await settle(1000);
    await scrapeEventLoop(metricsPort); // prom-client resets its event-loop histogram on each scrape
    const idleRssKb = procStatus(workerPid, 'VmRSS');
    const cpu0 = treeCpuSeconds(tree);
    const machine0 = machineCpu();
    const self0 = process.cpuUsage();
    const pg = new PgBackendCpu(monitor, db.name);
    await pg.sample();
    console.log(`done (${((Date.now() - sizeStart) / 1000).toFixed(0)} s since the size started)`);

    const seedStart = Date.now();
    process.stdout.write(`[${n}] seeding ${n} releases ... `);
    const measured = await seed(prisma, jobs, `bench-scale-${n}`, PLAN, n);
    const seedEnd = Date.now();
    // At most --max-wait-s, and ~25 s of the size's budget left for reading results and cleaning up.
    const deadline = Math.min(seedEnd + options.maxWaitSeconds * 1000, sizeStart + budgetMs - 25_000);
    console.log(`${((seedEnd - seedStart) / 1000).toFixed(1)} s; waiting for them to finish (at most ${((deadline - seedEnd) / 1000).toFixed(0)} s) ...`);

    const wait: WaitProfile = { samples: 0, advisory: 0, rowLock: 0, wal: 0, active: 0, idleInTx: 0, connections: 0 };
    const wakeCheck = { checked: 0, mismatched: 0 };
    let counts = { started: 0, succeeded: 0, terminal: 0 };
    let cutOff = false;
    for (let tick = 0; ; tick++) {
      alive();
      counts = await releaseCounts(monitor, measured.serviceId);
      if (counts.terminal >= n) break;
      if (Date.now() > deadline) {
        cutOff = true;
        break;
      }
      await sampleWaits(monitor, db.name, wait);
      if (tick % 5 === 0) await pg.sample();
      if (tick % 10 === 0) await checkWakeAt(monitor, measured.serviceId, wakeCheck);
      if (tick % 25 === 0) console.log(`[${n}]   +${((Date.now() - seedStart) / 1000).toFixed(0)} s: ${counts.started} started, ${counts.terminal} finished`);
      await settle(200);
    }
    const endedAt = Date.now();
    await pg.sample();
    const cpu1 = treeCpuSeconds(tree);
    const machine1 = machineCpu();
    const self = process.cpuUsage(self0);
    const loadAverage = os.loadavg()[0]!;
    const peakRssKb = procStatus(workerPid, 'VmHWM');
    const loop = await scrapeEventLoop(metricsPort);
    if (cutOff) console.log(`[${n}] cut off at the deadline with ${counts.terminal}/${n} finished: overdue pauses count with their lag so far`);

    const times = await monitor.$queryRaw<Array<{ last_started: Date | null; last_finished: Date | null }>>`
      SELECT max(started_at) AS last_started, max(finished_at) AS last_finished FROM release WHERE service_id = ${measured.serviceId}::uuid`;
    const lags = await pauseLags(monitor, measured.serviceId, endedAt);
    const queue = await queueStats(jobs, new Set(measured.releaseIds));
    const totals = await monitor.$queryRaw<Array<{ effects: bigint; committed: bigint | null; audits: bigint }>>`
      SELECT (SELECT count(*) FROM recorded_effect e JOIN release r ON e.release_id = r.id::text WHERE r.service_id = ${measured.serviceId}::uuid) AS effects,
             (SELECT count(*) FROM release_transition t JOIN release r ON t.release_id = r.id, jsonb_array_elements(t.effects) e
               WHERE r.service_id = ${measured.serviceId}::uuid AND e->>'type' <> 'run-gate') AS committed,
             (SELECT count(*) FROM audit_event a JOIN release r ON a.subject_id = r.id::text WHERE r.service_id = ${measured.serviceId}::uuid) AS audits`;
    const t = times[0]!;
    const done = lags.filter((l) => !l.overdue);
    return {
      n,
      seedSeconds: (seedEnd - seedStart) / 1000,
      startedSeconds: t.last_started && counts.started === n ? (t.last_started.getTime() - seedStart) / 1000 : NaN,
      doneSeconds: t.last_finished && counts.terminal === n ? (t.last_finished.getTime() - seedStart) / 1000 : NaN,
      measuredSeconds: (endedAt - seedStart) / 1000,
      lag: stats(lags.map((l) => l.committed - l.due)),
      overdueFrom: Math.min(...lags.filter((l) => l.overdue).map((l) => l.committed - l.due)),
      decide: stats(done.map((l) => l.decided - l.due)),
      tx: stats(done.map((l) => l.committed - l.decided)),
      pickup: stats(queue.wakeDelays),
      pauses: lags.length,
      overdue: lags.length - done.length,
      workerCpuSeconds: cpu1 - cpu0,
      pgCpuSeconds: pg.total(),
      peakRssMb: peakRssKb / 1024,
      idleRssMb: idleRssKb / 1024,
      started: counts.started,
      succeeded: counts.succeeded,
      terminal: counts.terminal,
      recordedEffects: Number(totals[0]!.effects),
      committedEffects: Number(totals[0]!.committed ?? 0),
      auditEvents: Number(totals[0]!.audits),
      jobs: queue.counts,
      failureReasons: queue.failureReasons,
      wait,
      eventLoopP99Ms: loop.p99,
      eventLoopMaxMs: loop.max,
      wakeChecked: wakeCheck.checked,
      wakeMismatched: wakeCheck.mismatched,
      machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
      // busy seconds of the machine, less the worker, its PostgreSQL backends and this process, over the wall time
      otherCores: (machine1.busy - machine0.busy - (cpu1 - cpu0) - pg.total() - (self.user + self.system) / 1e6) / ((machine1.at - machine0.at) / 1000),
      loadAverage,
    };
  } finally {
    // In order; whatever throws here stays on the list for cleanupAll().
    await disconnect();
    await stop();
    await deleteKeys();
    await dropDb();
  }
}

// ---- seeding --------------------------------------------------------------------------------

/**
 * One service, one recording-router environment + artifact per release, and each release started the
 * way the API does it (release row + `start` in the inbox + a reconcile job), in bulk.
 */
async function seed(prisma: PrismaClient, jobs: JobQueue, service: string, spec: PlanSpec, n: number) {
  const compiled = validatePlan(spec);
  if (!compiled.ok) throw new Error(`bad plan: ${JSON.stringify(compiled.problems)}`);
  const serviceId = randomUUID();
  const planId = randomUUID();
  await prisma.service.create({ data: { id: serviceId, name: service, owners: [] } });
  await prisma.releasePlan.create({
    data: { id: planId, name: service, version: 1, spec: spec as object, compiled: compiled.plan as object, createdBy: 'bench' },
  });
  const state = initialReleaseState(compiled.plan, 'token:bench') as object;
  const releaseIds: string[] = [];
  for (let from = 0; from < n; from += SEED_CHUNK) {
    const chunk = Array.from({ length: Math.min(SEED_CHUNK, n - from) }, (_, k) => ({
      i: from + k,
      environmentId: randomUUID(),
      artifactId: randomUUID(),
      releaseId: randomUUID(),
    }));
    await prisma.environment.createMany({
      data: chunk.map(({ i, environmentId }) => ({
        id: environmentId,
        serviceId,
        name: `env-${i}`,
        position: i,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: { key: `env-${i}` } },
        policy: {},
      })),
    });
    await prisma.artifact.createMany({
      data: chunk.map(({ i, artifactId }) => ({ id: artifactId, serviceId, version: `1.0.${i}`, digest: `sha256:${i.toString(16).padStart(64, '0')}` })),
    });
    await prisma.release.createMany({
      data: chunk.map(({ environmentId, artifactId, releaseId }) => ({
        id: releaseId,
        serviceId,
        environmentId,
        artifactId,
        planId,
        phase: 'pending',
        stepIndex: 0,
        state,
        version: 0,
        requestedBy: 'token:bench',
      })),
    });
    const inbox = await prisma.releaseInbox.createManyAndReturn({
      data: chunk.map(({ releaseId }) => ({ releaseId, event: { type: 'start' }, actorType: 'token' as const, actorId: 'bench' })),
      select: { id: true, releaseId: true },
    });
    // addBulk applies the queue's default job options (attempts, backoff, retention) as add() does.
    await jobs.queue.addBulk(
      inbox.map((row) => ({
        name: JOB.reconcileRelease,
        data: { releaseId: row.releaseId },
        opts: { jobId: reconcileJobId(row.releaseId, `inbox-${row.id}`), priority: START_PRIORITY },
      })),
    );
    releaseIds.push(...chunk.map((c) => c.releaseId));
  }
  return { serviceId, releaseIds };
}

// ---- measuring --------------------------------------------------------------------------------

async function releaseCounts(db: PrismaClient, serviceId: string) {
  const rows = await db.$queryRaw<Array<{ started: bigint; succeeded: bigint; terminal: bigint }>>`
    SELECT count(started_at) AS started,
           count(*) FILTER (WHERE phase = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE phase = ANY(${TERMINAL_PHASES as string[]})) AS terminal
    FROM release WHERE service_id = ${serviceId}::uuid`;
  const r = rows[0]!;
  return { started: Number(r.started), succeeded: Number(r.succeeded), terminal: Number(r.terminal) };
}

/** Checks the lag definition's premise on live rows: release.wake_at = step.startedAt + durationMs. */
async function checkWakeAt(db: PrismaClient, serviceId: string, into: { checked: number; mismatched: number }): Promise<void> {
  const rows = await db.$queryRaw<Array<{ checked: bigint; mismatched: bigint }>>`
    SELECT count(*) AS checked,
           count(*) FILTER (WHERE wake_at IS DISTINCT FROM
             (state->'steps'->step_index->>'startedAt')::timestamptz
               + ((state->'plan'->'steps'->step_index->>'durationMs')::bigint * interval '1 millisecond')) AS mismatched
    FROM release
    WHERE service_id = ${serviceId}::uuid AND phase = 'progressing' AND state->'plan'->'steps'->step_index->>'type' = 'pause'`;
  into.checked += Number(rows[0]!.checked);
  into.mismatched += Number(rows[0]!.mismatched);
}

/**
 * One row per timed pause that has come due (epoch ms): due = step.startedAt + durationMs, decided =
 * step.finishedAt (the reconciler's `now`), committed = created_at of the audit event that left the
 * pause. A pause still running at `cutOffAt` is overdue: its lag so far is cutOffAt − due.
 */
async function pauseLags(db: PrismaClient, serviceId: string, cutOffAt: number) {
  const rows = await db.$queryRaw<Array<{ due: number; decided: number | null; committed: number | null }>>`
    WITH pauses AS (
      SELECT r.id, (s.ord - 1)::int AS step,
             (r.state->'steps'->(s.ord::int - 1)->>'startedAt')::timestamptz AS started,
             (r.state->'steps'->(s.ord::int - 1)->>'finishedAt')::timestamptz AS finished,
             (s.spec->>'durationMs')::bigint AS duration_ms
      FROM release r, jsonb_array_elements(r.state->'plan'->'steps') WITH ORDINALITY AS s(spec, ord)
      WHERE r.service_id = ${serviceId}::uuid AND s.spec->>'type' = 'pause' AND s.spec->>'durationMs' IS NOT NULL
    )
    SELECT (extract(epoch FROM p.started) * 1000 + p.duration_ms)::float8 AS due,
           (extract(epoch FROM p.finished) * 1000)::float8 AS decided,
           (extract(epoch FROM a.created_at) * 1000)::float8 AS committed
    FROM pauses p
    LEFT JOIN audit_event a ON a.subject_type = 'release' AND a.subject_id = p.id::text
      AND a.action = 'release.step-advanced' AND (a.before->>'stepIndex')::int = p.step
    WHERE p.started IS NOT NULL`;
  return rows
    .filter((r) => r.due <= cutOffAt || r.committed !== null)
    .map((r) =>
      r.committed !== null && r.decided !== null
        ? { due: r.due, decided: r.decided, committed: r.committed, overdue: false }
        : { due: r.due, decided: cutOffAt, committed: cutOffAt, overdue: true },
    );
}

/** BullMQ's own record: wake-up pick-up delays (processedOn − wakeAt), jobs by trigger, failed attempts. */
async function queueStats(jobs: JobQueue, releaseIds: Set<string>) {
  const counts = { start: 0, wake: 0, sweep: 0, failedOnce: 0, due: 0, scheduled: 0 };
  const now = Date.now();
  const failureReasons = new Map<string, number>();
  const wakeDelays: number[] = [];
  const all = await jobs.queue.getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1);
  for (const job of all) {
    const parsed = job && /^reconcile\.([0-9a-f-]{36})\.(inbox|wake|sweep)-(\d+)$/.exec(job.id ?? '');
    if (!job || !parsed || !releaseIds.has(parsed[1]!)) continue;
    if (!job.finishedOn) counts[job.timestamp + (job.delay ?? 0) <= now ? 'due' : 'scheduled'] += 1;
    else if (parsed[2] === 'inbox') counts.start += 1;
    else if (parsed[2] === 'wake') counts.wake += 1;
    else counts.sweep += 1;
    if (parsed[2] === 'wake' && job.processedOn && job.finishedOn) wakeDelays.push(job.processedOn - Number(parsed[3]));
    // A job that failed and was retried keeps the reason of its last failure.
    if (job.failedReason) {
      counts.failedOnce += 1;
      // Prisma's messages span lines (call site, code frame, cause): keep the first and the last.
      const lines = job.failedReason
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const text = lines.length > 1 ? `${lines[0]} … ${lines[lines.length - 1]}` : (lines[0] ?? '');
      const reason = text.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').slice(0, 200);
      failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
    }
  }
  return { counts, wakeDelays, failureReasons };
}

/** A wait for the audit chain: on the chain head row appenders lock (the statement says which row). */
const AUDIT_LOCK_WAIT = Prisma.sql`(wait_event = 'advisory' OR query LIKE '%FROM audit_chain_head%')`;

/** What the worker's connections are doing right now (the bench's own connections are left out). */
async function sampleWaits(db: PrismaClient, dbName: string, into: WaitProfile): Promise<void> {
  const rows = await db.$queryRaw<Array<Record<'advisory' | 'row_lock' | 'wal' | 'active' | 'idle_in_tx' | 'connections', bigint>>>`
    SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND ${AUDIT_LOCK_WAIT}) AS advisory,
           count(*) FILTER (WHERE wait_event_type = 'Lock' AND NOT ${AUDIT_LOCK_WAIT}) AS row_lock,
           count(*) FILTER (WHERE state = 'active' AND wait_event IN ('WALWrite', 'WALSync', 'WALInsert')) AS wal,
           count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock'
                              AND coalesce(wait_event, '') NOT IN ('WALWrite', 'WALSync', 'WALInsert')) AS active,
           count(*) FILTER (WHERE state = 'idle in transaction') AS idle_in_tx,
           count(*) AS connections
    FROM pg_stat_activity
    WHERE datname = ${dbName} AND backend_type = 'client backend' AND application_name <> ${BENCH_APP}`;
  const r = rows[0]!;
  into.samples += 1;
  into.advisory += Number(r.advisory);
  into.rowLock += Number(r.row_lock);
  into.wal += Number(r.wal);
  into.active += Number(r.active);
  into.idleInTx += Number(r.idle_in_tx);
  into.connections += Number(r.connections);
}

/** CPU of the worker's PostgreSQL backends: each backend's last seen user+sys, summed. */
class PgBackendCpu {
  private readonly seen = new Map<number, { first: number; last: number }>();
  private sampled = false;
  constructor(
    private readonly db: PrismaClient,
    private readonly dbName: string,
  ) {}
  async sample(): Promise<void> {
    const rows = await this.db.$queryRaw<Array<{ pid: number }>>`
      SELECT pid FROM pg_stat_activity WHERE datname = ${this.dbName} AND backend_type = 'client backend' AND application_name <> ${BENCH_APP}`;
    const baseline = !this.sampled;
    this.sampled = true;
    for (const { pid } of rows) {
      const cpu = cpuSeconds(pid);
      if (cpu === null) continue;
      const entry = this.seen.get(pid);
      if (entry) entry.last = cpu;
      else this.seen.set(pid, { first: baseline ? cpu : 0, last: cpu });
    }
  }
  total(): number {
    let sum = 0;
    for (const { first, last } of this.seen.values()) sum += last - first;
    return sum;
  }
}

async function scrapeEventLoop(port: number): Promise<{ p99: number | null; max: number | null }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name: string) => {
      const match = new RegExp(`^glidepath_worker_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
      return match ? Number(match[1]) * 1000 : null;
    };
    return { p99: value('p99'), max: value('max') };
  } catch {
    return { p99: null, max: null };
  }
}

// ---- processes --------------------------------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** user+sys seconds of one process (threads included), or null when it is gone. */
function cpuSeconds(pid: number): number | null {
  const stat = readProc(pid, 'stat');
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** All cores together, in seconds (from /proc/stat): busy = everything but idle and iowait. */
function machineCpu(): { busy: number; total: number; at: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK, at: Date.now() };
}

function treeCpuSeconds(pids: Set<number>): number {
  let sum = 0;
  for (const pid of pids) sum += cpuSeconds(pid) ?? 0;
  return sum;
}

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readProc(pid, 'status') ?? '');
  return match ? Number(match[1]) : NaN;
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), 'stat');
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The node process that runs main.ts under the tsx wrapper (the wrapper re-spawns node with its loader). */
function deepestNode(root: number, prefix: string): number {
  const mine = [root, ...descendants(root)].filter((pid) => isOurWorker(pid, prefix));
  return mine.find((pid) => (readProc(pid, 'cmdline') ?? '').includes('--import')) ?? mine[mine.length - 1] ?? root;
}

/** Guards every kill against pid reuse: a worker process of this run carries our queue prefix. */
function isOurWorker(pid: number, prefix: string): boolean {
  const cmdline = readProc(pid, 'cmdline') ?? '';
  const environ = readProc(pid, 'environ') ?? '';
  return cmdline.includes('apps/worker/src/main.ts') && environ.split('\0').includes(`GLIDEPATH_QUEUE_PREFIX=${prefix}`);
}

async function waitForWorker(worker: WorkerProcess): Promise<number> {
  const until = Date.now() + 90_000;
  for (;;) {
    const match = /"metricsPort":(\d+)[^\n]*"msg":"worker started"/.exec(worker.output());
    if (match) return Number(match[1]);
    if (worker.child.exitCode !== null || worker.child.signalCode !== null)
      throw new Error(`the worker exited during start-up:\n${worker.output().slice(-3000)}`);
    if (Date.now() > until) throw new Error(`the worker did not start within 90 s:\n${worker.output().slice(-3000)}`);
    await settle(100);
  }
}

/**
 * SIGTERM to the tsx wrapper (it forwards the signal; the worker finishes its jobs and exits), then
 * SIGKILL to whatever of the tree is left: killing only the wrapper would orphan the real worker.
 */
async function stopWorker(worker: WorkerProcess, tree: Set<number>, prefix: string): Promise<void> {
  for (const pid of descendants(worker.child.pid!)) tree.add(pid);
  await Promise.race([worker.stop(), settle(15_000)]);
  for (const pid of tree) {
    if (isOurWorker(pid, prefix)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---- reporting --------------------------------------------------------------------------------

function stats(values: number[]): Stats {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1]! };
}

const s = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '—');
const num = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');

/** Seconds, with ≥ when overdue pauses (lower bounds) reach this far into the distribution. */
function lagCell(r: SizeResult, ms: number): string {
  return `${r.overdue > 0 && ms >= r.overdueFrom ? '≥' : ''}${s(ms)}`;
}

function printSize(r: SizeResult): void {
  const w = r.wait;
  const avg = (v: number) => (w.samples ? (v / w.samples).toFixed(1) : '—');
  console.log(
    `[${r.n}] lag p50 ${lagCell(r, r.lag.p50)} s, p99 ${lagCell(r, r.lag.p99)} s over ${r.pauses} pauses` +
      `${r.overdue ? ` (${r.overdue} still overdue at the cut-off)` : ''}; ${r.started}/${r.n} started` +
      `${Number.isFinite(r.startedSeconds) ? ` after ${r.startedSeconds.toFixed(1)} s` : ''}, ${r.succeeded}/${r.n} succeeded` +
      `${Number.isFinite(r.doneSeconds) ? ` after ${r.doneSeconds.toFixed(1)} s` : ''}`,
  );
  console.log(
    `[${r.n}]   the worker's connections on average (${w.samples} samples): ${avg(w.connections)} open, ${avg(w.active)} running a statement, ` +
      `${avg(w.idleInTx)} idle in transaction (waiting for the worker), ${avg(w.advisory)} waiting for the audit-chain lock, ` +
      `${avg(w.rowLock)} for a row lock, ${avg(w.wal)} for WAL`,
  );
  console.log(
    `[${r.n}]   reconcile jobs run: ${r.jobs.start} start, ${r.jobs.wake} wake-up, ${r.jobs.sweep} sweep; ${r.jobs.due} due but not run, ` +
      `${r.jobs.scheduled} scheduled; ${r.jobs.failedOnce} failed at least once; router effects ${r.recordedEffects} recorded for ` +
      `${r.committedEffects} in committed transitions; ${r.auditEvents} audit events; ` +
      `wake_at = startedAt + duration in ${r.wakeChecked - r.wakeMismatched}/${r.wakeChecked} live checks`,
  );
  console.log(
    `[${r.n}]   machine: ${(r.machineBusy * 100).toFixed(0)}% of ${os.cpus().length} cores busy while measuring, ` +
      `${r.otherCores.toFixed(2)} cores of it used by processes other than this run's worker, PostgreSQL backends and bench; load average ${r.loadAverage.toFixed(1)}`,
  );
  for (const [reason, count] of r.failureReasons) console.log(`[${r.n}]   ${count} × ${reason}`);
  console.log('');
}

function printTables(results: SizeResult[], totalSeconds: number): void {
  console.log(
    `Scale: one worker, concurrency ${options.concurrency}, sweep ${options.sweepMs} ms, pauses ${options.pauseSeconds} s; ` +
      `${new Date().toISOString().slice(0, 10)}; total run ${totalSeconds.toFixed(0)} s\n`,
  );
  table(
    [
      'releases',
      'seed s',
      'all started s',
      'all done s',
      'lag p50 s',
      'lag p99 s',
      'lag max s',
      'worker CPU s',
      'CPU ms/release',
      'PG CPU s',
      'peak RSS MB',
      'RSS KB/release',
      'succeeded',
    ],
    results.map((r) => [
      num(r.n),
      r.seedSeconds.toFixed(1),
      Number.isFinite(r.startedSeconds) ? r.startedSeconds.toFixed(1) : `> ${r.measuredSeconds.toFixed(0)}`,
      Number.isFinite(r.doneSeconds) ? r.doneSeconds.toFixed(1) : `> ${r.measuredSeconds.toFixed(0)}`,
      lagCell(r, r.lag.p50),
      lagCell(r, r.lag.p99),
      lagCell(r, r.lag.max),
      r.workerCpuSeconds.toFixed(1),
      num((r.workerCpuSeconds * 1000) / r.n, 1),
      r.pgCpuSeconds.toFixed(1),
      r.peakRssMb.toFixed(0),
      num(((r.peakRssMb - r.idleRssMb) * 1024) / r.n, 1),
      `${num(r.succeeded)}/${num(r.n)}${r.succeeded === r.n ? ' ✓' : ' ✗'}`,
    ]),
  );
  console.log(
    '\nWhere the lag goes, p50 / p99 s (finished pauses only): wake-up job picked up after wakeAt; reconcile started (its `now`) after wakeAt; ' +
      "its transaction until commit. Then the worker's event-loop delay and its connections' average state.",
  );
  table(
    ['releases', 'pickup', 'decide', 'transaction', 'loop p99 ms', 'on audit lock', 'idle in tx', 'in a statement', 'machine busy', 'other procs'],
    results.map((r) => {
      const avg = (v: number) => (r.wait.samples ? (v / r.wait.samples).toFixed(1) : '—');
      return [
        num(r.n),
        `${s(r.pickup.p50)} / ${s(r.pickup.p99)}`,
        `${s(r.decide.p50)} / ${s(r.decide.p99)}`,
        `${s(r.tx.p50)} / ${s(r.tx.p99)}`,
        r.eventLoopP99Ms === null ? '—' : r.eventLoopP99Ms.toFixed(0),
        avg(r.wait.advisory),
        avg(r.wait.idleInTx),
        avg(r.wait.active),
        `${(r.machineBusy * 100).toFixed(0)}%`,
        `${r.otherCores.toFixed(2)} cores`,
      ];
    }),
  );
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

// ---- small helpers ----------------------------------------------------------------------------

function parseArgs(argv: string[]) {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer ${min}–${max}, got "${raw}"`);
    return v;
  };
  const sizes = (value('sizes') ?? '500,1000,2000').split(',').map((v) => Number(v.trim()));
  if (sizes.some((v) => !Number.isInteger(v) || v < 1 || v > 20_000)) throw new Error('--sizes takes a comma-separated list of integers 1–20000');
  return {
    sizes,
    // Throughput is bound by the worker's CPU per reconcile, not by parallelism: 4, 10 and 20 gave the
    // same time to start 2,000 releases (README).
    concurrency: int('concurrency', 10, 1, 1000),
    // The worker's default is 5 s; at 2,000 both gave the same lag (README).
    sweepMs: int('sweep-ms', 30_000, 100, 600_000),
    pauseSeconds: int('pause-s', 10, 1, 600),
    /** Longest wait for one size's releases to finish after seeding; the watchdog budget may cut it shorter. */
    maxWaitSeconds: int('max-wait-s', 150, 10, 420),
  };
}

function withAppName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

try {
  await main();
} catch (error) {
  // After Ctrl-C or the watchdog, main() fails because abort() is stopping the worker under it.
  if (!aborting) console.error(`\nscale bench failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
  clearTimeout(watchdog);
}

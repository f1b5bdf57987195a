import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { TERMINAL_PHASES, type PlanSpec } from '@glidepath/core';
import { createJobQueue, createPrismaClient, verifyAuditChain, type PrismaClient } from '@glidepath/db';
import { createTestDatabase, startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { seedReleases } from '../testing/seed-releases.ts';

const PLAN: PlanSpec = {
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight: 10 },
    { type: 'pause', duration: '300ms' },
    { type: 'setWeight', weight: 30 },
    { type: 'pause', duration: '300ms' },
    { type: 'setWeight', weight: 60 },
    { type: 'pause', duration: '300ms' },
    { type: 'setWeight', weight: 80 },
    { type: 'setWeight', weight: 100 },
  ],
};
/** 80 and 100 come at once: only where traffic ends up (the promote) reaches the router. */
const HAPPY_PATH = [{ type: 'set-weight', weight: 10 }, { type: 'set-weight', weight: 30 }, { type: 'set-weight', weight: 60 }, { type: 'promote' }];

const SEED_ROUNDS = 5;
const KILL_ROUNDS = 8;

/** A deterministic PRNG (mulberry32) so a failing run can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function setup(redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') {
  const db = await createTestDatabase();
  const prisma = createPrismaClient(db.url);
  const queuePrefix = `gp-crash-${randomBytes(4).toString('hex')}`;
  const jobs = createJobQueue({ redisUrl, prefix: queuePrefix });
  cleanups.push(
    db.drop,
    () => prisma.$disconnect(),
    () => jobs.close(),
  );
  return { db, prisma, jobs, queuePrefix, redisUrl };
}

async function waitForTerminal(prisma: PrismaClient, ids: string[], timeoutMs: number): Promise<Array<{ id: string; phase: string }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await prisma.release.findMany({ where: { id: { in: ids } }, select: { id: true, phase: true } });
    if (rows.every((r) => TERMINAL_PHASES.includes(r.phase as never)) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Effects may repeat only as an immediate re-delivery of the same effect (the worker died
 * after applying it and before committing); never out of order, never skipped.
 */
async function assertEffectsInOrder(prisma: PrismaClient, ids: string[]) {
  let redeliveries = 0;
  for (const id of ids) {
    const rows = await prisma.recordedEffect.findMany({ where: { releaseId: id }, orderBy: { id: 'asc' } });
    const collapsed = rows.filter((r, i) => i === 0 || r.effectKey !== rows[i - 1]!.effectKey);
    redeliveries += rows.length - collapsed.length;
    const keys = collapsed.map((r) => r.effectKey);
    expect(new Set(keys).size, `release ${id}: an effect came back after another one`).toBe(keys.length);
    const order = collapsed.map((r) => r.effectKey.split(':').slice(1).map(Number));
    const sorted = [...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    expect(order, `release ${id}: effects out of order`).toEqual(sorted);
    expect(collapsed.map((r) => r.effect)).toEqual(HAPPY_PATH);
    const versions = (await prisma.releaseTransition.findMany({ where: { releaseId: id }, orderBy: { version: 'asc' } })).map((t) => t.version);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  }
  return redeliveries;
}

describe('crash safety', () => {
  it('releases finish with every effect applied once and in order while workers are SIGKILLed at random', async () => {
    const { db, prisma, jobs, queuePrefix } = await setup();
    const workers: WorkerProcess[] = [];
    const spawnWorker = () => {
      const w = startWorkerProcess({ databaseUrl: db.url, queuePrefix, extra: { GLIDEPATH_WORKER_CONCURRENCY: '8' } });
      workers.push(w);
      cleanups.push(() => w.kill());
      return w;
    };
    spawnWorker();
    spawnWorker();
    const ids: string[] = [];
    const random = prng(20261123);
    let kills = 0;
    // New releases arrive during the first rounds, so those kills land on work in flight however
    // fast the workers are; later rounds kill while the rest drains.
    for (let round = 0; round < KILL_ROUNDS; round++) {
      if (round < SEED_ROUNDS) ids.push(...(await seedReleases(prisma, jobs, { count: 6, plan: PLAN, recordingLatencyMs: 40 })));
      await new Promise((r) => setTimeout(r, 800 + random() * 1200));
      const pending = await prisma.release.count({ where: { id: { in: ids }, phase: { notIn: [...TERMINAL_PHASES] } } });
      if (pending === 0 && round >= SEED_ROUNDS) break;
      const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      spawnWorker();
      const victim = alive[Math.floor(random() * alive.length)];
      if (victim) {
        await victim.kill();
        kills++;
      }
    }
    const rows = await waitForTerminal(prisma, ids, 60_000);
    await Promise.all(workers.map((w) => w.kill()));
    expect(rows.filter((r) => r.phase !== 'succeeded')).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(SEED_ROUNDS);
    const redeliveries = await assertEffectsInOrder(prisma, ids);
    expect(await verifyAuditChain(prisma)).toMatchObject({ ok: true });
    console.log(`crash test: ${ids.length} releases, ${kills} workers SIGKILLed, ${redeliveries} effects re-delivered after a kill`);
  }, 120_000);

  it('survives Redis restarting mid-release (Redis keeps nothing on disk: every queued job is lost)', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    cleanups.push(async () => redis.kill('SIGKILL'));
    const { db, prisma, jobs, queuePrefix, redisUrl } = await setup(`redis://127.0.0.1:${port}`);
    jobs.queue.on('error', () => {});
    const worker = startWorkerProcess({ databaseUrl: db.url, queuePrefix, redisUrl });
    cleanups.push(() => worker.kill());
    const ids = await seedReleases(prisma, jobs, {
      count: 8,
      plan: { ...PLAN, steps: PLAN.steps.map((s) => (s.type === 'pause' ? { ...s, duration: '2s' } : s)) } as PlanSpec,
    });
    // Kill Redis once every release is under way and none has finished.
    await expect
      .poll(() => prisma.release.count({ where: { id: { in: ids }, phase: 'progressing' } }), { timeout: 30_000, interval: 50 })
      .toBe(ids.length)
      .catch((error: Error) => {
        throw new Error(`${error.message}\nworker output:\n${worker.output()}`);
      });
    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    redis = await startRedis(port);
    const rows = await waitForTerminal(prisma, ids, 45_000);
    expect(rows.filter((r) => r.phase !== 'succeeded')).toEqual([]);
    await assertEffectsInOrder(prisma, ids);
    expect(await verifyAuditChain(prisma)).toMatchObject({ ok: true });
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      probe.stdout.on('data', (d) => (out += d));
      probe.on('exit', () => resolve(out.includes('PONG')));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

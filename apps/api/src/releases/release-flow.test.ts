import { PG_OVERLAP_WARNING, startWorkerProcess, watchStatementOverlaps, type OverlapWatch, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schemas } from '@glidepath/client';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
// Every statement this file causes in the API, watched from the start: none may be sent on a
// connection still running another (see the last test).
let overlaps: OverlapWatch;

beforeAll(async () => {
  overlaps = watchStatementOverlaps();
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'checkout' } }))).status).toBe(201);
  for (const [position, name] of ['dev', 'staging', 'prod'].entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', { body: { service: 'checkout', name, position, target: { type: 'recording', config: { key: name } } } }),
    );
    expect(env.status).toBe(201);
  }
  const plans: Record<string, Schemas['PlanSpec']> = {
    fast: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 10 },
        { type: 'pause', duration: '300ms' },
        { type: 'setWeight', weight: 50 },
        { type: 'setWeight', weight: 100 },
      ],
    },
    held: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 20 },
        { type: 'pause', duration: '1h' },
        { type: 'setWeight', weight: 100 },
      ],
    },
    manual: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 20 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }] },
  };
  for (const [name, spec] of Object.entries(plans)) expect((await reply(api.POST('/api/v1/plans', { body: { name, spec } }))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  overlaps.stop();
  await worker.stop();
  await t.close();
});

const until = (id: string, phases: string[]) => untilPhase(api, id, phases, { timeout: 60_000, interval: 50 });

async function effects(releaseId: string) {
  const rows = await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.effect);
}

// A worker process compiles its TypeScript at start: slow on a busy two-core machine.
describe('a CI pipeline drives releases through the REST API alone', { timeout: 120_000 }, () => {
  it('registers artifacts immutably', async () => {
    const first = await reply(
      api.POST('/api/v1/artifacts', {
        body: {
          service: 'checkout',
          version: '1.0.0',
          digest: digest('a'),
          commitSha: 'abc1234',
          metadata: { modelVersion: 'm-7', dataset: 'ds-2026-11', modelCard: 'https://models.example/m-7' },
        },
      }),
    );
    expect(first.status).toBe(201);
    const again = await reply(api.POST('/api/v1/artifacts', { body: { service: 'checkout', version: '1.0.0', digest: digest('a') } }));
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
    const other = await reply(api.POST('/api/v1/artifacts', { body: { service: 'checkout', version: '1.0.0', digest: digest('b') } }));
    expect(other.status).toBe(409);
    expect(other.body.error!.message).toMatch(/already registered with digest sha256:a{64}; artifacts are immutable/);
    const bad = await reply(api.POST('/api/v1/artifacts', { body: { service: 'checkout', version: '1.0.1', digest: 'md5:123' } }));
    expect(bad.status).toBe(400);
    expect(bad.body.error!.details).toEqual([{ field: 'body.digest', problem: expect.stringMatching(/must match pattern/) }]);
    expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'checkout', version: '2.0.0', digest: digest('c') } }))).status).toBe(201);
  });

  it('runs a canary in dev, then promotes the same digest to staging; staging first is refused', async () => {
    const early = await reply(api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'staging', version: '1.0.0', plan: 'fast' } }));
    expect(early.status).toBe(409);
    expect(early.body.error!.message).toBe(`${digest('a')} (version 1.0.0) has no succeeded release in dev, which must come before staging`);

    const dev = await reply(
      api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'dev', version: '1.0.0', plan: 'fast', reason: 'ship it' } }),
    );
    expect(dev.status).toBe(201);
    const done = await until(dev.body.id, ['succeeded']);
    expect(done).toMatchObject({
      canaryWeight: 100,
      steps: [{ status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }],
    });
    // 50 and 100 follow the pause at once: the router is told only where traffic ends up.
    expect(await effects(dev.body.id)).toEqual([{ type: 'set-weight', weight: 10 }, { type: 'promote' }]);
    expect(done.history.length).toBeGreaterThanOrEqual(2);

    const staging = await reply(api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'staging', version: '1.0.0', plan: 'fast' } }));
    expect(staging.status).toBe(201);
    await until(staging.body.id, ['succeeded']);
    const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: dev.body.id } } })).data!.items;
    expect(audit.map((e) => e.action).reverse()).toEqual(['release.created', 'release.started', 'release.step-advanced']);
  });

  it('allows one active release per environment and honours Idempotency-Key', async () => {
    const body = { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'held' };
    const start = (b: typeof body, key?: string) =>
      reply(api.POST('/api/v1/releases', { body: b, ...(key ? { params: { header: { 'idempotency-key': key } } } : {}) }));
    const first = await start(body, 'build-42');
    expect(first.status).toBe(201);
    const replay = await start(body, 'build-42');
    expect(replay).toMatchObject({ status: 200, body: { id: first.body.id } });
    const changed = await start({ ...body, plan: 'fast' }, 'build-42');
    expect(changed.status).toBe(422);
    const second = await start({ ...body, plan: 'fast' });
    expect(second.status).toBe(409);
    expect(second.body.error!.message).toMatch(new RegExp(`already has an active release \\(${first.body.id}`));
    await until(first.body.id, ['progressing']);

    // pause / resume / abort as the state machine says
    const paused = await reply(api.POST('/api/v1/releases/{id}/pause', { params: { path: { id: first.body.id } }, body: { reason: 'looking at dashboards' } }));
    expect(paused).toMatchObject({ status: 200, body: { accepted: false, release: { phase: 'paused', reason: 'looking at dashboards' } } });
    // The reply names the audit events the control caused, so a dashboard can link to them.
    expect(paused.body.auditEvents).toEqual([expect.objectContaining({ action: 'release.paused' })]);
    expect(paused.body.requestId).toEqual(expect.any(String));
    expect((await reply(api.POST('/api/v1/releases/{id}/pause', { params: { path: { id: first.body.id } }, body: {} }))).body.error!.message).toBe(
      'cannot pause a release that is paused (allowed when progressing)',
    );
    expect((await reply(api.POST('/api/v1/releases/{id}/resume', { params: { path: { id: first.body.id } }, body: {} }))).body).toMatchObject({
      release: { phase: 'progressing' },
    });
    const aborted = await reply(api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: first.body.id } }, body: { reason: 'wrong build' } }));
    expect(aborted.body).toMatchObject({ release: { phase: 'aborted', canaryWeight: 0 } });
    expect(await effects(first.body.id)).toEqual([{ type: 'set-weight', weight: 20 }, { type: 'rollback' }]);
    const late = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: first.body.id } }, body: {} }));
    expect(late).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'conflict',
          message:
            'cannot rollback a release that is aborted (allowed when queued, awaiting-approval, progressing, paused, failed; succeeded while its previous version is kept on the other slot)',
        },
      },
    });
  });

  it('rolls back and retries, and a plan pause waits for resume', async () => {
    const r = await reply(api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'manual' } }));
    expect(r.status).toBe(201);
    await until(r.body.id, ['paused']);
    const rolledBack = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: r.body.id } }, body: { reason: 'error spike' } }));
    expect(rolledBack.body).toMatchObject({ release: { phase: 'rolled-back', canaryWeight: 0, reason: 'error spike' } });
    const retried = await reply(api.POST('/api/v1/releases/{id}/retry', { params: { path: { id: r.body.id } }, body: { fromStep: 0 } }));
    expect(retried.body).toMatchObject({ release: { phase: 'paused', stepIndex: 1, canaryWeight: 20 } });
    expect((await reply(api.POST('/api/v1/releases/{id}/resume', { params: { path: { id: r.body.id } }, body: {} }))).body).toMatchObject({
      release: { phase: 'succeeded' },
    });
    expect(await effects(r.body.id)).toEqual([
      { type: 'set-weight', weight: 20 },
      { type: 'rollback' },
      { type: 'set-weight', weight: 20 },
      { type: 'promote' },
    ]);
  });

  it('takes a rollback sent the instant a release starts, before the worker has recorded the start', async () => {
    const r = await reply(api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'held' } }));
    const rolled = await reply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: r.body.id } }, body: { reason: 'wrong button' } }));
    expect(rolled).toMatchObject({ status: 200, body: { release: { phase: 'rolled-back', canaryWeight: 0 } } });
    expect(await effects(r.body.id)).toEqual([{ type: 'set-weight', weight: 20 }, { type: 'rollback' }]);
  });

  it('lists releases by service, environment and phase with a cursor', async () => {
    const list = async (query: { service?: string; environment?: string; phase?: 'aborted' | 'rolled-back'; limit?: number; cursor?: string }) =>
      (await api.GET('/api/v1/releases', { params: { query } })).data!;
    const page1 = await list({ service: 'checkout', limit: 2 });
    expect(page1.items).toHaveLength(2);
    const page2 = await list({ service: 'checkout', limit: 2, cursor: page1.nextCursor! });
    const ids = [...page1.items, ...page2.items].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await list({ phase: 'aborted', environment: 'dev' })).items.map((r) => r.phase)).toEqual(['aborted']);
    expect((await list({ phase: 'rolled-back' })).items).toHaveLength(1);
  });

  // Prisma resolved an include inside an interactive transaction (a release's service,
  // environment, artifact and plan) with parallel queries on the transaction's one connection:
  // pg warned "Calling client.query() when the client is already executing a query", an error
  // from pg 9 on. Creates, controls, approvals and reads above all ran under the watch.
  it('never sends a statement on a connection that is still running another, in the API or the worker', async () => {
    const r = await reply(api.POST('/api/v1/releases', { body: { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'held' } }));
    expect(r.status).toBe(201);
    await until(r.body.id, ['progressing']);
    expect((await reply(api.POST('/api/v1/releases/{id}/pause', { params: { path: { id: r.body.id } }, body: {} }))).status).toBe(200);
    expect((await reply(api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: r.body.id } }, body: {} }))).status).toBe(200);
    expect(overlaps.overlaps()).toEqual([]);
    // The worker is another process: pg's own warning would be in its output.
    expect(worker.output()).not.toContain(PG_OVERLAP_WARNING);
  });
});

import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, digest } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
  expect((await api.post('/services', { name: 'checkout' })).status).toBe(201);
  for (const [position, name] of ['dev', 'staging', 'prod'].entries()) {
    const env = await api.post('/environments', { service: 'checkout', name, position, target: { type: 'recording', config: { key: name } } });
    expect(env.status).toBe(201);
  }
  const plans = {
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
  for (const [name, spec] of Object.entries(plans)) expect((await api.post('/plans', { name, spec })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await worker.stop();
  await t.close();
});

async function until(id: string, phases: string[]) {
  let release: Record<string, unknown> = {};
  await expect
    .poll(
      async () => {
        release = (await api.get(`/releases/${id}`)).body;
        return phases.includes(release.phase as string);
      },
      { timeout: 60_000, interval: 50 },
    )
    .toBe(true);
  return release;
}

async function effects(releaseId: string) {
  const rows = await t.prisma.recordedEffect.findMany({ where: { releaseId }, orderBy: { id: 'asc' } });
  return rows.map((r) => r.effect);
}

// A worker process compiles its TypeScript at start: slow on a busy two-core machine.
describe('a CI pipeline drives releases through the REST API alone', { timeout: 120_000 }, () => {
  it('registers artifacts immutably', async () => {
    const first = await api.post('/artifacts', {
      service: 'checkout',
      version: '1.0.0',
      digest: digest('a'),
      commitSha: 'abc1234',
      metadata: { modelVersion: 'm-7', dataset: 'ds-2026-11', modelCard: 'https://models.example/m-7' },
    });
    expect(first.status).toBe(201);
    const again = await api.post('/artifacts', { service: 'checkout', version: '1.0.0', digest: digest('a') });
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
    const other = await api.post('/artifacts', { service: 'checkout', version: '1.0.0', digest: digest('b') });
    expect(other.status).toBe(409);
    expect(other.body.error!.message).toMatch(/already registered with digest sha256:a{64}; artifacts are immutable/);
    const bad = await api.post('/artifacts', { service: 'checkout', version: '1.0.1', digest: 'md5:123' });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.details).toEqual([{ field: 'body.digest', problem: expect.stringMatching(/must match pattern/) }]);
    expect((await api.post('/artifacts', { service: 'checkout', version: '2.0.0', digest: digest('c') })).status).toBe(201);
  });

  it('runs a canary in dev, then promotes the same digest to staging; staging first is refused', async () => {
    const early = await api.post('/releases', { service: 'checkout', environment: 'staging', version: '1.0.0', plan: 'fast' });
    expect(early.status).toBe(409);
    expect(early.body.error!.message).toBe(`${digest('a')} (version 1.0.0) has no succeeded release in dev, which must come before staging`);

    const dev = await api.post('/releases', { service: 'checkout', environment: 'dev', version: '1.0.0', plan: 'fast', reason: 'ship it' });
    expect(dev.status).toBe(201);
    const done = await until(dev.body.id as string, ['succeeded']);
    expect(done).toMatchObject({
      canaryWeight: 100,
      steps: [{ status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }],
    });
    // 50 and 100 follow the pause at once: the router is told only where traffic ends up.
    expect(await effects(dev.body.id as string)).toEqual([{ type: 'set-weight', weight: 10 }, { type: 'promote' }]);
    expect((done.history as unknown[]).length).toBeGreaterThanOrEqual(2);

    const staging = await api.post('/releases', { service: 'checkout', environment: 'staging', version: '1.0.0', plan: 'fast' });
    expect(staging.status).toBe(201);
    await until(staging.body.id as string, ['succeeded']);
    const audit = (await api.get(`/audit?subjectId=${dev.body.id}`)).body.items as Array<{ action: string }>;
    expect(audit.map((e) => e.action).reverse()).toEqual(['release.created', 'release.started', 'release.step-advanced']);
  });

  it('allows one active release per environment and honours Idempotency-Key', async () => {
    const body = { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'held' };
    const first = await api.post('/releases', body, { 'idempotency-key': 'build-42' });
    expect(first.status).toBe(201);
    const replay = await api.post('/releases', body, { 'idempotency-key': 'build-42' });
    expect(replay).toMatchObject({ status: 200, body: { id: first.body.id } });
    const changed = await api.post('/releases', { ...body, plan: 'fast' }, { 'idempotency-key': 'build-42' });
    expect(changed.status).toBe(422);
    const second = await api.post('/releases', { ...body, plan: 'fast' });
    expect(second.status).toBe(409);
    expect(second.body.error!.message).toMatch(new RegExp(`already has an active release \\(${first.body.id}`));
    await until(first.body.id as string, ['progressing']);

    // pause / resume / abort as the state machine says
    const paused = await api.post(`/releases/${first.body.id}/pause`, { reason: 'looking at dashboards' });
    expect(paused).toMatchObject({ status: 200, body: { accepted: false, release: { phase: 'paused', reason: 'looking at dashboards' } } });
    // The reply names the audit events the control caused, so a dashboard can link to them.
    expect(paused.body.auditEvents).toEqual([expect.objectContaining({ action: 'release.paused' })]);
    expect(paused.body.requestId).toEqual(expect.any(String));
    expect((await api.post(`/releases/${first.body.id}/pause`)).body.error!.message).toBe('cannot pause a release that is paused (allowed when progressing)');
    expect((await api.post(`/releases/${first.body.id}/resume`)).body).toMatchObject({ release: { phase: 'progressing' } });
    const aborted = await api.post(`/releases/${first.body.id}/abort`, { reason: 'wrong build' });
    expect(aborted.body).toMatchObject({ release: { phase: 'aborted', canaryWeight: 0 } });
    expect(await effects(first.body.id as string)).toEqual([{ type: 'set-weight', weight: 20 }, { type: 'rollback' }]);
    const late = await api.post(`/releases/${first.body.id}/rollback`);
    expect(late).toMatchObject({
      status: 409,
      body: {
        error: { code: 'conflict', message: 'cannot rollback a release that is aborted (allowed when queued, awaiting-approval, progressing, paused, failed)' },
      },
    });
  });

  it('rolls back and retries, and a plan pause waits for resume', async () => {
    const r = await api.post('/releases', { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'manual' });
    expect(r.status).toBe(201);
    await until(r.body.id as string, ['paused']);
    const rolledBack = await api.post(`/releases/${r.body.id}/rollback`, { reason: 'error spike' });
    expect(rolledBack.body).toMatchObject({ release: { phase: 'rolled-back', canaryWeight: 0, reason: 'error spike' } });
    const retried = await api.post(`/releases/${r.body.id}/retry`, { fromStep: 0 });
    expect(retried.body).toMatchObject({ release: { phase: 'paused', stepIndex: 1, canaryWeight: 20 } });
    expect((await api.post(`/releases/${r.body.id}/resume`)).body).toMatchObject({ release: { phase: 'succeeded' } });
    expect(await effects(r.body.id as string)).toEqual([
      { type: 'set-weight', weight: 20 },
      { type: 'rollback' },
      { type: 'set-weight', weight: 20 },
      { type: 'promote' },
    ]);
  });

  it('takes a rollback sent the instant a release starts, before the worker has recorded the start', async () => {
    const r = await api.post('/releases', { service: 'checkout', environment: 'dev', version: '2.0.0', plan: 'held' });
    const rolled = await api.post(`/releases/${r.body.id}/rollback`, { reason: 'wrong button' });
    expect(rolled).toMatchObject({ status: 200, body: { release: { phase: 'rolled-back', canaryWeight: 0 } } });
    expect(await effects(r.body.id as string)).toEqual([{ type: 'set-weight', weight: 20 }, { type: 'rollback' }]);
  });

  it('lists releases by service, environment and phase with a cursor', async () => {
    const page1 = await api.get('/releases?service=checkout&limit=2');
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.get(`/releases?service=checkout&limit=2&cursor=${page1.body.nextCursor}`);
    const ids = [...(page1.body.items as Array<{ id: string }>), ...(page2.body.items as Array<{ id: string }>)].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const aborted = await api.get('/releases?phase=aborted&environment=dev');
    expect((aborted.body.items as Array<{ phase: string }>).map((r) => r.phase)).toEqual(['aborted']);
    expect((await api.get('/releases?phase=rolled-back')).body.items).toHaveLength(1);
  });
});

import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
const envIds: Record<string, string> = {};
const keys: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
  await api.POST('/api/v1/services', { body: { name: 'payments' } });
  for (const [position, name] of ['good', 'bad'].entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', {
        body: {
          service: 'payments',
          name,
          position,
          requireUpstreamSuccess: false,
          target: { type: 'recording', config: {} },
          metrics: { type: 'pushed', config: {} },
        },
      }),
    );
    expect(env.status).toBe(201);
    envIds[name] = env.body.id;
    const key = await api.POST('/api/v1/environments/{id}/ingest-key', { params: { path: { id: env.body.id } } });
    keys[name] = key.data!.key;
  }
  await api.POST('/api/v1/plans', {
    body: {
      name: 'judged',
      spec: {
        strategy: 'canary',
        steps: [
          { type: 'setWeight', weight: 10 },
          { type: 'analysis', interval: '1s', minDuration: '3s', maxDuration: '40s' },
          { type: 'setWeight', weight: 100 },
        ],
      },
    },
  });
  for (const version of ['1.0.0', '2.0.0'])
    await api.POST('/api/v1/artifacts', { body: { service: 'payments', version, digest: digest(version === '1.0.0' ? 'a' : 'b') } });
});
afterAll(async () => {
  await worker.stop();
  await t.close();
});

/** An agent pushing per-version counts every 250 ms: 90/10 traffic, baseline errors 0.5%. */
function startAgent(env: string, canaryVersion: string, canaryErrorRate: number) {
  let last = Date.now();
  const timer = setInterval(async () => {
    const now = Date.now();
    const from = new Date(last).toISOString();
    const to = new Date(now).toISOString();
    last = now;
    const samples = [
      { version: '0.9.0', from, to, requests: 900, errors: Math.round(900 * 0.005) },
      { version: canaryVersion, from, to, requests: 100, errors: Math.round(100 * canaryErrorRate) },
    ];
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/environments/${envIds[env]}/metrics`,
      payload: { samples },
      headers: { 'x-glidepath-ingest-key': keys[env]! },
    });
  }, 250);
  return () => clearInterval(timer);
}

const until = (id: string, phases: string[]) =>
  untilPhase(api, id, phases, { timeout: 90_000, interval: 200, context: () => `worker: ${worker.output().slice(-3000)}` });

describe('analysis steps judge pushed metrics', () => {
  it('refuses pushes without the environment key and with counts that do not add up', async () => {
    const sample = { version: '1.0.0', from: '2026-11-23T10:00:00Z', to: '2026-11-23T10:00:01Z', requests: 10, errors: 1 };
    const wrong = await t.app.inject({
      method: 'POST',
      url: `/api/v1/environments/${envIds.good}/metrics`,
      payload: { samples: [sample] },
      headers: { 'x-glidepath-ingest-key': keys.bad! },
    });
    expect(wrong.statusCode).toBe(401);
    const bad = await t.app.inject({
      method: 'POST',
      url: `/api/v1/environments/${envIds.good}/metrics`,
      payload: {
        samples: [
          {
            ...sample,
            errors: 11,
            latencyBuckets: [
              { le: 10, count: 5 },
              { le: 5, count: 4 },
            ],
          },
        ],
      },
      headers: { 'x-glidepath-ingest-key': keys.good! },
    });
    expect(bad.statusCode).toBe(422);
    expect((bad.json() as { error: { details: Array<{ field: string }> } }).error.details.map((d) => d.field)).toEqual([
      'body.samples[0].errors',
      'body.samples[0].latencyBuckets[1].le',
      'body.samples[0].latencyBuckets[1].count',
      'body.samples[0].latencyBuckets',
    ]);
    expect(await t.prisma.metricSample.count()).toBe(0);
  });

  it('promotes a canary as good as the baseline, with every look stored', { timeout: 120_000 }, async () => {
    const stop = startAgent('good', '1.0.0', 0.005);
    try {
      const r = await reply(api.POST('/api/v1/releases', { body: { service: 'payments', environment: 'good', version: '1.0.0', plan: 'judged' } }));
      expect(r.status).toBe(201);
      const done = await until(r.body.id, ['succeeded', 'rolled-back', 'paused']);
      expect(done.phase).toBe('succeeded');
      const measurements = done.measurements as Array<{ outcome: string; verdict: { metrics: Array<{ tests: Array<{ canary: { total: number } }> }> } }>;
      expect(measurements.at(-1)!.outcome).toBe('pass');
      expect(measurements.at(-1)!.verdict.metrics[0]!.tests[0]!.canary.total).toBeGreaterThanOrEqual(500);
    } finally {
      stop();
    }
  });

  it('rolls back a canary with 5x the baseline error rate by itself, storing the evidence and auditing the trigger', { timeout: 120_000 }, async () => {
    const stop = startAgent('bad', '2.0.0', 0.025);
    try {
      const r = await reply(api.POST('/api/v1/releases', { body: { service: 'payments', environment: 'bad', version: '2.0.0', plan: 'judged' } }));
      const done = await until(r.body.id, ['succeeded', 'rolled-back', 'paused']);
      expect(done).toMatchObject({
        phase: 'rolled-back',
        canaryWeight: 0,
        reason: expect.stringMatching(/^automatic rollback: analysis failed: canary worse than baseline: error-rate/),
      });
      const step = (
        done.steps as Array<{
          status: string;
          evidence: { outcome: string; alpha: number; metrics: Array<{ tests: Array<{ rateRatio: number; maxLogEValue: number; logThreshold: number }> }> };
        }>
      )[1]!;
      expect(step.status).toBe('failed');
      const test = step.evidence.metrics[0]!.tests[0]!;
      expect(step.evidence).toMatchObject({ outcome: 'fail', alpha: 0.01 });
      expect(test.maxLogEValue).toBeGreaterThanOrEqual(test.logThreshold);
      expect(test.rateRatio).toBeGreaterThan(3);
      const audit = (await api.GET('/api/v1/audit', { params: { query: { subjectId: r.body.id, action: 'release.rolled-back-automatically' } } })).data!.items;
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: { type: 'system', id: 'gate:analysis' }, payload: { event: { evidence: { outcome: 'fail' } } } });
    } finally {
      stop();
    }
  });
});

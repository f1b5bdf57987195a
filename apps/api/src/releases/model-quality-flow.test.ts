import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, digest, reply, untilPhase } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

/**
 * A model-like sample app: a recommender whose versions serve the same traffic with the same
 * error rate and the same latency, and differ only in how often their predictions are right on
 * labelled feedback. The agent pushes requests, errors, latency buckets and, per version, the
 * labelled predictions and the wrong ones as the ratio `prediction_errors` (higher is worse) and
 * the right ones as `accuracy` (lower is worse). A worse model must be rolled back on quality
 * alone, with the quality metric's verdict as evidence; one as good as the stable one passes.
 */
let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
const envIds: Record<string, string> = {};
const keys: Record<string, string> = {};

const MODEL = {
  '1.0.0': { modelVersion: 'reco-2026-10', dataset: 's3://ml/reco/labelled-2026-10', modelCard: 'https://models.example.com/reco/2026-10' },
  '2.0.0': { modelVersion: 'reco-2026-11', dataset: 's3://ml/reco/labelled-2026-11', modelCard: 'https://models.example.com/reco/2026-11' },
  '2.0.1': { modelVersion: 'reco-2026-11b', dataset: 's3://ml/reco/labelled-2026-11', modelCard: 'https://models.example.com/reco/2026-11b' },
  '2.1.0': { modelVersion: 'reco-2026-12', dataset: 's3://ml/reco/labelled-2026-12', modelCard: 'https://models.example.com/reco/2026-12' },
} as const;

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  worker = startWorkerProcess({ databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix });
  await api.POST('/api/v1/services', { body: { name: 'recommender' } });
  for (const [position, name] of ['worse-model', 'as-good-model', 'fewer-clicks'].entries()) {
    const env = await reply(
      api.POST('/api/v1/environments', {
        body: {
          service: 'recommender',
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
    keys[name] = (await api.POST('/api/v1/environments/{id}/ingest-key', { params: { path: { id: env.body.id } } })).data!.key;
  }
  const prom = await reply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'recommender',
        name: 'prometheus-without-ratios',
        position: 3,
        requireUpstreamSuccess: false,
        target: { type: 'recording', config: {} },
        metrics: { type: 'prometheus', config: { url: 'http://127.0.0.1:9' } },
      },
    }),
  );
  expect(prom.status).toBe(201);
  const plan = await reply(
    api.POST('/api/v1/plans', {
      body: {
        name: 'model-quality',
        spec: {
          strategy: 'canary',
          steps: [
            { type: 'setWeight', weight: 10 },
            {
              type: 'analysis',
              interval: '1s',
              // Enough looks that a 3× drop in click-through is evidence before anything may pass: the judge counts each
              // event as half until two minutes have measured how much the rates fluctuate (fails at ~12 s, at ~6 s before).
              minDuration: '20s',
              maxDuration: '60s',
              metrics: [
                { name: 'error-rate', kind: 'errors' },
                { name: 'slow-requests', kind: 'latency', thresholdMs: 100 },
                { name: 'prediction_errors', kind: 'ratio', direction: 'higher-is-worse', tolerance: 1.2 },
                // A business outcome: a drop in click-through on the recommendations is the regression.
                { name: 'click_through', kind: 'ratio', direction: 'lower-is-worse' },
              ],
            },
            { type: 'setWeight', weight: 100 },
          ],
        },
      },
    }),
  );
  expect(plan.status).toBe(201);
  for (const [i, [version, metadata]] of Object.entries(MODEL).entries())
    expect((await reply(api.POST('/api/v1/artifacts', { body: { service: 'recommender', version, digest: digest('abcf'[i]!), metadata } }))).status).toBe(201);
});
afterAll(async () => {
  await worker.stop();
  await t.close();
});

/**
 * The sample app's agent, every 250 ms: 90/10 traffic, 1% errors and 80% of requests under 100 ms
 * on both versions; half the requests get a label, the stable model is wrong on 5% of them, and
 * 3% of its recommendations are clicked.
 */
function startAgent(env: string, canaryVersion: string, canaryWrong: number, canaryClicks = 0.03) {
  let last = Date.now();
  const sample = (version: string, requests: number, wrongShare: number, clickShare: number, from: string, to: string) => {
    const labelled = requests / 2;
    const wrong = Math.round(labelled * wrongShare);
    return {
      version,
      from,
      to,
      requests,
      errors: requests / 100,
      latencyBuckets: [
        { le: 100, count: requests * 0.8 },
        { le: null, count: requests },
      ],
      ratios: {
        prediction_errors: { numerator: wrong, denominator: labelled },
        accuracy: { numerator: labelled - wrong, denominator: labelled },
        click_through: { numerator: Math.round(requests * clickShare), denominator: requests },
      },
    };
  };
  const timer = setInterval(async () => {
    const now = Date.now();
    const [from, to] = [new Date(last).toISOString(), new Date(now).toISOString()];
    last = now;
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/environments/${envIds[env]}/metrics`,
      payload: { samples: [sample('1.0.0', 900, 0.05, 0.03, from, to), sample(canaryVersion, 100, canaryWrong, canaryClicks, from, to)] },
      headers: { 'x-glidepath-ingest-key': keys[env]! },
    });
  }, 250);
  return () => clearInterval(timer);
}

const until = (id: string, phases: string[]) =>
  untilPhase(api, id, phases, { timeout: 90_000, interval: 200, context: () => `worker: ${worker.output().slice(-3000)}` });

type Evidence = {
  outcome: string;
  metrics: Array<{ name: string; kind: string; outcome: string; tests: Array<{ label: string; rateRatio: number | null; canary: { total: number } }> }>;
};

describe('an AI model release gated on quality', () => {
  it('refuses pushed ratios that do not add up, naming the field', async () => {
    const sample = { version: '1.0.0', from: '2026-11-23T10:00:00Z', to: '2026-11-23T10:00:01Z', requests: 10, errors: 1 };
    const push = (ratios: unknown) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/environments/${envIds['worse-model']}/metrics`,
        payload: { samples: [{ ...sample, ratios }] },
        headers: { 'x-glidepath-ingest-key': keys['worse-model']! },
      });
    const over = await push({ accuracy: { numerator: 11, denominator: 10 } });
    expect(over.statusCode).toBe(422);
    expect((over.json() as { error: { details: Array<{ field: string }> } }).error.details.map((d) => d.field)).toEqual([
      'body.samples[0].ratios.accuracy.numerator',
    ]);
    for (const bad of [
      { accuracy: { numerator: -1, denominator: 10 } },
      { accuracy: { numerator: 1.5, denominator: 10 } },
      { accuracy: { numerator: 1, denominator: 1e13 } },
      { accuracy: { numerator: 1 } },
      Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`r${i}`, { numerator: 0, denominator: 1 }])),
    ])
      expect((await push(bad)).statusCode, JSON.stringify(bad).slice(0, 80)).toBe(400);
    const long = await push({ ['m'.repeat(65)]: { numerator: 1, denominator: 2 } });
    expect(long.statusCode).toBe(422);
    expect(long.json()).toMatchObject({ error: { details: [{ field: 'body.samples[0].ratios', problem: 'a ratio name has 1 to 64 characters' }] } });
    expect(await t.prisma.metricSample.count()).toBe(0);
  });

  it('refuses a ratio plan where the metrics source cannot measure that ratio', async () => {
    const r = await reply(
      api.POST('/api/v1/releases', { body: { service: 'recommender', environment: 'prometheus-without-ratios', version: '2.0.0', plan: 'model-quality' } }),
    );
    expect(r.status).toBe(409);
    expect(r.body.error!.message).toBe(
      'plan "model-quality" judges the ratio metric "prediction_errors", which environment prometheus-without-ratios never measures: its Prometheus source has no ratios.prediction_errors queries (a numerator and a denominator)',
    );
  });

  it('rolls back a model that is wrong three times as often, on quality alone', { timeout: 120_000 }, async () => {
    const stop = startAgent('worse-model', '2.0.0', 0.15);
    try {
      const r = await reply(
        api.POST('/api/v1/releases', { body: { service: 'recommender', environment: 'worse-model', version: '2.0.0', plan: 'model-quality' } }),
      );
      expect(r.status).toBe(201);
      const done = await until(r.body.id, ['succeeded', 'rolled-back', 'paused']);
      expect(done).toMatchObject({
        phase: 'rolled-back',
        canaryWeight: 0,
        reason: expect.stringMatching(/^automatic rollback: analysis failed: canary worse than baseline: prediction_errors$/),
      });
      // The model, its data set and its card beside the verdicts, in the reply to the start and in the detail.
      expect(r.body.artifact.model).toEqual(MODEL['2.0.0']);
      expect(done.artifact).toMatchObject({ version: '2.0.0', model: MODEL['2.0.0'] });
      const step = (done.steps as Array<{ status: string; evidence: Evidence }>)[1]!;
      expect(step.status).toBe('failed');
      const byName = Object.fromEntries(step.evidence.metrics.map((m) => [m.name, m]));
      expect(byName.prediction_errors).toMatchObject({ kind: 'ratio', outcome: 'fail' });
      expect(byName.prediction_errors!.tests[0]!.rateRatio).toBeGreaterThan(2);
      // Errors and latency are the same on both versions: neither is what failed.
      expect(byName['error-rate']!.outcome).not.toBe('fail');
      expect(byName['slow-requests']!.outcome).not.toBe('fail');
    } finally {
      stop();
    }
  });

  it('promotes a model as good as the stable one', { timeout: 120_000 }, async () => {
    const stop = startAgent('as-good-model', '2.0.1', 0.05);
    try {
      const r = await reply(
        api.POST('/api/v1/releases', { body: { service: 'recommender', environment: 'as-good-model', version: '2.0.1', plan: 'model-quality' } }),
      );
      expect(r.status).toBe(201);
      const done = await until(r.body.id, ['succeeded', 'rolled-back', 'paused']);
      expect(done.phase).toBe('succeeded');
      const step = (done.steps as Array<{ status: string; evidence: Evidence }>)[1]!;
      expect(step.evidence.outcome).toBe('pass');
      expect(step.evidence.metrics.map((m) => [m.name, m.outcome])).toEqual([
        ['error-rate', 'pass'],
        ['slow-requests', 'pass'],
        ['prediction_errors', 'pass'],
        ['click_through', 'pass'],
      ]);
    } finally {
      stop();
    }
  });

  it('rolls back a model as accurate as stable whose recommendations are clicked a third as often (lower is worse)', { timeout: 120_000 }, async () => {
    const stop = startAgent('fewer-clicks', '2.1.0', 0.05, 0.01);
    try {
      const r = await reply(
        api.POST('/api/v1/releases', { body: { service: 'recommender', environment: 'fewer-clicks', version: '2.1.0', plan: 'model-quality' } }),
      );
      expect(r.status).toBe(201);
      const done = await until(r.body.id, ['succeeded', 'rolled-back', 'paused']);
      expect(done).toMatchObject({
        phase: 'rolled-back',
        reason: expect.stringMatching(/^automatic rollback: analysis failed: canary worse than baseline: click_through$/),
        artifact: { model: MODEL['2.1.0'] },
      });
      const step = (done.steps as Array<{ status: string; evidence: Evidence }>)[1]!;
      const byName = Object.fromEntries(step.evidence.metrics.map((m) => [m.name, m]));
      expect(byName.click_through).toMatchObject({ kind: 'ratio', outcome: 'fail', tests: [{ label: 'ratio (lower is worse)' }] });
      // Shown as they are: the canary's click-through is the lower one.
      expect(byName.click_through!.tests[0]!.rateRatio).toBeLessThan(0.5);
      expect(byName.prediction_errors!.outcome).not.toBe('fail');
    } finally {
      stop();
    }
  });

  it('shows only what metadata really names: strings, and a model card that is an http(s) link', async () => {
    // Metadata stored before registration checked it (or written by hand): nothing else reaches the page.
    const service = await t.prisma.service.findUniqueOrThrow({ where: { name: 'recommender' } });
    await t.prisma.artifact.create({
      data: {
        id: crypto.randomUUID(),
        serviceId: service.id,
        version: '2.0.2',
        digest: digest('d'),
        metadata: { modelVersion: 'reco-x', dataset: 5, modelCard: 'javascript:alert(1)' },
      },
    });
    await t.prisma.artifact.create({
      data: { id: crypto.randomUUID(), serviceId: service.id, version: '2.0.3', digest: digest('e'), metadata: { team: 'ml' } },
    });
    await api.POST('/api/v1/plans', { body: { name: 'hold', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 10 }, { type: 'pause' }] } } });
    for (const [version, model] of [
      ['2.0.2', { modelVersion: 'reco-x', dataset: null, modelCard: null }],
      ['2.0.3', null],
    ] as const) {
      const r = await reply(api.POST('/api/v1/releases', { body: { service: 'recommender', environment: 'as-good-model', version, plan: 'hold' } }));
      expect(r.status).toBe(201);
      expect(r.body.artifact.model).toEqual(model);
      const detail = (await api.GET('/api/v1/releases/{id}', { params: { path: { id: r.body.id } } })).data!;
      expect(detail.artifact.model).toEqual(model);
      const listed = (await api.GET('/api/v1/releases', { params: { query: { environment: 'as-good-model' } } })).data!.items.find((x) => x.id === r.body.id);
      expect(listed?.artifact.model).toEqual(model);
      await api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: r.body.id } }, body: { reason: 'test done' } });
      await until(r.body.id, ['aborted', 'rolled-back', 'succeeded', 'failed']);
    }
  });
});

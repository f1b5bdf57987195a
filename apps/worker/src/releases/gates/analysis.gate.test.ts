import { randomUUID } from 'node:crypto';
import { initialReleaseState, validatePlan, type GateStep, type MeasureResult, type MetricProvider, type PlanSpec } from '@glidepath/core';
import { createPrismaClient, type JobQueue, type PrismaClient } from '@glidepath/db';
import { createTestDatabase } from '@glidepath/db/testing';
import type { MetricRegistry } from '@glidepath/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookAtAnalysis, type AnalysisLook } from './analysis.gate.ts';

// The gate on a real database, with a metrics source that answers what the test scripts:
// garbage in between good looks must be stored as no data with why, and leave the judge's state alone.
let prisma: PrismaClient;
let drop: () => Promise<void>;
let releaseId: string;
beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  prisma = createPrismaClient(db.url);
  // A release row for the measurements to belong to; nothing here runs it.
  const spec: PlanSpec = { strategy: 'canary', steps: [{ type: 'setWeight', weight: 10 }] };
  const plan = validatePlan(spec);
  if (!plan.ok) throw new Error(JSON.stringify(plan.problems));
  const service = await prisma.service.create({ data: { id: randomUUID(), name: 'svc', owners: [] } });
  const env = await prisma.environment.create({
    data: {
      id: randomUUID(),
      serviceId: service.id,
      name: 'env',
      position: 0,
      requireUpstreamSuccess: false,
      target: { type: 'recording', config: {} },
      policy: {},
    },
  });
  const artifact = await prisma.artifact.create({ data: { id: randomUUID(), serviceId: service.id, version: '1.0.0', digest: `sha256:${'0'.repeat(64)}` } });
  const planRow = await prisma.releasePlan.create({
    data: { id: randomUUID(), name: 'p', version: 1, spec: spec as object, compiled: plan.plan as object, createdBy: 'test' },
  });
  releaseId = randomUUID();
  await prisma.release.create({
    data: {
      id: releaseId,
      serviceId: service.id,
      environmentId: env.id,
      artifactId: artifact.id,
      planId: planRow.id,
      phase: 'progressing',
      stepIndex: 0,
      state: initialReleaseState(plan.plan, 'token:ci') as object,
      version: 0,
      requestedBy: 'token:ci',
    },
  });
});
afterAll(async () => {
  await prisma.$disconnect();
  await drop();
});

const compiled = validatePlan({
  strategy: 'canary',
  steps: [{ type: 'analysis', interval: '1s', maxDuration: '1m', metrics: [{ name: 'errors', kind: 'errors', tolerance: 1 }] }],
});
if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
const step = compiled.plan.steps[0] as Extract<GateStep, { type: 'analysis' }>;

const side = (requests: number, errors: number) => ({ requests, errors, latency: null });
const counts = (canary: [number, number], baseline: [number, number]): MeasureResult => ({
  canary: side(...canary),
  baseline: side(...baseline),
  source: { type: 'scripted' },
});

describe('an analysis look on garbage', () => {
  it('records no data with why, never a pass or a fail, and the judge goes on from the last good look', async () => {
    const script: Array<MeasureResult | null> = [
      counts([100, 1], [900, 9]),
      counts([Number.NaN, 1], [1000, 9]),
      counts([120, 500], [1000, 9]), // a "bad canary" made of garbage: more errors than requests
      { noData: 'canary requests: 2 series where one is expected ({pod="a"}, {pod="b"}); aggregate them in the query, e.g. sum(…)' },
      counts([50, 0], [1100, 10]), // went down: a restart the query does not absorb
      { noData: 'Prometheus at http://prometheus:9090 did not answer within 5000 ms' },
      null,
      counts([400, 100], [2000, 20]), // a really bad canary, after all that
    ];
    let next = 0;
    const source: MetricProvider = { type: 'scripted', measure: async () => script[next++] ?? null, close: async () => {} };
    const deps = {
      prisma,
      jobs: { runGate: async () => {} } as unknown as JobQueue,
      metricSources: { providerFor: () => source } as unknown as MetricRegistry,
      publish: async () => {},
    };
    const started = new Date(Date.now() - 60_000);
    const look: AnalysisLook = {
      releaseId,
      stepIndex: 0,
      attempt: 1,
      stepStartedAt: started,
      service: 'svc',
      environment: { id: 'env', name: 'env', metrics: { type: 'scripted', config: {} } },
      canaryVersion: '1.0.0',
    };
    const results = [];
    for (let i = 0; i < script.length; i++) results.push(await lookAtAnalysis(deps, step, look, new Date(started.getTime() + (i + 1) * 1000)));

    const rows = await prisma.analysisMeasurement.findMany({ where: { releaseId }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.outcome)).toEqual([
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'inconclusive',
      'fail',
    ]);
    const evidence = rows.map((r) => r.verdict as { noData: boolean; noDataReason: string | null; lastCounts: unknown });
    expect(evidence.map((e) => e.noData)).toEqual([false, true, true, true, true, true, true, false]);
    expect(evidence.map((e) => e.noDataReason)).toEqual([
      null,
      expect.stringMatching(/canary requests is NaN/),
      expect.stringMatching(/canary has 500 errors in 120 requests/),
      expect.stringMatching(/2 series where one is expected/),
      expect.stringMatching(/canary requests went down since the last look \(100 → 50\)/),
      expect.stringMatching(/did not answer within 5000 ms/),
      expect.stringMatching(/no data for this window yet/),
      null,
    ]);
    // The judge's state is what the last good look left, through every look with no data.
    for (const row of rows.slice(1, 7)) expect(row.judgeState).toEqual(rows[0]!.judgeState);
    // Looks without counts carry the last good ones (so the decrease after them is caught); the look that
    // went down keeps its own for the next comparison.
    const good = { canary: { requests: 100, errors: 1, latencyTotal: null }, baseline: { requests: 900, errors: 9, latencyTotal: null } };
    expect(evidence.slice(0, 4).map((e) => e.lastCounts)).toEqual([good, good, good, good]);
    expect(evidence[4]!.lastCounts).toEqual({
      canary: { requests: 50, errors: 0, latencyTotal: null },
      baseline: { requests: 1100, errors: 10, latencyTotal: null },
    });
    expect(results.slice(0, 7)).toEqual([null, null, null, null, null, null, null]);
    expect(results[7]).toMatchObject({ outcome: 'fail', summary: expect.stringMatching(/canary worse than baseline: errors/) });
  });
});

describe('an analysis look at a ratio metric', () => {
  it("asks the source for the step's ratios, judges numerator over denominator, and names bad ratio data as no data", async () => {
    const ratioPlan = validatePlan({
      strategy: 'canary',
      steps: [{ type: 'analysis', interval: '1s', maxDuration: '1m', metrics: [{ name: 'prediction_errors', kind: 'ratio', tolerance: 1 }] }],
    });
    if (!ratioPlan.ok) throw new Error(JSON.stringify(ratioPlan.problems));
    const ratioStep = ratioPlan.plan.steps[0] as Extract<GateStep, { type: 'analysis' }>;
    // Same errors and traffic on both sides throughout: only the quality ratio differs.
    const withRatio = (canary: [number, number] | null, baseline: [number, number]): MeasureResult => ({
      canary: { ...side(1000, 5), ...(canary ? { ratios: { prediction_errors: { numerator: canary[0], denominator: canary[1] } } } : {}) },
      baseline: { ...side(9000, 45), ratios: { prediction_errors: { numerator: baseline[0], denominator: baseline[1] } } },
      source: { type: 'scripted' },
    });
    const script: MeasureResult[] = [
      withRatio([10, 100], [90, 900]),
      withRatio(null, [100, 1000]), // nothing labelled pushed for the canary
      withRatio([300, 200], [100, 1000]), // more wrong predictions than labelled ones
      withRatio([5, 90], [100, 1000]), // went down
      withRatio([400, 900], [300, 3000]), // the canary is wrong far more often
    ];
    const asked: Array<readonly string[] | undefined> = [];
    let next = 0;
    const source: MetricProvider = {
      type: 'scripted',
      measure: async (request) => {
        asked.push(request.ratios);
        return script[next++] ?? null;
      },
      close: async () => {},
    };
    const deps = {
      prisma,
      jobs: { runGate: async () => {} } as unknown as JobQueue,
      metricSources: { providerFor: () => source } as unknown as MetricRegistry,
      publish: async () => {},
    };
    const started = new Date(Date.now() - 60_000);
    const look: AnalysisLook = {
      releaseId,
      stepIndex: 0,
      attempt: 2,
      stepStartedAt: started,
      service: 'svc',
      environment: { id: 'env', name: 'env', metrics: { type: 'scripted', config: {} } },
      canaryVersion: '1.0.0',
    };
    const results = [];
    for (let i = 0; i < script.length; i++) results.push(await lookAtAnalysis(deps, ratioStep, look, new Date(started.getTime() + (i + 1) * 1000)));

    expect(asked).toEqual(script.map(() => ['prediction_errors']));
    const rows = await prisma.analysisMeasurement.findMany({ where: { releaseId, attempt: 2 }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.outcome)).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive', 'fail']);
    const evidence = rows.map((r) => r.verdict as { noDataReason: string | null; metrics: Array<{ name: string; kind: string; tests: unknown[] }> });
    expect(evidence.map((e) => e.noDataReason)).toEqual([
      null,
      expect.stringMatching(/canary ratio "prediction_errors": no numerator and denominator read/),
      expect.stringMatching(/canary ratio "prediction_errors" has a numerator of 300 over a denominator of 200/),
      expect.stringMatching(/canary ratio "prediction_errors" numerator went down since the last look \(10 → 5\)/),
      null,
    ]);
    for (const row of rows.slice(1, 4)) expect(row.judgeState).toEqual(rows[0]!.judgeState);
    expect(evidence[4]!.metrics[0]).toMatchObject({
      name: 'prediction_errors',
      kind: 'ratio',
      outcome: 'fail',
      tests: [{ canary: { total: 900, events: 400 }, baseline: { total: 3000, events: 300 } }],
    });
    expect(results[4]).toMatchObject({ outcome: 'fail', summary: expect.stringMatching(/canary worse than baseline: prediction_errors/) });
  });
});

import {
  admitMeasurement,
  carriedCounts,
  countsFromEvidence,
  judge,
  outcomeAtLimit,
  type GateStep,
  type JudgeState,
  type MetricObservation,
  type MetricProvider,
  type SideMeasurement,
} from '@glidepath/core';
import type { JobQueue, PrismaClient } from '@glidepath/db';
import { isEgressDenied, type MetricRegistry, type TargetSpec } from '@glidepath/providers';
import type { GateResult } from './webhook.gate.ts';

type AnalysisStep = Extract<GateStep, { type: 'analysis' }>;

export interface AnalysisDeps {
  prisma: PrismaClient;
  jobs: JobQueue;
  /** Where a look reads its counts: the environment's source, or for a shadow step the mirroring proxy. */
  metricSources: Pick<MetricRegistry, 'providerFor'>;
  publish: (event: { type: string; data: unknown }) => Promise<void>;
}

export interface AnalysisLook {
  releaseId: string;
  stepIndex: number;
  attempt: number;
  stepStartedAt: Date;
  service: string;
  /** The environment's router (`target`) too: a source may read the router's own per-server metrics. */
  environment: { id: string; name: string; metrics: TargetSpec | null; target?: TargetSpec };
  canaryVersion: string;
  canaryDigest?: string;
  canaryMetadata?: Record<string, unknown> | null;
}

/**
 * One look of an analysis step. Measures canary and baseline over the same window (the step's
 * start until now), folds it into the judge with the state of the previous look, stores the
 * verdict with its evidence, and either returns a final result or schedules the next look.
 * Looks are numbered by elapsed intervals, so a repeated job (crash, lost Redis) never folds
 * the same interval twice: the unique (release, step, attempt, seq) refuses the second.
 */
export async function lookAtAnalysis(deps: AnalysisDeps, step: AnalysisStep, look: AnalysisLook, now: Date): Promise<GateResult | null> {
  const elapsedMs = now.getTime() - look.stepStartedAt.getTime();
  const seq = Math.floor(elapsedMs / step.intervalMs);
  const atLimit = elapsedMs >= step.maxDurationMs;
  const key = { releaseId: look.releaseId, stepIndex: look.stepIndex, attempt: look.attempt };

  const previous = await deps.prisma.analysisMeasurement.findFirst({ where: key, orderBy: { seq: 'desc' } });
  if (previous && previous.seq >= seq && !atLimit) {
    await scheduleNext(deps, look, step, seq);
    return null;
  }
  if (!look.environment.metrics)
    return { outcome: 'fail', summary: `environment ${look.environment.name} has no metrics source for this analysis`, evidence: null };

  const ratios = step.metrics.filter((m) => m.kind === 'ratio').map((m) => m.name);
  let measured: Awaited<ReturnType<MetricProvider['measure']>>;
  try {
    measured = await deps.metricSources.providerFor(look.environment.metrics).measure({
      service: look.service,
      environment: look.environment.name,
      environmentId: look.environment.id,
      canaryVersion: look.canaryVersion,
      canaryDigest: look.canaryDigest,
      canaryMetadata: look.canaryMetadata,
      target: look.environment.target,
      ...(ratios.length > 0 ? { ratios } : {}),
      from: look.stepStartedAt,
      to: now,
    });
  } catch (error) {
    // A source that throws (the pushed reader's database down) is retried; Prometheus down or slow is a look
    // with no data instead. One the network policy refuses stays refused, so the analysis fails with why.
    if (!isEgressDenied(error)) throw error;
    return { outcome: 'fail', summary: `analysis cannot measure: ${error.message}`, evidence: { denied: error.reason } };
  }
  // Garbage is no data with why: the judge is not fed, its state stays as the last look left it.
  const prior = countsFromEvidence(previous?.verdict);
  const admitted = admitMeasurement(measured, prior, ratios);
  const { usable, noDataReason } = admitted;
  const lastCounts = carriedCounts(admitted, prior);
  const observations: MetricObservation[] = usable ? step.metrics.flatMap((m) => observe(m, usable.canary, usable.baseline)) : [];
  const { verdict, state } = judge(
    { elapsedSeconds: elapsedMs / 1000, at: now.toISOString(), metrics: observations },
    { metrics: step.metrics, alpha: step.alpha, minDurationSeconds: step.minDurationMs / 1000 },
    (previous?.judgeState as unknown as JudgeState | undefined) ?? undefined,
  );
  const evidence = { ...verdict, source: measured?.source ?? null, noData: !usable, noDataReason, lastCounts, look: seq };
  try {
    await deps.prisma.analysisMeasurement.create({
      data: {
        ...key,
        seq: atLimit ? Math.max(seq, (previous?.seq ?? -1) + 1) : seq,
        elapsedSeconds: elapsedMs / 1000,
        outcome: verdict.outcome,
        verdict: jsonSafe(evidence),
        judgeState: jsonSafe(state),
        measuredAt: now,
      },
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') return null; // another job folded this interval
    throw error;
  }
  await deps
    .publish({ type: 'analysis.measured', data: { ...key, seq, elapsedSeconds: elapsedMs / 1000, outcome: verdict.outcome, metrics: verdict.metrics } })
    .catch(() => {});

  if (verdict.outcome === 'fail') return { outcome: 'fail', summary: `analysis failed: ${verdict.reason}`, evidence };
  if (verdict.outcome === 'pass') return { outcome: 'pass', summary: `analysis passed: ${verdict.reason}`, evidence };
  if (atLimit) {
    const limit = outcomeAtLimit(verdict, step.onInconclusive);
    const why = noDataReason ? `${verdict.reason}; this look had no data: ${noDataReason}` : verdict.reason;
    return { outcome: limit.outcome === 'pause' ? 'inconclusive' : limit.outcome, summary: `analysis ${limit.reason} (${why})`, evidence };
  }
  await scheduleNext(deps, look, step, seq);
  return null;
}

async function scheduleNext(deps: AnalysisDeps, look: AnalysisLook, step: AnalysisStep, seq: number) {
  const nextAt = look.stepStartedAt.getTime() + Math.min((seq + 1) * step.intervalMs, step.maxDurationMs);
  await deps.jobs.runGate(look.releaseId, look.stepIndex, look.attempt, `look-${seq + 1}`, nextAt - Date.now());
}

function observe(metric: AnalysisStep['metrics'][number], canary: SideMeasurement, baseline: SideMeasurement): MetricObservation[] {
  if (metric.kind === 'latency') {
    return canary.latency && baseline.latency ? [{ name: metric.name, kind: 'latency', canary: canary.latency, baseline: baseline.latency }] : [];
  }
  // A ratio's counts as the judge reads them: events = numerator, total = denominator; the judge
  // applies the metric's direction (lower-is-worse tests the canary's rate being lower).
  if (metric.kind === 'ratio') {
    const c = canary.ratios?.[metric.name];
    const b = baseline.ratios?.[metric.name];
    return c && b
      ? [{ name: metric.name, kind: 'ratio', canary: { total: c.denominator, events: c.numerator }, baseline: { total: b.denominator, events: b.numerator } }]
      : [];
  }
  return [
    {
      name: metric.name,
      kind: 'errors',
      canary: { total: canary.requests, events: canary.errors },
      baseline: { total: baseline.requests, events: baseline.errors },
    },
  ];
}

/** JSON has no Infinity: histogram tops become null in stored evidence. */
function jsonSafe(value: unknown): object {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? null : v)));
}

// Turns an analysis step's looks (measurements) into chart series.
import type { Measurement, TestEvidence, Verdict } from '../api/model.ts';

/** All looks of one analysis step in one attempt, oldest first. */
export interface AnalysisRun {
  key: string;
  stepIndex: number;
  attempt: number;
  measurements: Measurement[];
}

/** Picks one test of a verdict: the metric's name and the test's label ("errors", "slower than 125 ms (baseline median)"). */
export interface TestRef {
  metric: string;
  label: string;
}

export const testKey = (ref: TestRef) => `${ref.metric} · ${ref.label}`;

export function analysisRuns(measurements: Measurement[]): AnalysisRun[] {
  const runs = new Map<string, AnalysisRun>();
  for (const m of measurements) {
    const key = `${m.stepIndex}/${m.attempt}`;
    const run = runs.get(key) ?? { key, stepIndex: m.stepIndex, attempt: m.attempt, measurements: [] };
    run.measurements.push(m);
    runs.set(key, run);
  }
  for (const run of runs.values()) run.measurements.sort((a, b) => a.seq - b.seq);
  return [...runs.values()].sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt);
}

/** Every test any look of the run reported (latency tests appear only after their warm-up). */
export function testsOf(run: AnalysisRun): TestRef[] {
  const refs = new Map<string, TestRef>();
  for (const m of run.measurements)
    for (const metric of m.verdict.metrics ?? [])
      for (const test of metric.tests ?? []) {
        const ref = { metric: metric.name, label: test.label };
        refs.set(testKey(ref), ref);
      }
  return [...refs.values()];
}

/** The test that failed, if one did (a quality metric of a model, say); else the error-rate test, which is what a release manager watches first. */
export function defaultTest(run: AnalysisRun, tests: TestRef[]): TestRef | undefined {
  const failed = run.measurements
    .at(-1)
    ?.verdict.metrics?.flatMap((metric) => metric.tests.filter((t) => t.outcome === 'fail').map((t) => ({ metric: metric.name, label: t.label })))[0];
  if (failed && tests.some((t) => testKey(t) === testKey(failed))) return tests.find((t) => testKey(t) === testKey(failed));
  const errors = run.measurements.flatMap((m) => m.verdict.metrics ?? []).find((metric) => metric.kind === 'errors');
  return (errors && tests.find((t) => t.metric === errors.name)) ?? tests[0];
}

export function findTest(verdict: Verdict, ref: TestRef): TestEvidence | undefined {
  return verdict.metrics?.find((m) => m.name === ref.metric)?.tests.find((t) => t.label === ref.label);
}

const percent = (rate: number | null | undefined) => (rate === null || rate === undefined ? null : rate * 100);

export interface ErrorRatePoint {
  elapsed: number;
  canary: number | null;
  baseline: number | null;
  /** baseline × tolerance: the canary may not stay above this. */
  limit: number | null;
}

/** Canary and baseline error rate in %, from the first metric of kind `errors`. */
export function errorRateSeries(run: AnalysisRun): ErrorRatePoint[] {
  return run.measurements.map((m) => {
    const test = m.verdict.metrics?.find((metric) => metric.kind === 'errors')?.tests[0];
    const baseline = percent(test?.baseline.rate);
    return {
      elapsed: m.elapsedSeconds,
      canary: percent(test?.canary.rate),
      baseline,
      limit: baseline === null || !test ? null : baseline * test.tolerance,
    };
  });
}

export interface StatisticPoint {
  elapsed: number;
  /** Running maximum of ln(e-value): the test fails once it reaches the threshold. */
  max: number | null;
  current: number | null;
  threshold: number | null;
}

export function statisticSeries(run: AnalysisRun, ref: TestRef): StatisticPoint[] {
  return run.measurements.map((m) => {
    const test = findTest(m.verdict, ref);
    return { elapsed: m.elapsedSeconds, max: test?.maxLogEValue ?? null, current: test?.logEValue ?? null, threshold: test?.logThreshold ?? null };
  });
}

/** How far the running maximum is towards the rollback threshold, 0–1 (an e-value below 1 counts as 0). */
export function progressToThreshold(test: Pick<TestEvidence, 'maxLogEValue' | 'logThreshold'>): number | null {
  if (test.maxLogEValue === null || !test.logThreshold) return null;
  return Math.max(0, Math.min(1, test.maxLogEValue / test.logThreshold));
}

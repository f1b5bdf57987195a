/**
 * Warnings, not problems: a plan that validates can run, but an analysis whose maxDuration is too
 * short for the traffic it will see can never reach a verdict. It ends at its limit, where
 * onInconclusive decides, so a low-traffic service would be passed (or paused) without having
 * been judged. Given the traffic the plan expects (`traffic`), each analysis step is checked
 * against the two times it needs at the canary weight in force there:
 * - to pass: the judge's minimum of canary requests (and minDuration, and a latency metric's
 *   warm-up of baseline requests that fixes its thresholds);
 * - to fail a regression of the plan's size: twice the tolerated rate, at JUDGE.md's bound (the
 *   same figure the judge's evidence and bench/judge use; the judge needs somewhat longer).
 * Ratio metrics are left out: their denominators and rates are not the service's traffic.
 */
import { expectedDetectionSeconds, DETECTION_TARGET } from '../judge/expected-detection.ts';
import { JUDGE_DEFAULTS } from '../judge/judge.ts';
import type { AnalysisMetric, CompiledPlan, GateStep } from './compiled-plan.ts';

/** What the service serves in total (both versions), and the share of its requests that fail. */
export interface ExpectedTraffic {
  readonly requestsPerSecond: number;
  readonly errorRate: number;
}

/** The error rate assumed when the plan states traffic but no errorRate. */
export const DEFAULT_EXPECTED_ERROR_RATE = 0.01;
/** A latency metric is judged above the baseline's p95 (or a threshold the plan sets): 5% of requests. */
const LATENCY_EVENT_RATE = 0.05;

export interface PlanWarning {
  readonly path: string;
  readonly message: string;
}

type Analysis = Extract<GateStep, { type: 'analysis' }>;

/** The warnings of a compiled plan at the traffic it expects, each with the path of the analysis at fault. */
export function analysisWarnings(plan: CompiledPlan, traffic: ExpectedTraffic): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const seen = new Set<string>();
  let weight = 0;
  let gates = 0;
  plan.steps.forEach((step, i) => {
    if (step.type === 'setWeight') weight = step.weight;
    if (step.type === 'analysis' || step.type === 'smoke' || step.type === 'webhook') gates++;
    if (step.type !== 'analysis') return;
    const path = pathOf(plan, step, i, gates - 1);
    // A rolling check runs after every batch: the first (smallest) batch is the one to warn about.
    if (seen.has(path)) return;
    const message = warningFor(step, weight, traffic);
    if (message) {
      seen.add(path);
      warnings.push({ path: `${path}.maxDuration`, message });
    }
  });
  return warnings;
}

/** Where the compiled step came from in the spec: canary steps keep their index; blue-green checks and rolling's check are gates. */
function pathOf(plan: CompiledPlan, step: Analysis, index: number, gate: number): string {
  if (step.watch) return 'watch';
  if (plan.strategy === 'canary') return `steps[${index}]`;
  if (plan.strategy === 'blue-green') return `checks[${gate}]`;
  return 'check';
}

function warningFor(step: Analysis, weight: number, traffic: ExpectedTraffic): string | null {
  const limit = step.maxDurationMs / 1000;
  const share = `${weight}% of ${num(traffic.requestsPerSecond)} req/s`;
  const atLimit = `onInconclusive (${step.onInconclusive}) decides`;
  // At 100% there is no baseline to compare with; that is not a question of time.
  if (weight >= 100) return null;
  if (weight <= 0) return `the canary gets no traffic at this step (weight 0): the analysis can never reach a verdict and ends at its limit, where ${atLimit}`;
  const canary = (traffic.requestsPerSecond * weight) / 100;
  const baseline = traffic.requestsPerSecond - canary;
  const latency = step.metrics.some((m) => m.kind === 'latency' && m.thresholdMs === null);
  const warmup = latency ? JUDGE_DEFAULTS.latencyWarmupRequests / baseline : 0;
  const toPass = Math.max(step.minDurationMs / 1000, JUDGE_DEFAULTS.minCanaryRequests / canary + warmup);
  if (toPass > limit)
    return `${fmt(limit)} is too short for a verdict at the traffic the plan expects: at ${share} the canary needs about ${fmt(toPass)} to serve the ${JUDGE_DEFAULTS.minCanaryRequests} requests a pass needs${latency ? ' (after the latency warm-up)' : ''}, so the analysis ends at its limit, where ${atLimit}`;
  const slowest = step.metrics
    .map((m) => ({ m, seconds: detectSeconds(m, step, canary, baseline, traffic) }))
    .filter((x): x is { m: AnalysisMetric; seconds: number } => x.seconds !== null)
    .sort((a, b) => b.seconds - a.seconds)[0];
  if (!slowest || slowest.seconds <= limit) return null;
  const what = slowest.m.kind === 'latency' ? 'share of slow requests' : `error rate (${num(100 * traffic.errorRate)}%)`;
  return `${fmt(limit)} is too short to catch a regression at the traffic the plan expects: at ${share}, a canary with ${num(DETECTION_TARGET * slowest.m.tolerance)}× the baseline's ${what} on ${slowest.m.name} (twice the tolerance) takes about ${fmt(slowest.seconds)} to detect (JUDGE.md's bound; the judge needs somewhat longer), so a bad canary would reach the limit undetected, where ${atLimit}`;
}

/** The expected time to detect twice the tolerated rate on one metric (null for ratios: their traffic is not the service's). */
function detectSeconds(m: AnalysisMetric, step: Analysis, canary: number, baseline: number, traffic: ExpectedTraffic): number | null {
  if (m.kind === 'ratio') return null;
  const thresholds = m.kind === 'latency' && m.thresholdMs === null ? 2 : 1;
  const seconds = expectedDetectionSeconds({
    canaryRequestsPerSecond: canary,
    baselineRequestsPerSecond: baseline,
    baselineEventRate: m.kind === 'latency' ? LATENCY_EVENT_RATE : traffic.errorRate,
    tolerance: m.tolerance,
    alpha: step.alpha / step.metrics.length / thresholds,
  });
  return seconds === null ? null : seconds + (thresholds === 2 ? JUDGE_DEFAULTS.latencyWarmupRequests / baseline : 0);
}

const num = (x: number) => Number(x.toPrecision(3)).toString();
/** Seconds as a person reads them: 45 s, 12 min, 3.5 h. */
function fmt(seconds: number): string {
  if (seconds < 120) return `${num(seconds)} s`;
  if (seconds < 7200) return `${num(seconds / 60)} min`;
  return `${num(seconds / 3600)} h`;
}

import { advanceCountTest, startCountTest, startDispersion, type CountTestState, type Counts, type DispersionClock } from './count-test.ts';
import { allowedDispersion, DISPERSION_DEFAULTS, temperedMixtureLogE } from './dispersion.ts';
import { DETECTION_TARGET, expectedDetectionSeconds, passComponentIndex } from './expected-detection.ts';
import { boundaryAtOrAbove, chooseLatencyThresholds, countAbove, histogramTotal, type Histogram } from './latency.ts';
import { checkMixture, DEFAULT_MIXTURE, mixtureLogE } from './mixture.ts';
import type {
  DispersionEvidence,
  ExpectedDetection,
  JudgeConfig,
  JudgeInput,
  JudgeResult,
  JudgeState,
  LatencyThreshold,
  MetricConfig,
  MetricObservation,
  MetricState,
  MetricVerdict,
  Outcome,
  TestEvidence,
} from './types.ts';

export const JUDGE_DEFAULTS = {
  alpha: 0.01,
  tolerance: 1,
  minCanaryRequests: 500,
  passBeta: 0.05,
  minDurationSeconds: 0,
  minCanaryEventsToFail: 3,
  latencyWarmupRequests: 1000,
  dispersion: { blockSeconds: DISPERSION_DEFAULTS.blockSeconds },
} as const;

type Settings = Required<Omit<JudgeConfig, 'metrics'>> & { tolerance: number };

/** Where the judge stands on the analysis clock for the over-dispersion allowance (none when it is off). */
const clockOf = (s: Settings, elapsedSeconds: number): DispersionClock | undefined =>
  s.dispersion ? { elapsedSeconds, blockSeconds: s.dispersion.blockSeconds } : undefined;

/**
 * One look of the canary judge. Pure: the caller passes the cumulative counts, the config and
 * the state returned by the previous look (none on the first), and stores the new state and
 * the verdict. Looking often costs nothing in validity (see mixture.ts); the state must be
 * carried over, because the test folds each interval with that interval's own traffic split.
 *
 * Per metric: fail once the test's e-value has reached 1/α_i (α_i = α / number of metrics,
 * split again between a latency metric's thresholds) with at least `minCanaryEventsToFail`
 * canary events; pass once `minCanaryRequests` and `minDurationSeconds` are reached with no
 * test over its threshold and every test's pass test has ruled out a regression of twice the
 * tolerance (types.ts PassTestEvidence: the e-value of the tolerance against that alternative
 * reaches 1/passBeta, so a canary that bad passes with probability ≤ passBeta however often one
 * looks), or when neither version has had a single event; otherwise inconclusive: too little
 * data is "not enough evidence yet", never a failure, and never a pass (before the pass test a
 * canary passed at its 500th request, when a 2× regression at 5% weight had had 2.5 errors to
 * show itself). The release: fail if any metric fails, pass if all pass, else inconclusive.
 */
export function judge(input: JudgeInput, config: JudgeConfig, previous?: JudgeState): JudgeResult {
  const s: Settings = { ...JUDGE_DEFAULTS, mixture: DEFAULT_MIXTURE, ...stripUndefined(config) };
  checkMixture(s.mixture);
  const alphaMetric = s.alpha / Math.max(1, config.metrics.length);
  const states: Record<string, MetricState> = {};
  const metrics = config.metrics.map((mc) => {
    const observation = input.metrics.find((o) => o.name === mc.name && o.kind === mc.kind);
    const prior = previous?.metrics[mc.name];
    const { state, verdict } = judgeMetric(mc, observation, prior, s, alphaMetric, input.elapsedSeconds);
    if (state) states[mc.name] = state;
    return verdict;
  });
  const failed = metrics.filter((m) => m.outcome === 'fail');
  const outcome: Outcome = failed.length > 0 ? 'fail' : metrics.length > 0 && metrics.every((m) => m.outcome === 'pass') ? 'pass' : 'inconclusive';
  const reason =
    outcome === 'fail'
      ? `canary worse than baseline: ${failed.map((m) => m.name).join(', ')}`
      : outcome === 'pass'
        ? 'no metric shows the canary worse than tolerated'
        : metrics.length === 0
          ? 'no metrics configured'
          : `not enough evidence yet: ${metrics
              .filter((m) => m.outcome === 'inconclusive')
              .map((m) => m.name)
              .join(', ')}`;
  return {
    verdict: { outcome, reason, elapsedSeconds: input.elapsedSeconds, at: input.at ?? null, alpha: s.alpha, metrics },
    state: { metrics: states },
  };
}

/** What the plan does when an analysis reaches its maxDuration still inconclusive (its `onInconclusive`). */
export function outcomeAtLimit(
  verdict: { readonly outcome: Outcome },
  onInconclusive: 'pass' | 'fail' | 'pause',
): { outcome: 'pass' | 'fail' | 'pause'; reason: string } {
  if (verdict.outcome !== 'inconclusive') return { outcome: verdict.outcome, reason: `verdict ${verdict.outcome} at the limit` };
  return { outcome: onInconclusive, reason: `still inconclusive at maxDuration: the plan says ${onInconclusive}` };
}

function judgeMetric(
  mc: MetricConfig,
  observation: MetricObservation | undefined,
  prior: MetricState | undefined,
  s: Settings,
  alpha: number,
  elapsedSeconds: number,
): { state: MetricState | undefined; verdict: MetricVerdict } {
  const tolerance = mc.tolerance ?? s.tolerance;
  const folded = !observation
    ? prior
    : observation.kind === 'latency'
      ? foldLatency(mc, observation.canary, observation.baseline, prior, s, tolerance, elapsedSeconds)
      : lowerIsWorse(mc)
        ? foldCounts(observation.baseline, observation.canary, prior, s, tolerance, elapsedSeconds)
        : foldCounts(observation.canary, observation.baseline, prior, s, tolerance, elapsedSeconds);
  if (folded === undefined || typeof folded === 'string') {
    const reason = folded ?? 'no observation for this metric';
    return { state: prior, verdict: { name: mc.name, kind: mc.kind, outcome: 'inconclusive', reason, alpha, tests: [] } };
  }
  return { state: folded, verdict: evaluate(mc, folded, s, alpha, elapsedSeconds, tolerance) };
}

/**
 * A lower-is-worse ratio (conversion, accuracy) regresses when the canary's rate falls below the
 * baseline's ÷ tolerance, that is when the baseline's rate exceeds tolerance × the canary's. The
 * conditional count test is symmetric in its arms (given an interval's events, either arm's share
 * is binomial), so that question is the same test with the arms exchanged: H0 is
 * baseline rate ≤ tolerance × canary rate, each interval's factor has mean ≤ 1 under it, and
 * the guarantee (a false alarm with probability ≤ α however often one looks) is unchanged.
 * The state holds the exchanged arms; evaluate() shows them as they are.
 *
 * Not the complement (denominator − numerator as the bad events, judged higher-is-worse): a
 * tolerance on it means nothing a person would set (conversion 3% → 2% moves the complement
 * from 97% to 98%; no tolerance ≥ 1 would ever fail it), and events that are not rare are where
 * a count test is weakest. The flip side: this test sees relative drops, so a rate near 1
 * (accuracy 95% → 84%, only ×0.88) is slow to catch, while its complement rises ×3.2 (5% → 16%
 * wrong): such a metric is better judged on its error side (wrong predictions, higher-is-worse).
 */
const lowerIsWorse = (mc: MetricConfig) => mc.kind === 'ratio' && mc.direction === 'lower-is-worse';

/** Cumulative counts run from the analysis start, so a count test's clock starts at 0. */
function foldCounts(canary: Counts, baseline: Counts, prior: MetricState | undefined, s: Settings, tolerance: number, elapsedSeconds: number): MetricState {
  const test = prior?.tests[0] ?? startCountTest(s.mixture, undefined, clockOf(s, 0));
  return { thresholds: null, tests: [advance(test, canary, baseline, tolerance, s, elapsedSeconds)] };
}

/**
 * One fold. A test stored before the over-dispersion allowance existed folds this look as it
 * did, and allows for over-dispersion from here on (its earlier evidence then counts under the
 * prior until blocks complete).
 */
function advance(test: CountTestState, canary: Counts, baseline: Counts, tolerance: number, s: Settings, elapsedSeconds: number): CountTestState {
  const clock = clockOf(s, elapsedSeconds);
  if (clock && test.dispersion === undefined)
    return { ...advanceCountTest(test, canary, baseline, tolerance, s.mixture), dispersion: startDispersion(s.mixture, clock) };
  return advanceCountTest(test, canary, baseline, tolerance, s.mixture, clock ? elapsedSeconds : undefined);
}

/** Latency: fix the thresholds (configured, or from the warm-up), then fold the counts above each. Returns why not, if it cannot. */
function foldLatency(
  mc: MetricConfig,
  canary: Histogram,
  baseline: Histogram,
  prior: MetricState | undefined,
  s: Settings,
  tolerance: number,
  elapsedSeconds: number,
): MetricState | string {
  const above = (h: Histogram, ms: number): Counts | null => {
    const events = countAbove(h, ms);
    return events === null ? null : { total: histogramTotal(h), events };
  };
  let thresholds = prior?.thresholds;
  let tests = prior?.tests;
  if (!thresholds || !tests) {
    const chosen = pickThresholds(mc, baseline, s);
    if (typeof chosen === 'string') return chosen;
    thresholds = chosen;
    const starts = thresholds.map((th) => ({ canary: above(canary, th.ms), baseline: above(baseline, th.ms) }));
    if (starts.some((x) => !x.canary || !x.baseline)) return 'canary and baseline histograms do not share bucket boundaries';
    // A configured threshold counts from the start; a warm-up threshold only what comes after the warm-up.
    const warm = thresholds[0]!.basis !== 'configured';
    tests = starts.map((x) => startCountTest(s.mixture, warm ? (x as { canary: Counts; baseline: Counts }) : undefined, clockOf(s, warm ? elapsedSeconds : 0)));
  }
  const fixed = thresholds;
  return {
    thresholds: fixed,
    tests: tests.map((t, i) => {
      const c = above(canary, fixed[i]!.ms);
      const b = above(baseline, fixed[i]!.ms);
      return c && b ? advance(t, c, b, tolerance, s, elapsedSeconds) : t;
    }),
  };
}

function pickThresholds(mc: MetricConfig, baseline: Histogram, s: Settings): LatencyThreshold[] | string {
  if (mc.thresholdMs != null) {
    const ms = boundaryAtOrAbove(baseline, mc.thresholdMs);
    return ms === null ? `no bucket boundary at or above ${mc.thresholdMs} ms` : [{ ms, basis: 'configured' }];
  }
  const total = histogramTotal(baseline);
  if (total < s.latencyWarmupRequests) return `warming up (fixing latency thresholds): ${total} of ${s.latencyWarmupRequests} baseline requests`;
  const { median, tail } = chooseLatencyThresholds(baseline);
  const list: LatencyThreshold[] = [
    ...(median === null ? [] : [{ ms: median, basis: 'baseline median' as const }]),
    ...(tail === null ? [] : [{ ms: tail, basis: 'baseline p95' as const }]),
  ];
  return list.length > 0 ? list : 'the histogram buckets give no usable threshold';
}

function evaluate(mc: MetricConfig, state: MetricState, s: Settings, alpha: number, elapsedSeconds: number, tolerance: number): MetricVerdict {
  const { tests, thresholds } = state;
  const alphaTest = alpha / tests.length;
  const logThreshold = Math.log(1 / alphaTest);
  // Lower-is-worse ratios hold the arms exchanged (see lowerIsWorse); the evidence names them as they are.
  const swapped = lowerIsWorse(mc);
  const arms = (t: (typeof tests)[number]) => (swapped ? { canary: t.baseline, baseline: t.canary } : { canary: t.canary, baseline: t.baseline });
  const canaryTotal = arms(tests[0]!).canary.total;
  const enough = canaryTotal >= s.minCanaryRequests && elapsedSeconds >= s.minDurationSeconds;
  const passIndex = passComponentIndex(s.mixture);
  const passLogThreshold = Math.log(1 / s.passBeta);
  const evidence = tests.map((t, i): TestEvidence => {
    // Crossed with too few events on the tested arm (the canary's; the baseline's numerator for a
    // lower-is-worse ratio, whose excess is the evidence): not a failure yet, and certainly not a pass.
    const crossed = t.maxLogE >= logThreshold;
    const failed = crossed && t.canary.events >= s.minCanaryEventsToFail;
    const th = thresholds?.[i];
    const { canary, baseline } = arms(t);
    const dispersion = dispersionEvidence(t, s);
    // The pass test: minus the alternative's log likelihood ratio, tempered for over-dispersion with the roles exchanged.
    const passT = t.dispersion && s.dispersion ? (t.dispersion.passTempering ?? t.dispersion.tempering[passIndex]!) : 1;
    const passLogE = -passT * t.logLr[passIndex]!;
    // No event on either version (an error-free service, a shadow whose answers never differ): nothing to compare, and a
    // regression relative to a rate this low is not one a plan can mean. It passes as it did before the pass test.
    const silent = t.canary.events === 0 && t.baseline.events === 0;
    return {
      test: 'conditional-binomial-mixture-sprt',
      label: th ? `slower than ${th.ms} ms (${th.basis})` : swapped ? 'ratio (lower is worse)' : mc.kind,
      thresholdMs: th?.ms ?? null,
      canary: { ...canary, rate: rate(canary) },
      baseline: { ...baseline, rate: rate(baseline) },
      rateRatio: ratioOf(canary, baseline),
      tolerance,
      ...(swapped ? { direction: 'lower-is-worse' as const } : {}),
      alpha: alphaTest,
      logEValue: t.dispersion && s.dispersion ? temperedMixtureLogE(t.logLr, t.dispersion.tempering, s.mixture) : mixtureLogE(t.logLr, s.mixture),
      maxLogEValue: t.maxLogE,
      logThreshold,
      outcome: failed ? 'fail' : enough && !crossed && (passLogE >= passLogThreshold || silent) ? 'pass' : 'inconclusive',
      dispersion,
      expectedDetection: detectionEvidence(t, swapped, elapsedSeconds, tolerance, alphaTest, dispersion?.varianceFactor ?? 1),
      passTest: { rateRatio: s.mixture[passIndex]!.ratio * tolerance, beta: s.passBeta, logEValue: passLogE, logThreshold: passLogThreshold },
    };
  });
  const failing = evidence.filter((e) => e.outcome === 'fail');
  const outcome: Outcome = failing.length > 0 ? 'fail' : evidence.every((e) => e.outcome === 'pass') ? 'pass' : 'inconclusive';
  const ruledOut = evidence[0]!.passTest.rateRatio;
  const regression = swapped ? `the baseline ÷ ${num(ruledOut)}` : `${num(ruledOut)}× the baseline`;
  const crossedTest = evidence.some((e) => e.maxLogEValue >= e.logThreshold);
  const weakest = Math.min(...evidence.map((e) => e.passTest.logEValue));
  const reason =
    outcome === 'fail'
      ? failing.map((e) => `${e.label}: canary ${pct(e.canary.rate)} vs baseline ${pct(e.baseline.rate)}, e-value ≥ 1/${num(alphaTest)}`).join('; ')
      : outcome === 'pass' && evidence.every((e) => e.canary.events === 0 && e.baseline.events === 0)
        ? `no ${mc.kind === 'errors' ? 'errors' : 'events'} on either version after ${canaryTotal} canary requests`
        : outcome === 'pass'
          ? `${swapped ? `not below the baseline ÷ ${tolerance}` : `not worse than ${tolerance}× the baseline`}: ${regression} ruled out (e-value ≥ ${num(1 / s.passBeta)}) after ${canaryTotal} canary requests`
          : !enough
            ? `not enough evidence yet: ${canaryTotal} of ${s.minCanaryRequests} canary requests, ${num(elapsedSeconds)} of ${s.minDurationSeconds} s`
            : crossedTest
              ? `evidence against the canary, waiting for ${s.minCanaryEventsToFail} ${swapped ? 'baseline' : 'canary'} events before failing`
              : `nothing against the canary yet, but not enough to rule out ${regression} (e-value ${num(Math.exp(weakest))} of ${num(1 / s.passBeta)})`;
  return { name: mc.name, kind: mc.kind, outcome, reason, alpha, tests: evidence };
}

/** What the test measured of over-dispersion and how much it discounted its evidence for it (null: the Poisson test). */
function dispersionEvidence(t: CountTestState, s: Settings): DispersionEvidence | null {
  const d = t.dispersion;
  if (!d || !s.dispersion) return null;
  const estimate = allowedDispersion(d.sums);
  // The component the mixture weighs most (2× the tolerated rate by default) says how much less an event counts.
  const central = s.mixture.reduce((best, c, j) => (c.weight > s.mixture[best]!.weight ? j : best), 0);
  return {
    blockSeconds: d.blockSeconds,
    blocks: d.sums.blocks,
    basis: estimate.measured === null ? 'prior' : 'measured',
    measuredCv: estimate.measured === null ? null : Math.sqrt(estimate.measured),
    allowedCv: Math.sqrt(estimate.allowed),
    varianceFactor: 1 / d.tempering[central]!,
    poissonLogEValue: mixtureLogE(t.logLr, s.mixture),
  };
}

/** The expected time to detect a regression of DETECTION_TARGET × the tolerance, at the traffic this test has measured. */
function detectionEvidence(
  t: CountTestState,
  swapped: boolean,
  elapsedSeconds: number,
  tolerance: number,
  alpha: number,
  varianceFactor: number,
): ExpectedDetection {
  // Traffic per second over what the allowance has counted (everything, unless a stored state started it late).
  const d = t.dispersion;
  const seconds = elapsedSeconds - (d?.startedAt ?? 0);
  const counted = (arm: 'canary' | 'baseline') => (d ? d.sums[arm].total + d.block[arm].total : t[arm].total);
  const perSecond = (arm: 'canary' | 'baseline') => (seconds > 0 ? counted(arm) / seconds : null);
  // The test's own arms (exchanged for a lower-is-worse ratio) give the figure; the rates are shown as they are.
  const tested = { canary: perSecond('canary'), baseline: perSecond('baseline'), rate: rate(t.baseline) };
  const figure =
    tested.canary !== null && tested.baseline !== null && tested.rate !== null
      ? expectedDetectionSeconds({
          canaryRequestsPerSecond: tested.canary,
          baselineRequestsPerSecond: tested.baseline,
          baselineEventRate: tested.rate,
          tolerance,
          alpha,
          varianceFactor,
        })
      : null;
  const why =
    figure !== null
      ? null
      : !(t.canary.total > 0) || !(t.baseline.total > 0)
        ? 'no traffic measured yet on both versions'
        : !(t.baseline.events > 0)
          ? `no ${swapped ? 'canary' : 'baseline'} events yet: the rate a regression is measured against is unknown`
          : 'the measured rate leaves no room for a regression of this size';
  return {
    rateRatio: DETECTION_TARGET * tolerance,
    seconds: figure,
    canaryRequestsPerSecond: swapped ? tested.baseline : tested.canary,
    baselineRequestsPerSecond: swapped ? tested.canary : tested.baseline,
    baselineEventRate: swapped ? rate(t.canary) : tested.rate,
    reason: why,
  };
}

const rate = (c: Counts) => (c.total > 0 ? c.events / c.total : null);
function ratioOf(c: Counts, b: Counts): number | null {
  const rc = rate(c);
  const rb = rate(b);
  return rc === null || rb === null || rb === 0 ? null : rc / rb;
}
const num = (x: number) => Number(x.toPrecision(3)).toString();
const pct = (x: number | null) => (x === null ? 'n/a' : `${num(100 * x)}%`);

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import type { CountTestState, Counts } from './count-test.ts';
import type { Histogram } from './latency.ts';
import type { MixtureComponent } from './mixture.ts';

export type Outcome = 'pass' | 'fail' | 'inconclusive';

/**
 * Cumulative counts since the analysis started, for canary and baseline over the same window.
 * errors: total = requests, events = errors. ratio: total = denominator, events = numerator
 * (events are the "bad" side, e.g. declined payments / payments; the good side, e.g. conversions, when the metric's direction is lower-is-worse). latency: histograms in ms.
 */
export type MetricObservation =
  | { readonly name: string; readonly kind: 'errors' | 'ratio'; readonly canary: Counts; readonly baseline: Counts }
  | { readonly name: string; readonly kind: 'latency'; readonly canary: Histogram; readonly baseline: Histogram };

/** One look: the elapsed time of the analysis, an optional timestamp to store, the counts. */
export interface JudgeInput {
  readonly elapsedSeconds: number;
  /** Stored in the verdict as is (e.g. an ISO time); the judge never reads a clock. */
  readonly at?: string;
  readonly metrics: readonly MetricObservation[];
}

/** Structurally compatible with the compiled plan's AnalysisMetric. */
export interface MetricConfig {
  readonly name: string;
  readonly kind: 'errors' | 'latency' | 'ratio';
  /** Fail when the canary's event rate exceeds tolerance × the baseline's. Default 1. */
  readonly tolerance?: number;
  /** Latency: test only the share slower than this (ms) instead of the warm-up median and p95. */
  readonly thresholdMs?: number | null;
  /** Ratio: lower-is-worse fails when the canary's rate is below the baseline's ÷ tolerance. Default higher-is-worse. */
  readonly direction?: 'higher-is-worse' | 'lower-is-worse';
}

export interface JudgeConfig {
  readonly metrics: readonly MetricConfig[];
  /** Release-level false-alarm rate, split equally across metrics (Bonferroni). Default 0.01. */
  readonly alpha?: number;
  /** Canary requests (per metric: its denominator) needed before a metric can pass. Default 500. */
  readonly minCanaryRequests?: number;
  /**
   * A test passes only once its data rule out a regression of twice the tolerance (the pass test,
   * judge.ts) at this level: a canary that bad passes with probability at most passBeta. Default 0.05.
   */
  readonly passBeta?: number;
  /** Elapsed seconds needed before anything passes (the plan's minDuration). Default 0. */
  readonly minDurationSeconds?: number;
  /** Canary events needed before a test may fail: no rollback on one or two errors. Default 3. */
  readonly minCanaryEventsToFail?: number;
  /** Baseline requests that fix the latency thresholds before latency is tested. Default 1000. */
  readonly latencyWarmupRequests?: number;
  /** The alternatives of the mixture test; see mixture.ts. */
  readonly mixture?: readonly MixtureComponent[];
  /**
   * The over-dispersion allowance (dispersion.ts): rates may fluctuate from block to block of
   * `blockSeconds` (default 60). false: the Poisson test (every request independent), as the judge
   * was before it; for comparison only, it rolls back good canaries whose rates fluctuate.
   */
  readonly dispersion?: { readonly blockSeconds: number } | false;
}

/**
 * Over-dispersion seen by one test, and how much it widened the verdict (dispersion.ts). The test
 * assumes rates fluctuate independently from one block to the next, both versions alike, and no
 * more than measured: the guarantee holds while that is so.
 */
export interface DispersionEvidence {
  readonly blockSeconds: number;
  /** Completed blocks the measurement rests on. */
  readonly blocks: number;
  /** prior: fewer than two blocks, a coefficient of variation of 60% is assumed. measured: from the blocks. */
  readonly basis: 'prior' | 'measured';
  /** The coefficient of variation of a block's event rate beyond Poisson, measured on the arm with more events, or on both when the canary has a quarter of the baseline's events or more (null: not yet). */
  readonly measuredCv: number | null;
  /** The coefficient of variation the test allows for: the measurement's upper bound (or the prior). */
  readonly allowedCv: number;
  /** ≥ 1: how many Poisson events one observed event is worth less than (the central alternative's 1 / tempering). */
  readonly varianceFactor: number;
  /** ln of the e-value now if the counts were Poisson: the verdict without the allowance. */
  readonly poissonLogEValue: number;
}

/** Time to a decision, said in advance (expected-detection.ts). */
export interface ExpectedDetection {
  /** The regression the figure is for: the canary's rate at this multiple of the baseline's (2 × tolerance). */
  readonly rateRatio: number;
  /** Expected seconds to detect it at the traffic measured so far (JUDGE.md's bound × the variance factor); null with a reason. */
  readonly seconds: number | null;
  readonly canaryRequestsPerSecond: number | null;
  readonly baselineRequestsPerSecond: number | null;
  readonly baselineEventRate: number | null;
  readonly reason: string | null;
}

/** The evidence of one count test, plain data. */
export interface TestEvidence {
  readonly test: 'conditional-binomial-mixture-sprt';
  /** What is counted: "errors", "ratio", "slower than 125 ms (baseline median)"... */
  readonly label: string;
  readonly thresholdMs: number | null;
  readonly canary: { readonly total: number; readonly events: number; readonly rate: number | null };
  readonly baseline: { readonly total: number; readonly events: number; readonly rate: number | null };
  /** canary rate ÷ baseline rate, null when a rate is undefined. */
  readonly rateRatio: number | null;
  readonly tolerance: number;
  /** Only on a lower-is-worse ratio: it fails when rateRatio falls below 1 / tolerance. */
  readonly direction?: 'lower-is-worse';
  readonly alpha: number;
  /** ln of the e-value now (with the over-dispersion allowance), and its running maximum: the test fails once the maximum reaches the threshold. */
  readonly logEValue: number;
  readonly maxLogEValue: number;
  /** ln(1/alpha). */
  readonly logThreshold: number;
  readonly outcome: Outcome;
  /** The over-dispersion allowance (null: off). */
  readonly dispersion: DispersionEvidence | null;
  readonly expectedDetection: ExpectedDetection;
  /** What a pass needs: evidence that the canary is not as bad as rateRatio × the baseline. */
  readonly passTest: PassTestEvidence;
}

/**
 * The pass test: the e-value of "the canary is better than rateRatio × the baseline" against
 * "it is at least that bad" (the likelihood ratio of the tolerance against the alternative, with
 * the over-dispersion allowance). A test passes once this reaches 1/beta (and the canary has its
 * minimum requests and time): a canary at rateRatio or worse passes with probability ≤ beta,
 * however often one looks. Too little data therefore stays inconclusive, not passed.
 */
export interface PassTestEvidence {
  /** The regression ruled out: the canary's rate at this multiple of the baseline's (lower-is-worse: at this fraction ÷). */
  readonly rateRatio: number;
  readonly beta: number;
  readonly logEValue: number;
  /** ln(1/beta). */
  readonly logThreshold: number;
}

export interface MetricVerdict {
  readonly name: string;
  readonly kind: MetricConfig['kind'];
  readonly outcome: Outcome;
  readonly reason: string;
  /** This metric's share of the release-level alpha. */
  readonly alpha: number;
  readonly tests: readonly TestEvidence[];
}

export interface Verdict {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly elapsedSeconds: number;
  readonly at: string | null;
  readonly alpha: number;
  readonly metrics: readonly MetricVerdict[];
}

/** A latency threshold (a bucket boundary, ms) and where it came from. */
export interface LatencyThreshold {
  readonly ms: number;
  readonly basis: 'baseline median' | 'baseline p95' | 'configured';
}

/** Per-metric state, plain data: persist it with the analysis and hand it back on the next look. */
export interface MetricState {
  /** Latency only: thresholds fixed at the end of the warm-up (null until then), one test each. */
  readonly thresholds: readonly LatencyThreshold[] | null;
  readonly tests: readonly CountTestState[];
}

export interface JudgeState {
  readonly metrics: Readonly<Record<string, MetricState>>;
}

export interface JudgeResult {
  readonly verdict: Verdict;
  readonly state: JudgeState;
}

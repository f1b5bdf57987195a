/**
 * Time to a decision, said in advance: how long the judge should need to catch a regression of
 * the size a plan is written for, at a given traffic. The figure is JUDGE.md's limit (the bound
 * bench/judge measures efficiency against): any α-level test needs on average about
 * ln(1/α) / (D(θ1‖θ0)·(λc·p1 + λb·p0)) seconds, θ0 taken at the tolerance. Ours reaches ~0.8 of it
 * on clean streams (bench/judge), so the real wait is somewhat longer; when the counts are
 * over-dispersed each event is worth less, and the figure is multiplied by the test's variance
 * factor (dispersion.ts).
 *
 * The regression: the canary's event rate at DETECTION_TARGET × tolerance × the baseline's (twice
 * what the plan tolerates; JUDGE.md's worked case at tolerance 1), capped at a probability of 1.
 */
import { detectionTimeBound, type MixtureComponent } from './mixture.ts';

/** The regression the figure is for, as a multiple of the tolerated rate (the mixture's central alternative). */
export const DETECTION_TARGET = 2;

/**
 * The mixture component a pass must rule out (judge.ts): the smallest alternative at or above
 * DETECTION_TARGET × the tolerance (the largest, if none is), so that a pass answers the question
 * the expected detection time is given for.
 */
export function passComponentIndex(mixture: readonly MixtureComponent[]): number {
  let best = -1;
  for (let j = 0; j < mixture.length; j++) if (mixture[j]!.ratio >= DETECTION_TARGET && (best < 0 || mixture[j]!.ratio < mixture[best]!.ratio)) best = j;
  if (best >= 0) return best;
  return mixture.reduce((top, c, j) => (c.ratio > mixture[top]!.ratio ? j : top), 0);
}

export interface DetectionInput {
  readonly canaryRequestsPerSecond: number;
  readonly baselineRequestsPerSecond: number;
  /** The baseline's event rate (errors per request, share slower than a threshold, numerator per denominator). */
  readonly baselineEventRate: number;
  readonly tolerance: number;
  /** The α this test is judged at (the release's α split across metrics and thresholds). */
  readonly alpha: number;
  /** ≥ 1: how much less each event counts than under Poisson (1 = clean counts). */
  readonly varianceFactor?: number;
}

/** Seconds, or null when the traffic or the baseline's rate cannot give one (no requests, no events, a rate of 0 or 1). */
export function expectedDetectionSeconds(o: DetectionInput): number | null {
  const p0 = o.baselineEventRate;
  if (!(o.canaryRequestsPerSecond > 0) || !(o.baselineRequestsPerSecond > 0) || !(p0 > 0) || !(p0 < 1)) return null;
  const p1 = Math.min(1, DETECTION_TARGET * o.tolerance * p0);
  const seconds = detectionTimeBound({
    canaryRate: o.canaryRequestsPerSecond,
    baselineRate: o.baselineRequestsPerSecond,
    p0,
    p1,
    alpha: o.alpha,
    tolerance: o.tolerance,
  });
  const factor = Math.max(1, o.varianceFactor ?? 1);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * factor : null;
}

/** The rows of the report: which scenarios give the good and bad canaries of a case, and its limit. */
import { canaryShare, klBernoulli } from '@glidepath/core';
import { ALPHA, BURST_MEAN_MULT, HORIZON, latencyCdf, ratesAt, WEIGHTS, type LatencyModel, type Scenario, type SetName } from './model.ts';

export interface Row {
  readonly label: string;
  readonly weight: number;
  readonly set: SetName;
  readonly good: string;
  readonly bad: string;
  /** JUDGE.md's limit in seconds for this case (see limitSeconds). */
  readonly bound: number;
}

/**
 * JUDGE.md's limit, integrated over time so that changing rates are handled: the first T at
 * which Σ_t D(θ1‖θ0)·(λc·p1 + λb·p0) reaches ln(1/α), θ0 taken at the test's tolerance; past the
 * horizon it is extrapolated at the average rate. Latency: the events are "slower than the
 * threshold" for the better of the judge's two thresholds (median 50 ms, p95 125 ms).
 */
export function limitSeconds(s: Scenario, tolerance: number): number {
  const bursts = s.bursts === 'none' ? 1 : BURST_MEAN_MULT;
  const target = Math.log(1 / ALPHA);
  const eventProbs = (pb: number): Array<[number, number]> =>
    s.latency === 'same'
      ? [[pb * bursts, s.errorMult * pb * bursts]]
      : [50, 125].map((ms) => [1 - latencyCdf('same', ms), 1 - latencyCdf(s.latency as LatencyModel, ms)]);
  let info = 0;
  for (let t = 1; t <= HORIZON; t++) {
    const { lc, lb, pb } = ratesAt(s, t);
    const rate = Math.max(
      ...eventProbs(pb).map(([p0, p1]) => klBernoulli((lc * p1) / (lc * p1 + lb * p0), canaryShare(lc, lb, tolerance)) * (lc * p1 + lb * p0)),
    );
    if ((info += rate) >= target) return t - 1 + (target - (info - rate)) / rate;
  }
  return (target / info) * HORIZON;
}

export function rows(byKey: ReadonlyMap<string, Scenario>): Row[] {
  const list: Row[] = [];
  const add = (label: string, weight: number, set: SetName, good: string, bad: string, tolerance = 1) =>
    list.push({ label, weight, set, good, bad, bound: limitSeconds(byKey.get(bad)!, tolerance) });
  for (const w of WEIGHTS) {
    const pc = `${w * 100}%`;
    add('errors 2× (worked case)', w, 'errors', `good@${pc}`, `err2x@${pc}`);
    add('errors 5×', w, 'errors', `good@${pc}`, `err5x@${pc}`);
    add('errors 2×, tolerance 1.5', w, 'errorsK15', `good@${pc}`, `err2x@${pc}`, 1.5);
    add('latency ×1.5 (whole)', w, 'latency', `good@${pc}`, `lat1.5x@${pc}`);
    add('latency tail +50% p95', w, 'latency', `good@${pc}`, `tail@${pc}`);
  }
  add('errors 2×, α = 0.005', 0.05, 'errorsA005', 'good@5%', 'err2x@5%');
  add('3 metrics (errors 2×)', 0.05, 'multi', 'good@5%', 'err2x-multi@5%');
  add('bursty, common-mode, 2×', 0.05, 'errors', 'bursty-common-good@5%', 'bursty-common-2x@5%');
  add('bursty, per-version, 2×', 0.05, 'errors', 'bursty-indep-good@5%', 'bursty-indep-2x@5%');
  add('diurnal traffic, 2×', 0.05, 'errors', 'diurnal-good@5%', 'diurnal-2x@5%');
  add('split 5.5%→10% ≠ 5%, 2×', 0.05, 'errors', 'split-drift-good@5%', 'split-drift-2x@5%');
  add('  same, pooled split (stateless)', 0.05, 'pooled', 'split-drift-good@5%', 'split-drift-2x@5%');
  add('over-dispersed, cv 10% a minute, 2×', 0.05, 'errors', 'cv10-good@5%', 'cv10-2x@5%');
  add('over-dispersed, cv 25% a minute, 2×', 0.05, 'errors', 'cv25-good@5%', 'cv25-2x@5%');
  add('over-dispersed, cv 50% a minute, 2×', 0.05, 'errors', 'cv50-good@5%', 'cv50-2x@5%');
  add('  same, minutes offset from the blocks', 0.05, 'errors', 'cv50-offset-good@5%', 'cv50-offset-2x@5%');
  add('  same (cv 50%), at 1%', 0.01, 'errors', 'cv50-good@1%', 'cv50-2x@1%');
  add('  same (cv 50%), at 25%', 0.25, 'errors', 'cv50-good@25%', 'cv50-2x@25%');
  add('daily cycle (24 h, steepest hour), 2×', 0.05, 'errors', 'daily-good@5%', 'daily-2x@5%');
  add('daily cycle + cv 50% a minute, 2×', 0.05, 'errors', 'daily-cv50-good@5%', 'daily-cv50-2x@5%');
  return list;
}

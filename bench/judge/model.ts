/**
 * The simulated world of the judge benchmark: traffic, error and latency models, and the
 * scenarios (a stream generator each; one scenario feeds several table rows).
 */

export const HORIZON = 3600; // seconds
export const TOTAL_RATE = 100; // requests/s, JUDGE.md's worked case
export const P0 = 0.005; // baseline error probability
export const ALPHA = 0.01;
/** Custom ratio of the "several metrics" case: declined payments / payment attempts. */
export const RATIO_SHARE = 0.3; // share of requests that are payment attempts
export const RATIO_P = 0.02; // decline probability

/** Histogram bucket bounds (ms) of the simulated services; the +Inf bucket is implicit. */
export const BOUNDS = [10, 20, 30, 40, 50, 60, 70, 80, 100, 125, 150, 200, 300, 500, 1000];
export const NBINS = BOUNDS.length + 1;

/** Latency: lognormal, median 50 ms, σ = 0.5 (p95 ≈ 114 ms). */
const MEDIAN = 50;
const SIGMA = 0.5;
/** Tail-only: σ above the median widened so that p95 is +50% while the median is unchanged. */
const TAIL_SIGMA = SIGMA + Math.log(1.5) / 1.6448536;

export type LatencyModel = 'same' | 'x1.5' | 'tail';

function normalCdf(z: number): number {
  // Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), enough for bin probabilities.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export function latencyCdf(model: LatencyModel, ms: number): number {
  if (!Number.isFinite(ms)) return 1;
  const median = model === 'x1.5' ? 1.5 * MEDIAN : MEDIAN;
  const z = Math.log(ms / median);
  return normalCdf(z / (model === 'tail' && z > 0 ? TAIL_SIGMA : SIGMA));
}

/** Probability of each bucket (the last is +Inf). */
export function binProbabilities(model: LatencyModel): Float64Array {
  const p = new Float64Array(NBINS);
  let prev = 0;
  for (let i = 0; i < NBINS; i++) {
    const c = i < BOUNDS.length ? latencyCdf(model, BOUNDS[i]!) : 1;
    p[i] = c - prev;
    prev = c;
  }
  return p;
}

/** errors: error rate alone (tolerance 1); errorsK15: the same at tolerance 1.5 (the plan's default); errorsA005: at α = 0.005;
 *  latency: latency alone; multi: errors + latency + a custom ratio; pooled: errors with the stateless (pooled-split) test. */
export type SetName = 'errors' | 'errorsK15' | 'errorsA005' | 'latency' | 'multi' | 'pooled';

export interface Scenario {
  /** Unique; the seeds derive from it. */
  readonly key: string;
  /** Configured canary weight. */
  readonly weight: number;
  /** Good (identical versions) or bad. */
  readonly bad: boolean;
  /** Canary error probability ÷ baseline's. */
  readonly errorMult: number;
  readonly latency: LatencyModel;
  /** Simulate latency histograms (and the ratio metric when `ratio`). */
  readonly heavy: boolean;
  readonly ratio: boolean;
  /** diurnal: a whole day's cycle squeezed into the hour (40–160 req/s); daily: a 24-hour cycle, the hour of its steepest rise. */
  readonly traffic: 'flat' | 'diurnal' | 'daily';
  /**
   * Over-dispersion: each minute, each version's error rate is multiplied by its own ε ~ Gamma(mean 1, cv²), independent
   * between versions and minutes. aligned: the minutes start with the analysis (JUDGE.md's "per interval"); offset: at a
   * random second of the judge's blocks, so every block straddles two of them.
   */
  readonly dispersion: { readonly cv: number; readonly minutes: 'aligned' | 'offset' } | null;
  /** exact: the router gives the configured weight. drift: 5.5% (configured 5%), 10% after 30 min while both error rates triple. */
  readonly split: 'exact' | 'drift';
  readonly bursts: 'none' | 'common' | 'independent';
  /** Which judge configurations to evaluate on the streams. */
  readonly sets: readonly SetName[];
  readonly runs: number;
}

/** Burst episodes: start with probability 1/900 per second, last 20 s on average, error probability × 10. */
export const BURST = { start: 1 / 900, stop: 1 / 20, mult: 10 } as const;
export const BURST_MEAN_MULT = 1 + (BURST.start / (BURST.start + BURST.stop)) * (BURST.mult - 1);

/** Per-second rates of a scenario at second t (1-based), before bursts. */
export function ratesAt(s: Scenario, t: number): { lc: number; lb: number; pb: number } {
  const cycle =
    s.traffic === 'diurnal' ? 1 + 0.6 * Math.sin((2 * Math.PI * t) / HORIZON) : s.traffic === 'daily' ? 1 + 0.6 * Math.sin((2 * Math.PI * t) / 86_400) : 1;
  const total = TOTAL_RATE * cycle;
  // Diurnal and daily: errors rise with load (shared by both versions), as they do on a busy dependency.
  let pb = P0 * cycle;
  let w = s.weight;
  if (s.split === 'drift') {
    w = t <= HORIZON / 2 ? s.weight * 1.1 : s.weight * 2;
    if (t > HORIZON / 2) pb *= 3;
  }
  return { lc: total * w, lb: total * (1 - w), pb };
}

const GOOD = 2000;
const BAD = 1000;
const HELD_GOOD = 3000;

function scenario(o: Partial<Scenario> & Pick<Scenario, 'key' | 'weight' | 'sets'>): Scenario {
  const bad = o.bad ?? false;
  return {
    errorMult: 1,
    latency: 'same',
    heavy: false,
    ratio: false,
    traffic: 'flat',
    split: 'exact',
    bursts: 'none',
    dispersion: null,
    runs: bad ? BAD : GOOD,
    ...o,
    bad,
  };
}

export const WEIGHTS = [0.01, 0.05, 0.25];

export function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const w of WEIGHTS) {
    const pc = `${w * 100}%`;
    const five = w === 0.05;
    list.push(
      scenario({
        key: `good@${pc}`,
        weight: w,
        heavy: true,
        ratio: five,
        sets: ['errors', 'errorsK15', 'latency', ...(five ? (['errorsA005', 'multi'] as const) : [])],
      }),
    );
    list.push(scenario({ key: `err2x@${pc}`, weight: w, bad: true, errorMult: 2, sets: ['errors', 'errorsK15', ...(five ? (['errorsA005'] as const) : [])] }));
    if (five) list.push(scenario({ key: `err2x-multi@${pc}`, weight: w, bad: true, errorMult: 2, heavy: true, ratio: true, sets: ['multi'] }));
    list.push(scenario({ key: `err5x@${pc}`, weight: w, bad: true, errorMult: 5, sets: ['errors'] }));
    list.push(scenario({ key: `lat1.5x@${pc}`, weight: w, bad: true, latency: 'x1.5', heavy: true, sets: ['latency'] }));
    list.push(scenario({ key: `tail@${pc}`, weight: w, bad: true, latency: 'tail', heavy: true, sets: ['latency'] }));
  }
  const conditions: Array<[string, Partial<Scenario>, SetName[]]> = [
    ['bursty-common', { bursts: 'common' }, ['errors']],
    ['bursty-indep', { bursts: 'independent' }, ['errors']],
    ['diurnal', { traffic: 'diurnal' }, ['errors']],
    ['split-drift', { split: 'drift' }, ['errors', 'pooled']],
    ['cv10', { dispersion: { cv: 0.1, minutes: 'aligned' } }, ['errors']],
    ['cv25', { dispersion: { cv: 0.25, minutes: 'aligned' } }, ['errors']],
    ['cv50', { dispersion: { cv: 0.5, minutes: 'aligned' } }, ['errors']],
    ['cv50-offset', { dispersion: { cv: 0.5, minutes: 'offset' } }, ['errors']],
    ['daily', { traffic: 'daily' }, ['errors']],
    ['daily-cv50', { traffic: 'daily', dispersion: { cv: 0.5, minutes: 'aligned' } }, ['errors']],
  ];
  for (const [name, o, sets] of conditions) {
    // The cases issue 13 holds to ≤ 1% false rollbacks get 3,000 good canaries: ours realises 0.3–0.4% there, whose 95%
    // upper bound at 3,000 runs is ≈ 0.65%, where 2,000 could not tell 0.7% from 1%. The minutes offset from the blocks
    // come closest (≈ 0.75%): 7,000 to tell it from 1%. (More runs would break JUDGE.md's minute on two cores.)
    const held = o.dispersion !== undefined || o.traffic === 'daily';
    const runs = o.dispersion?.minutes === 'offset' ? 7000 : HELD_GOOD;
    list.push(scenario({ key: `${name}-good@5%`, weight: 0.05, sets, ...o, ...(held ? { runs } : {}) }));
    list.push(scenario({ key: `${name}-2x@5%`, weight: 0.05, bad: true, errorMult: 2, sets, ...o }));
  }
  // Over-dispersion at the other weights: the harm grows with the errors per minute (25%: 30 a minute, 7.5 of them the canary's).
  for (const w of [0.01, 0.25]) {
    const dispersion = { cv: 0.5, minutes: 'aligned' } as const;
    // 25%: ≈ 0.6%, held to ≤ 1% with 5,000; 1% realises ≈ 0.2%, which 2,000 already bound below 1%.
    list.push(scenario({ key: `cv50-good@${w * 100}%`, weight: w, sets: ['errors'], dispersion, ...(w === 0.25 ? { runs: 5000 } : {}) }));
    list.push(scenario({ key: `cv50-2x@${w * 100}%`, weight: w, bad: true, errorMult: 2, sets: ['errors'], dispersion }));
  }
  return list;
}

/**
 * The judges of the benchmark, as per-second observers.
 * - ours: the project's count test (packages/core/src/judge), driven through its exported
 *   interval update (`addIntervalLogLr`) and over-dispersion allowance (`addBlock`,
 *   `temperingFromBlocks`, `temperedMixtureLogE`): the same arithmetic judge() runs, without its
 *   per-look objects. check.ts replays runs through judge() itself and asserts that both fail at
 *   the same second.
 * - poisson: the same test without the allowance (judge() with `dispersion: false`), i.e. the
 *   judge as it was before it: every request independent. It shares ours' likelihood ratios.
 * - naive: "canary rate > 2× baseline rate at the 60 s checkpoint".
 * - kayenta-like: Mann-Whitney U on per-minute aggregates, at 98% confidence, looked at every
 *   5 minutes with no correction for the repeated looks.
 */
import {
  addBlock,
  addIntervalLogLr,
  JUDGE_DEFAULTS,
  mixtureLogE,
  NO_BLOCKS,
  passComponentIndex,
  temperedMixtureLogE,
  temperingFromBlocks,
  type DispersionSums,
  type MixtureComponent,
} from '@glidepath/core';
import { BOUNDS } from './model.ts';

const BLOCK: number = JUDGE_DEFAULTS.dispersion.blockSeconds;
const PASS_LEVEL = Math.log(1 / JUDGE_DEFAULTS.passBeta);

/**
 * One count test, with and without the over-dispersion allowance. `crossed[i]` (Poisson) and
 * `crossedT[i]` (with the allowance) are the first seconds their running maxima reached
 * `levels[i]` (0 = never). Mirrors advanceCountTest: blocks of the analysis clock, closed at
 * the first fold at or after their end; the tempering changes at a block's close and, before
 * the first close, when an interval brings events.
 */
export class FastTest {
  readonly logLr: Float64Array;
  readonly crossed: Int32Array;
  readonly crossedT: Int32Array;
  maxLogE = 0;
  maxLogET = 0;
  canaryEvents = 0;
  /** First second the pass test (judge(): a 2× regression ruled out at β, ≥ 500 canary requests, no crossing) passed; 0 = never. */
  passedAt = 0;
  private readonly passIndex: number;
  private passTempering = 1;
  private held = [0, 0, 0, 0];
  private startedAt = 0;
  private blockEnd: number = BLOCK;
  // the block under way: canary requests and events, baseline requests and events
  private bnc = 0;
  private bxc = 0;
  private bnb = 0;
  private bxb = 0;
  private sums: DispersionSums = NO_BLOCKS;
  private tempering: number[];

  constructor(
    private readonly mixture: readonly MixtureComponent[],
    private readonly tolerance: number,
    private readonly levels: readonly number[],
  ) {
    this.logLr = new Float64Array(mixture.length);
    this.crossed = new Int32Array(levels.length);
    this.crossedT = new Int32Array(levels.length);
    this.tempering = mixture.map(() => 1);
    this.passIndex = passComponentIndex(mixture);
  }

  /** A test that starts counting after second t (a latency warm-up's end). */
  start(t: number): void {
    this.startedAt = t;
    this.blockEnd = (Math.floor(t / BLOCK) + 1) * BLOCK;
  }

  /** True while an interval is held back (events on a side with no requests: never in the simulation). */
  get holding(): boolean {
    return this.held[1]! + this.held[3]! > 0;
  }

  /** Lazy mode: error-free requests of earlier quiet seconds of the block under way, drawn now. */
  addRequests(nc: number, nb: number): void {
    this.bnc += nc;
    this.bnb += nb;
  }

  /** One interval (second t); returns true when a level was crossed for the first time. */
  add(t: number, nc: number, xc: number, nb: number, xb: number): boolean {
    const h = this.held;
    if (h[0]! + h[1]! + h[2]! + h[3]! > 0) {
      nc += h[0]!;
      xc += h[1]!;
      nb += h[2]!;
      xb += h[3]!;
      this.held = [0, 0, 0, 0];
    }
    if ((xc > 0 && nc <= 0) || (xb > 0 && nb <= 0)) {
      this.held = [nc, xc, nb, xb];
      return false;
    }
    this.bnc += nc;
    this.bxc += xc;
    this.bnb += nb;
    this.bxb += xb;
    const events = xc + xb > 0;
    if (events) {
      addIntervalLogLr(this.logLr, this.mixture, this.tolerance, nc, xc, nb, xb);
      this.canaryEvents += xc;
    }
    let tempered = false;
    if (t >= this.blockEnd) {
      this.close(t);
      tempered = true;
    } else if (this.sums.blocks === 0 && events && t > this.startedAt) {
      const block = { canary: { total: this.bnc, events: this.bxc }, baseline: { total: this.bnb, events: this.bxb } };
      ({ tempering: this.tempering, pass: this.passTempering } = temperingFromBlocks(
        this.sums,
        { block, fraction: (t - this.startedAt) / BLOCK },
        this.tolerance,
        this.mixture,
      ));
      tempered = true;
    }
    return events || tempered ? this.evaluate(t, events) : false;
  }

  /** A second with nothing to fold (lazy mode's quiet seconds): only a block's end can change the e-value. */
  tick(t: number): boolean {
    if (t < this.blockEnd || this.holding) return false;
    this.close(t);
    return this.evaluate(t, false);
  }

  private close(t: number): void {
    this.sums = addBlock(this.sums, this.bnc, this.bxc, this.bnb, this.bxb);
    this.bnc = this.bxc = this.bnb = this.bxb = 0;
    this.blockEnd = (Math.floor(t / BLOCK) + 1) * BLOCK;
    ({ tempering: this.tempering, pass: this.passTempering } = temperingFromBlocks(this.sums, null, this.tolerance, this.mixture));
  }

  private evaluate(t: number, logLrChanged: boolean): boolean {
    // A mixture's log e-value is ≤ max_j (its component's log value) (weights sum to 1): skip it when it cannot set a new maximum.
    if (logLrChanged) {
      let top = -Infinity;
      for (let j = 0; j < this.logLr.length; j++) top = Math.max(top, this.logLr[j]!);
      if (top > this.maxLogE) this.maxLogE = Math.max(this.maxLogE, mixtureLogE(this.logLr, this.mixture));
    }
    let topT = -Infinity;
    for (let j = 0; j < this.logLr.length; j++) topT = Math.max(topT, this.tempering[j]! * this.logLr[j]!);
    if (topT > this.maxLogET) this.maxLogET = Math.max(this.maxLogET, temperedMixtureLogE(this.logLr, this.tempering, this.mixture));
    if (
      this.passedAt === 0 &&
      this.crossedT[0] === 0 &&
      this.maxLogET < this.levels[0]! &&
      this.sums.canary.total + this.bnc >= JUDGE_DEFAULTS.minCanaryRequests &&
      -this.passTempering * this.logLr[this.passIndex]! >= PASS_LEVEL
    )
      this.passedAt = t;
    if (this.canaryEvents < JUDGE_DEFAULTS.minCanaryEventsToFail) return false;
    let fired = false;
    for (let i = 0; i < this.levels.length; i++) {
      if (this.crossed[i] === 0 && this.maxLogE >= this.levels[i]!) {
        this.crossed[i] = t;
        fired = true;
      }
      if (this.crossedT[i] === 0 && this.maxLogET >= this.levels[i]!) {
        this.crossedT[i] = t;
        fired = true;
      }
    }
    return fired;
  }
}

/**
 * The stateless alternative, for contrast: one binomial test on the cumulative counts, i.e.
 * θ0 from the pooled split (what judge() would compute if called without its state).
 */
export class PooledTest {
  maxLogE = 0;
  crossed = 0;
  private readonly logLr: Float64Array;
  constructor(
    private readonly mixture: readonly MixtureComponent[],
    private readonly level: number,
  ) {
    this.logLr = new Float64Array(mixture.length);
  }
  add(t: number, nc: number, xc: number, nb: number, xb: number): boolean {
    this.logLr.fill(0);
    addIntervalLogLr(this.logLr, this.mixture, 1, nc, xc, nb, xb);
    this.maxLogE = Math.max(this.maxLogE, mixtureLogE(this.logLr, this.mixture));
    if (this.crossed === 0 && xc >= JUDGE_DEFAULTS.minCanaryEventsToFail && this.maxLogE >= this.level) this.crossed = t;
    return this.crossed === t;
  }
}

/** Naive: fail when the canary's rate exceeds twice the baseline's (a zero baseline rate fails any canary event). */
export function naiveFails(canaryEvents: number, canaryTotal: number, baselineEvents: number, baselineTotal: number): boolean {
  if (canaryTotal <= 0 || baselineTotal <= 0) return false;
  return canaryEvents / canaryTotal > (2 * baselineEvents) / baselineTotal;
}

/** Two-sided 98% confidence → fail when z > z(0.99) in the canary's bad direction. */
const Z_98 = 2.3263479;

/** Mann-Whitney U (normal approximation, tie-corrected): true when the canary's values are significantly higher. */
export function mannWhitneyFails(canary: readonly number[], baseline: readonly number[]): boolean {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 < 2 || n2 < 2) return false;
  const a = Float64Array.from(canary).sort();
  const b = Float64Array.from(baseline).sort();
  // Merge the two sorted samples, giving each run of tied values its average rank.
  let rankSum = 0;
  let ties = 0;
  let i = 0;
  let j = 0;
  let rank = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let ca = 0;
    let cb = 0;
    for (; i < n1 && a[i] === v; i++) ca++;
    for (; j < n2 && b[j] === v; j++) cb++;
    const m = ca + cb;
    rankSum += ca * (rank + (m + 1) / 2);
    ties += m * m * m - m;
    rank += m;
  }
  const n = n1 + n2;
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return false;
  return (u - (n1 * n2) / 2) / Math.sqrt(variance) > Z_98;
}

/** histogram_quantile over the simulated buckets: linear within the bucket, the +Inf bucket clamps to the last bound. */
export function binQuantile(bins: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < bins.length; i++) total += bins[i]!;
  if (total <= 0) return NaN;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < bins.length; i++) {
    const c = bins[i]!;
    if (cum + c >= rank && c > 0) {
      if (i >= BOUNDS.length) return BOUNDS.at(-1)!;
      const lo = i === 0 ? 0 : BOUNDS[i - 1]!;
      return lo + ((BOUNDS[i]! - lo) * (rank - cum)) / c;
    }
    cum += c;
  }
  return BOUNDS.at(-1)!;
}

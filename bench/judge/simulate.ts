/**
 * One simulated canary analysis, second by second, with all judges looking at the same streams.
 *
 * Streams: per second, per version, requests ~ Poisson, errors ~ Binomial(requests, p), latency
 * as bucket counts (independent Poisson per bucket, which is exactly a Poisson stream of
 * lognormal latencies). Cost control, with no change in what the judges see:
 * - after the first minute, latency buckets are drawn only in the three groups that the judges
 *   use per second (≤ median threshold, up to the p95 threshold, above); the per-minute
 *   histogram the Kayenta-like judge needs is then split from the minute's group totals
 *   (a multinomial: exact in law; large splits use a normal approximation);
 * - a run stops once every judge has decided (failed, or can no longer fail).
 */
import { chooseLatencyThresholds, DEFAULT_MIXTURE, JUDGE_DEFAULTS, type Counts, type Histogram } from '@glidepath/core';
import { binQuantile, FastTest, mannWhitneyFails, naiveFails, PooledTest } from './judges.ts';
import { ALPHA, binProbabilities, BOUNDS, BURST, HORIZON, NBINS, RATIO_P, RATIO_SHARE, ratesAt, type Scenario, type SetName } from './model.ts';
import { binomialSampler, geometric, poissonSampler, type BinomialSampler, type PoissonSampler, Rng } from './random.ts';

/** ours: the judge with its over-dispersion allowance; poisson: the same without it (the judge before the allowance). */
export type JudgeName = 'ours' | 'poisson' | 'naive' | 'kayenta';
export interface Slot {
  readonly set: SetName;
  readonly judge: JudgeName;
}

/** Variants of our judge: naive and Kayenta-like do not change with them. */
export const OURS_ONLY: readonly SetName[] = ['errorsK15', 'errorsA005', 'pooled'];

/** The judges reported for a set: pooled (the stateless call) only as the Poisson test, for contrast. */
export function judgesOf(set: SetName): readonly JudgeName[] {
  return set === 'pooled' ? ['poisson'] : OURS_ONLY.includes(set) ? ['ours', 'poisson'] : ['ours', 'poisson', 'naive', 'kayenta'];
}

/** The (set, judge) pairs a scenario reports; each takes SLOT_WIDTH numbers per run. */
export function slotsOf(s: Scenario): Slot[] {
  return s.sets.flatMap((set): Slot[] => judgesOf(set).map((judge) => ({ set, judge })));
}
/**
 * [second of detection (-1 = never), canary requests by then, bad events served by then, second of a pass (-1 = never;
 * errors only: ours' pass test, and for the judge before it the 500th canary request with no crossing, its pass rule)].
 */
export const SLOT_WIDTH = 4;

/** What judge() would be given at the end of second t (check.ts). */
export interface Snapshot {
  readonly t: number;
  readonly errors: { canary: Counts; baseline: Counts };
  readonly ratio: { canary: Counts; baseline: Counts } | null;
  readonly latency: { canary: Histogram; baseline: Histogram } | null;
}

interface Prepared {
  lc: Float64Array;
  lb: Float64Array;
  pb: Float64Array;
  qc: Float64Array;
  qb: Float64Array;
  /** Heavy, first minute: one sampler per bucket and side. */
  binC: PoissonSampler[];
  binB: PoissonSampler[];
  /** The ratio metric's denominators. */
  attC: PoissonSampler;
  attB: PoissonSampler;
}
const prepared = new Map<string, Prepared>();
function prepare(s: Scenario): Prepared {
  let p = prepared.get(s.key);
  if (!p) {
    const qc = binProbabilities(s.latency);
    const qb = binProbabilities('same');
    const { lc, lb } = ratesAt(s, 1);
    const binC = Array.from(qc, (q) => poissonSampler(lc * q));
    const binB = Array.from(qb, (q) => poissonSampler(lb * q));
    p = {
      lc: new Float64Array(HORIZON + 1),
      lb: new Float64Array(HORIZON + 1),
      pb: new Float64Array(HORIZON + 1),
      qc,
      qb,
      binC,
      binB,
      attC: poissonSampler(lc * RATIO_SHARE),
      attB: poissonSampler(lb * RATIO_SHARE),
    };
    for (let t = 1; t <= HORIZON; t++) {
      const r = ratesAt(s, t);
      p.lc[t] = r.lc;
      p.lb[t] = r.lb;
      p.pb[t] = r.pb;
    }
    prepared.set(s.key, p);
  }
  return p;
}

export function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

const L = (k: number) => Math.log(k / ALPHA);
const WARMUP = JUDGE_DEFAULTS.latencyWarmupRequests; // baseline requests
const SLOW_BIN = BOUNDS.indexOf(125);

const cumulative = (bins: ArrayLike<number>): Histogram => {
  let c = 0;
  return { buckets: Array.from({ length: NBINS }, (_, i) => ({ le: i < BOUNDS.length ? BOUNDS[i]! : Infinity, count: (c += bins[i]!) })) };
};
const sumAbove = (bins: ArrayLike<number>, j: number) => {
  let s = 0;
  for (let i = j + 1; i < NBINS; i++) s += bins[i]!;
  return s;
};

/** A minute's bucket counts from its group totals: a multinomial split within each group. */
function splitGroups(rng: Rng, groups: Float64Array, q: Float64Array, qGroup: Float64Array, groupOf: Int32Array): Float64Array {
  const bins = new Float64Array(NBINS);
  for (let g = 0; g < 3; g++) {
    let left = groups[g]!;
    let mass = qGroup[g]!;
    for (let i = 0; i < NBINS && left > 0; i++) {
      if (groupOf[i] !== g) continue;
      const x = mass > q[i]! ? rng.binomial(left, q[i]! / mass) : left;
      bins[i] = x;
      left -= x;
      mass -= q[i]!;
    }
  }
  return bins;
}

const MIX = DEFAULT_MIXTURE;

/** The state of one run. A class with fields (not closures over locals) keeps V8 from boxing the counters. */
class Run {
  readonly rng: Rng;
  readonly P: Prepared;
  readonly out: Float64Array;
  readonly done: Uint8Array;
  undecided: number;
  readonly slot: Record<`${SetName}/${JudgeName}`, number>;
  readonly lazy: boolean;
  // Our tests and their Bonferroni levels: errors alone ln(1/α) (ln(2/α) for the α = 0.005 variant); latency alone
  // (2 thresholds) ln(2/α) each; 3 metrics ln(3/α), latency among them ln(6/α).
  readonly E = new FastTest(MIX, 1, [L(1), L(3), L(2)]);
  readonly E15: FastTest | null;
  readonly Lm: FastTest | null;
  readonly Lt: FastTest | null;
  readonly R: FastTest | null;
  readonly Pooled: PooledTest | null;
  // cumulative counts (canary C, baseline B): requests, errors, slow canary requests, ratio attempts/declines
  cnC = 0;
  cnB = 0;
  ceC = 0;
  ceB = 0;
  cslowC = 0;
  caC = 0;
  caB = 0;
  cdC = 0;
  cdB = 0;
  // the current minute's counts
  mnC = 0;
  mnB = 0;
  meC = 0;
  meB = 0;
  maC = 0;
  maB = 0;
  mdC = 0;
  mdB = 0;
  /** Lazy mode: Poisson means of error-free requests not drawn yet. */
  pendC = 0;
  pendB = 0;
  burstC = false;
  burstB = false;
  /** Over-dispersion: this minute's multipliers of each version's error rate, and the second the minutes start at (1–60). */
  epsC = 1;
  epsB = 1;
  readonly minuteStart: number;
  /** Next second at which each version's burst state flips (geometric waiting times, same law as a per-second coin). */
  flipC = 0;
  flipB = 0;
  /** exp(−mean) of the last per-second error mean (lazy mode), cached: it rarely changes. */
  lastMean = -1;
  lastExp = 1;
  /** Lazy mode: this second's error-free requests, samplers kept while their mean does not change (not diurnal). */
  okC = poissonSampler(0);
  okB = poissonSampler(0);
  /** Heavy scenarios have constant error probabilities. */
  readonly errC: BinomialSampler;
  readonly errB: BinomialSampler;
  readonly declines = binomialSampler(RATIO_P);
  readonly hC = new Float64Array(NBINS); // cumulative buckets, first minute only
  readonly hB = new Float64Array(NBINS);
  readonly binsC = new Float64Array(NBINS);
  readonly binsB = new Float64Array(NBINS);
  readonly mgC = new Float64Array(3); // the minute's group counts
  readonly mgB = new Float64Array(3);
  readonly qcG = new Float64Array(3);
  readonly qbG = new Float64Array(3);
  groupC: PoissonSampler[] = [];
  groupB: PoissonSampler[] = [];
  /** Bucket indices of the latency thresholds (median, p95), once the warm-up is over. */
  thr: Int32Array | null = null;
  groupOf = new Int32Array(NBINS);
  readonly cumAboveC = new Float64Array(2); // for snapshots
  readonly cumAboveB = new Float64Array(2);
  readonly series = { eC: [] as number[], eB: [] as number[], lC: [] as number[], lB: [] as number[], rC: [] as number[], rB: [] as number[] };
  kE = 0;
  kL = 0;
  kR = 0;

  constructor(
    readonly s: Scenario,
    run: number,
    eager: boolean,
  ) {
    this.rng = new Rng(hashKey(s.key), run, 20261123);
    this.P = prepare(s);
    const slots = slotsOf(s);
    this.slot = Object.fromEntries(
      (['errors', 'errorsK15', 'errorsA005', 'latency', 'multi', 'pooled'] as const).flatMap((set) =>
        (['ours', 'poisson', 'naive', 'kayenta'] as const).map((judge) => [`${set}/${judge}`, slots.findIndex((x) => x.set === set && x.judge === judge)]),
      ),
    ) as Run['slot'];
    this.out = new Float64Array(slots.length * SLOT_WIDTH);
    for (let i = 0; i < slots.length; i++) this.out[i * SLOT_WIDTH] = this.out[i * SLOT_WIDTH + 3] = -1;
    this.done = new Uint8Array(slots.length);
    this.undecided = slots.length;
    const has = (set: SetName) => s.sets.includes(set);
    this.E15 = has('errorsK15') ? new FastTest(MIX, 1.5, [L(1)]) : null;
    this.Lm = s.heavy ? new FastTest(MIX, 1, [L(2), L(6)]) : null;
    this.Lt = s.heavy ? new FastTest(MIX, 1, [L(2), L(6)]) : null;
    this.R = s.ratio ? new FastTest(MIX, 1, [L(3)]) : null;
    this.Pooled = has('pooled') ? new PooledTest(MIX, L(1)) : null;
    this.lazy = !s.heavy && !eager;
    this.errC = binomialSampler(s.errorMult * this.P.pb[1]!);
    this.errB = binomialSampler(this.P.pb[1]!);
    if (s.bursts !== 'none') {
      this.flipC = geometric(this.rng, BURST.start);
      this.flipB = s.bursts === 'common' ? this.flipC : geometric(this.rng, BURST.start);
    }
    this.minuteStart = s.dispersion?.minutes === 'offset' ? 2 + Math.floor(this.rng.next() * 58) : 1;
    if (s.dispersion) this.drawEps();
  }

  /** A new minute of over-dispersion: each version's own multiplier, Gamma(mean 1, cv²). */
  drawEps(): void {
    const shape = 1 / this.s.dispersion!.cv ** 2;
    this.epsC = this.rng.gammaMeanOne(shape);
    this.epsB = this.rng.gammaMeanOne(shape);
  }

  record(i: number, t: number, served: number): void {
    if (i < 0 || this.done[i]) return;
    this.done[i] = 1;
    this.undecided--;
    if (t > 0) this.out.set([t, this.cnC, served], i * SLOT_WIDTH);
  }

  /** The errors set's passes (see SLOT_WIDTH); `t500` is the second the canary's expected requests reach 500. */
  recordPasses(t500: number): void {
    const ours = this.slot['errors/ours'];
    const before = this.slot['errors/poisson'];
    if (ours >= 0 && this.E.passedAt > 0) this.out[ours * SLOT_WIDTH + 3] = this.E.passedAt;
    const crossed = this.E.crossed[0]!;
    if (before >= 0 && t500 > 0 && (crossed === 0 || crossed > t500)) this.out[before * SLOT_WIDTH + 3] = t500;
  }

  /** Lazy mode: draw the pending error-free requests. */
  flush(): void {
    const c = this.rng.poisson(this.pendC),
      b = this.rng.poisson(this.pendB);
    this.cnC += c;
    this.cnB += b;
    this.mnC += c;
    this.mnB += b;
    this.pendC = this.pendB = 0;
    this.E.addRequests(c, b);
    this.E15?.addRequests(c, b);
  }

  second(t: number): void {
    const { s, P, rng } = this;
    const lc = P.lc[t]!,
      lb = P.lb[t]!;
    let pb = P.pb[t]!;
    if (t === this.flipC) {
      this.burstC = !this.burstC;
      this.flipC = t + geometric(rng, this.burstC ? BURST.stop : BURST.start);
    }
    if (s.bursts === 'common') this.burstB = this.burstC;
    else if (t === this.flipB) {
      this.burstB = !this.burstB;
      this.flipB = t + geometric(rng, this.burstB ? BURST.stop : BURST.start);
    }
    if (s.dispersion && t > 1 && (t - this.minuteStart) % 60 === 0) this.drawEps();
    const pc = Math.min(1, s.errorMult * pb * (this.burstC ? BURST.mult : 1) * this.epsC);
    pb = Math.min(1, pb * (this.burstB ? BURST.mult : 1) * this.epsB);

    let nc = 0,
      nb = 0,
      ec = 0,
      eb = 0,
      slowC = 0,
      aC0 = 0,
      aB0 = 0,
      aC1 = 0,
      aB1 = 0;
    let quiet = false; // lazy mode, a second without errors: its requests stay pending
    const thr = this.thr;
    if (s.heavy && t <= 60) {
      const { binsC, binsB } = this;
      for (let i = 0; i < NBINS; i++) {
        nc += binsC[i] = P.binC[i]!.sample(rng);
        nb += binsB[i] = P.binB[i]!.sample(rng);
        this.hC[i]! += binsC[i]!;
        this.hB[i]! += binsB[i]!;
      }
      if (thr) {
        aC0 = sumAbove(binsC, thr[0]!);
        aB0 = sumAbove(binsB, thr[0]!);
        aC1 = sumAbove(binsC, thr[1]!);
        aB1 = sumAbove(binsB, thr[1]!);
      }
      slowC = sumAbove(binsC, thr ? thr[1]! : SLOW_BIN);
    } else if (s.heavy) {
      const g0c = this.groupC[0]!.sample(rng),
        g1c = this.groupC[1]!.sample(rng),
        g2c = this.groupC[2]!.sample(rng);
      const g0b = this.groupB[0]!.sample(rng),
        g1b = this.groupB[1]!.sample(rng),
        g2b = this.groupB[2]!.sample(rng);
      nc = g0c + g1c + g2c;
      nb = g0b + g1b + g2b;
      const { mgC, mgB } = this;
      mgC[0]! += g0c;
      mgC[1]! += g1c;
      mgC[2]! += g2c;
      mgB[0]! += g0b;
      mgB[1]! += g1b;
      mgB[2]! += g2b;
      aC0 = g1c + g2c;
      aB0 = g1b + g2b;
      aC1 = slowC = g2c;
      aB1 = g2b;
    } else if (this.lazy) {
      // Errors and error-free requests are independent Poisson streams (thinning): draw the errors
      // every second, the error-free requests only when a judge needs them (an error second, a
      // minute's end), as one Poisson draw for the whole pending stretch.
      const mc = lc * pc;
      const mb = lb * pb;
      if (mc + mb !== this.lastMean) this.lastExp = Math.exp(-(this.lastMean = mc + mb));
      if (rng.next() >= this.lastExp) {
        do {
          ec = rng.poisson(mc);
          eb = rng.poisson(mb);
        } while (ec + eb === 0);
      }
      if (ec + eb > 0 || this.E.holding || this.E15?.holding) {
        this.flush();
        if (s.traffic !== 'flat' || s.dispersion) {
          // Means that change every second or minute: one-off draws (a sampler per mean would pile up tables).
          nc = ec + rng.poisson(lc - mc);
          nb = eb + rng.poisson(lb - mb);
        } else {
          if (this.okC.mean !== lc - mc) this.okC = poissonSampler(lc - mc);
          if (this.okB.mean !== lb - mb) this.okB = poissonSampler(lb - mb);
          nc = ec + this.okC.sample(rng);
          nb = eb + this.okB.sample(rng);
        }
      } else {
        this.pendC += lc - mc;
        this.pendB += lb - mb;
        quiet = true;
      }
    } else {
      nc = rng.poisson(lc);
      nb = rng.poisson(lb);
    }
    if (s.heavy) {
      ec = this.errC.sample(rng, nc);
      eb = this.errB.sample(rng, nb);
    } else if (!this.lazy) {
      ec = rng.binomial(nc, pc);
      eb = rng.binomial(nb, pb);
    }
    this.cnC += nc;
    this.cnB += nb;
    this.ceC += ec;
    this.ceB += eb;
    this.cslowC += slowC;
    this.mnC += nc;
    this.mnB += nb;
    this.meC += ec;
    this.meB += eb;

    const { E, E15, Lm, Lt, R, Pooled } = this;
    let fired = !quiet && E.add(t, nc, ec, nb, eb);
    if (E15 && !quiet && E15.add(t, nc, ec, nb, eb)) fired = true;
    // Pooled: in lazy mode looked at on error seconds only (its requests are not drawn in between).
    if (Pooled && !quiet && Pooled.add(t, this.cnC, this.ceC, this.cnB, this.ceB)) fired = true;
    if (s.heavy) {
      if (thr) {
        if (Lm!.add(t, nc, aC0, nb, aB0)) fired = true;
        if (Lt!.add(t, nc, aC1, nb, aB1)) fired = true;
        this.cumAboveC[0]! += aC0;
        this.cumAboveB[0]! += aB0;
        this.cumAboveC[1]! += aC1;
        this.cumAboveB[1]! += aB1;
      } else if (this.cnB >= WARMUP) this.endWarmup(t, lc, lb);
      else if (t === 60) throw new Error('latency warm-up did not finish in the first minute');
    }
    if (R) {
      const ac = P.attC.sample(rng);
      const ab = P.attB.sample(rng);
      const dc = this.declines.sample(rng, ac);
      const db = this.declines.sample(rng, ab);
      this.caC += ac;
      this.caB += ab;
      this.cdC += dc;
      this.cdB += db;
      this.maC += ac;
      this.maB += ab;
      this.mdC += dc;
      this.mdB += db;
      if (R.add(t, ac, dc, ab, db)) fired = true;
    }

    if (fired) this.recordOurs(t);
  }

  /** Our judges' detections so far (with the allowance: crossedT; the Poisson test: crossed). */
  recordOurs(t: number): void {
    const { slot, E, E15, Lm, Lt, R, Pooled } = this;
    for (const [judge, c] of [
      ['ours', (x: FastTest) => x.crossedT],
      ['poisson', (x: FastTest) => x.crossed],
    ] as const) {
      if (c(E)[0]) this.record(slot[`errors/${judge}`], t, this.ceC);
      if (E15 && c(E15)[0]) this.record(slot[`errorsK15/${judge}`], t, this.ceC);
      if (c(E)[2]) this.record(slot[`errorsA005/${judge}`], t, this.ceC);
      if (Lm && (c(Lm)[0] || c(Lt!)[0])) this.record(slot[`latency/${judge}`], t, this.cslowC);
      if (c(E)[1] || (Lm && c(Lm)[1]) || (Lt && c(Lt)[1]) || (R && c(R)[0])) this.record(slot[`multi/${judge}`], t, this.ceC);
    }
    if (Pooled?.crossed) this.record(slot['pooled/poisson'], t, this.ceC);
  }

  /** Warm-up over: thresholds fixed from the baseline's histogram so far, tested from the next second. */
  endWarmup(t: number, lc: number, lb: number): void {
    this.Lm!.start(t);
    this.Lt!.start(t);
    const th = chooseLatencyThresholds(cumulative(this.hB));
    if (th.median === null || th.tail === null) throw new Error('bench buckets must give two thresholds');
    const thr = (this.thr = Int32Array.of(BOUNDS.indexOf(th.median), BOUNDS.indexOf(th.tail)));
    for (let i = 0; i < NBINS; i++) {
      const g = (this.groupOf[i] = i <= thr[0]! ? 0 : i <= thr[1]! ? 1 : 2);
      this.qcG[g]! += this.P.qc[i]!;
      this.qbG[g]! += this.P.qb[i]!;
    }
    this.groupC = Array.from(this.qcG, (q) => poissonSampler(lc * q));
    this.groupB = Array.from(this.qbG, (q) => poissonSampler(lb * q));
    for (let k = 0; k < 2; k++) {
      this.cumAboveC[k] = sumAbove(this.hC, thr[k]!);
      this.cumAboveB[k] = sumAbove(this.hB, thr[k]!);
    }
  }

  /** End of a minute: per-minute aggregates, the naive checkpoint, the Kayenta-like looks. */
  minute(t: number): void {
    const { s, series, slot, R } = this;
    if (this.lazy) this.flush();
    // A block ends with the minute: a test that saw nothing this second closes it now (judge() would, at this look).
    let fired = false;
    for (const test of [this.E, this.E15, this.Lm, this.Lt, R]) if (test?.tick(t)) fired = true;
    if (fired) this.recordOurs(t);
    if (this.mnC > 0) series.eC.push(this.meC / this.mnC);
    if (this.mnB > 0) series.eB.push(this.meB / this.mnB);
    if (s.heavy) {
      const pC = binQuantile(t === 60 ? this.hC : splitGroups(this.rng, this.mgC, this.P.qc, this.qcG, this.groupOf), 0.95);
      const pB = binQuantile(t === 60 ? this.hB : splitGroups(this.rng, this.mgB, this.P.qb, this.qbG, this.groupOf), 0.95);
      if (!Number.isNaN(pC)) series.lC.push(pC);
      if (!Number.isNaN(pB)) series.lB.push(pB);
      this.mgC.fill(0);
      this.mgB.fill(0);
    }
    if (R) {
      if (this.maC > 0) series.rC.push(this.mdC / this.maC);
      if (this.maB > 0) series.rB.push(this.mdB / this.maB);
    }
    this.mnC = this.mnB = this.meC = this.meB = this.maC = this.maB = this.mdC = this.mdB = 0;

    if (t === 60) {
      const nE = naiveFails(this.ceC, this.cnC, this.ceB, this.cnB);
      const tail = s.heavy ? BOUNDS.indexOf(chooseLatencyThresholds(cumulative(this.hB)).tail ?? 125) : 0;
      const nL = s.heavy && naiveFails(sumAbove(this.hC, tail), this.cnC, sumAbove(this.hB, tail), this.cnB);
      const nR = R !== null && naiveFails(this.cdC, this.caC, this.cdB, this.caB);
      this.record(slot['errors/naive'], nE ? t : -1, this.ceC);
      this.record(slot['latency/naive'], nL ? t : -1, this.cslowC);
      this.record(slot['multi/naive'], nE || nL || nR ? t : -1, this.ceC);
    }
    if (t % 300 === 0) {
      if (!this.kE && mannWhitneyFails(series.eC, series.eB)) this.kE = t;
      if (s.heavy && !this.kL && mannWhitneyFails(series.lC, series.lB)) this.kL = t;
      if (R && !this.kR && mannWhitneyFails(series.rC, series.rB)) this.kR = t;
      if (this.kE) this.record(slot['errors/kayenta'], this.kE, this.ceC);
      if (this.kL) this.record(slot['latency/kayenta'], this.kL, this.cslowC);
      const kM = [this.kE, this.kL, this.kR].filter((x) => x > 0);
      if (kM.length > 0) this.record(slot['multi/kayenta'], Math.min(...kM), this.ceC);
    }
  }

  /** What judge() would be given now: after the warm-up, the histogram's buckets at the thresholds. */
  snapshot(t: number): Snapshot {
    const thr = this.thr;
    const hist = (bins: Float64Array, above: Float64Array, total: number): Histogram =>
      thr
        ? {
            buckets: [
              { le: BOUNDS[thr[0]!]!, count: total - above[0]! },
              { le: BOUNDS[thr[1]!]!, count: total - above[1]! },
              { le: Infinity, count: total },
            ],
          }
        : cumulative(bins);
    return {
      t,
      errors: { canary: { total: this.cnC, events: this.ceC }, baseline: { total: this.cnB, events: this.ceB } },
      ratio: this.R ? { canary: { total: this.caC, events: this.cdC }, baseline: { total: this.caB, events: this.cdB } } : null,
      latency: this.s.heavy ? { canary: hist(this.hC, this.cumAboveC, this.cnC), baseline: hist(this.hB, this.cumAboveB, this.cnB) } : null,
    };
  }
}

/** Simulates one run; `onSecond` (check.ts) sees the cumulative counts after every second. */
export function simulateRun(s: Scenario, run: number, onSecond?: (snap: Snapshot) => void): Float64Array {
  const r = new Run(s, run, onSecond !== undefined);
  let expected = 0;
  let t500 = 0;
  for (let t = 1; t <= HORIZON; t++) {
    r.second(t);
    if (t % 60 === 0) r.minute(t);
    onSecond?.(r.snapshot(t));
    if (!t500 && (expected += ratesAt(s, t).lc) >= JUDGE_DEFAULTS.minCanaryRequests) t500 = t;
    if (r.undecided === 0) break;
  }
  r.recordPasses(t500);
  return r.out;
}

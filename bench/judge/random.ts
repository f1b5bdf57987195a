/**
 * Seeded random numbers for the judge benchmark: sfc32 (fast, 128-bit state, passes
 * PractRand) plus the samplers the simulation needs. Every run derives its own generator from
 * (case, weight, run) so that results do not depend on which worker ran it.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seed: number[]) {
    // splitmix32 over the seed words fills the state; then discard a few outputs.
    let h = 0x9e3779b9;
    const mix = () => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      for (const s of seed) z = Math.imul(z ^ s, 0x85ebca6b) ^ (z >>> 13);
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  normal(): number {
    // Box-Muller; one of the pair is dropped (simplicity over speed, used rarely).
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Poisson(mean), exact: inversion below 12, PTRS above. For a mean drawn many times, keep a PoissonSampler. */
  poisson(mean: number): number {
    if (mean < 12) return this.poissonInversion(mean, Math.exp(-mean));
    return ptrs(this, mean);
  }

  poissonInversion(mean: number, expNeg: number): number {
    let k = 0;
    let p = expNeg;
    let cdf = p;
    const u = this.next();
    while (u > cdf && p > 0) {
      k++;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }

  /** Binomial(n, p) by inversion: the simulation only draws it with small n·p. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n * p > 30) return Math.max(0, Math.min(n, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * this.normal())));
    const q = p / (1 - p);
    let pk = Math.pow(1 - p, n);
    let cdf = pk;
    let k = 0;
    const u = this.next();
    while (u > cdf && k < n) {
      pk *= (q * (n - k)) / (k + 1);
      k++;
      cdf += pk;
    }
    return k;
  }

  /** Gamma(shape, scale 1/shape): mean 1, variance 1/shape (Marsaglia-Tsang; boosted for shape < 1). */
  gammaMeanOne(shape: number): number {
    const boost = shape < 1 ? Math.pow(this.next(), 1 / shape) : 1;
    const d = (shape < 1 ? shape + 1 : shape) - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (boost * d * v) / shape;
    }
  }
}

/**
 * Poisson(mean) for a mean drawn many times: inversion on a precomputed CDF table with a guide
 * table (Chen & Asau), one uniform and one or two comparisons per draw; PTRS above a mean of
 * 1000. Both exact (up to the CDF's floating-point rounding).
 */
export class PoissonSampler {
  private readonly cdf: Float64Array | null = null;
  private readonly guide: Int32Array | null = null;

  constructor(readonly mean: number) {
    if (!(mean >= 0 && mean <= 1000)) return;
    const cdf: number[] = [];
    let logP = -mean;
    let c = 0;
    // Terms from the log pmf (no underflow at large means), until the CDF reaches 1 to double precision.
    for (let k = 0; c < 1 - 1e-16 && k < mean + 40 * Math.sqrt(mean) + 40;) {
      c += Math.exp(logP);
      cdf.push(c);
      k++;
      logP += Math.log(mean) - Math.log(k);
    }
    cdf[cdf.length - 1] = 1;
    this.cdf = Float64Array.from(cdf);
    this.guide = new Int32Array(Math.max(16, cdf.length));
    for (let i = 0, j = 0; i < this.guide.length; i++) {
      while (cdf[j]! < i / this.guide.length) j++;
      this.guide[i] = j;
    }
  }

  sample(rng: Rng): number {
    const { cdf, guide } = this;
    if (!cdf || !guide) return ptrs(rng, this.mean);
    const u = rng.next();
    let k = guide[Math.floor(u * guide.length)]!;
    while (cdf[k]! < u) k++;
    return k;
  }
}

/** Binomial(n, p) for a fixed p and small n·p, by inversion; (1 − p)^n comes from a table. */
export class BinomialSampler {
  private readonly odds: number;
  private readonly none: Float64Array;
  constructor(private readonly p: number) {
    this.odds = p / (1 - p);
    this.none = Float64Array.from({ length: 1024 }, (_, n) => Math.exp(n * Math.log1p(-p)));
  }
  sample(rng: Rng, n: number): number {
    if (n <= 0 || this.p <= 0) return 0;
    if (n >= this.none.length || n * this.p > 30) return rng.binomial(n, this.p);
    let pk = this.none[n]!;
    let cdf = pk;
    let k = 0;
    const u = rng.next();
    while (u > cdf && k < n) {
      pk *= (this.odds * (n - k)) / (k + 1);
      k++;
      cdf += pk;
    }
    return k;
  }
}

const poissonSamplers = new Map<number, PoissonSampler>();
const binomialSamplers = new Map<number, BinomialSampler>();
/** Shared samplers per mean / probability: their tables are built once per worker. */
export function poissonSampler(mean: number): PoissonSampler {
  let s = poissonSamplers.get(mean);
  if (!s) poissonSamplers.set(mean, (s = new PoissonSampler(mean)));
  return s;
}
export function binomialSampler(p: number): BinomialSampler {
  let s = binomialSamplers.get(p);
  if (!s) binomialSamplers.set(p, (s = new BinomialSampler(p)));
  return s;
}

/** Seconds until an event of per-second probability q first happens (≥ 1): the geometric law. */
export function geometric(rng: Rng, q: number): number {
  return Math.floor(Math.log(1 - rng.next()) / Math.log1p(-q)) + 1;
}

/** PTRS (Hörmann 1993) for a one-off Poisson draw with a large mean. */
function ptrs(rng: Rng, mean: number): number {
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) return k;
  }
}

const LOG_FACT: number[] = [0];
for (let i = 1; i < 256; i++) LOG_FACT.push(LOG_FACT[i - 1]! + Math.log(i));

/** ln k!, from a table below 256 and Stirling's series above. */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACT[k]!;
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}

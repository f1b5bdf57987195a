/** Helpers shared by the judge's tests (not exported from the package). */
import type { Histogram } from './latency.ts';

/** Cumulative histogram from per-bucket counts, bounds in ms. */
export function histogram(bounds: readonly number[], counts: readonly number[]): Histogram {
  let c = 0;
  return { buckets: [...bounds, Infinity].map((le, i) => ({ le, count: (c += counts[i] ?? 0) })) };
}

/** mulberry32: a small seeded generator, enough for the tests' simulations. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson(mean): inversion below 30, a rounded normal above (the judge conditions on the counts, so this is enough here). */
export function poisson(random: () => number, mean: number): number {
  if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())));
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  const u = random();
  while (u > cdf && p > 0) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

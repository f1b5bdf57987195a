/**
 * Latency is judged as counts: the share of requests slower than a threshold, compared with
 * the baseline's share by the same count test as errors. Two thresholds catch the two kinds of
 * regression: the baseline's median (a whole-distribution shift moves half the mass across it)
 * and its p95 (a tail-only regression moves the mass beyond it).
 *
 * The thresholds are data-chosen, so they are fixed ONCE, from a warm-up period, and only the
 * data after the warm-up is tested: the test then sees a threshold that is independent of the
 * counts it judges, and its guarantee is untouched. A threshold from the plan (`thresholdMs`)
 * needs no warm-up.
 */

/** Prometheus-style bucket: `count` requests took ≤ `le` milliseconds (cumulative). */
export interface HistogramBucket {
  readonly le: number;
  readonly count: number;
}

/** Cumulative buckets sorted by `le`; the last one is `le: Infinity` (the total). */
export interface Histogram {
  readonly buckets: readonly HistogramBucket[];
}

export function histogramTotal(h: Histogram): number {
  return h.buckets.at(-1)?.count ?? 0;
}

/** Requests slower than `le` (which must be one of the histogram's boundaries), or null. */
export function countAbove(h: Histogram, le: number): number | null {
  const bucket = h.buckets.find((b) => b.le === le);
  return bucket ? histogramTotal(h) - bucket.count : null;
}

/** The smallest boundary ≥ `ms`: a configured threshold must be a bucket boundary to be counted. */
export function boundaryAtOrAbove(h: Histogram, ms: number): number | null {
  return h.buckets.find((b) => b.le >= ms && Number.isFinite(b.le))?.le ?? null;
}

/**
 * Thresholds from the baseline's warm-up histogram: `median` is the finite boundary whose
 * cumulative share is closest to 50%, `tail` the smallest with cumulative share ≥ 95% (so the
 * baseline's share above it is ≤ 5%). Either is null when the buckets cannot provide it; the
 * tail is dropped when it coincides with the median (coarse buckets).
 */
export function chooseLatencyThresholds(baseline: Histogram): { median: number | null; tail: number | null } {
  const total = histogramTotal(baseline);
  const finite = baseline.buckets.filter((b) => Number.isFinite(b.le));
  if (total <= 0 || finite.length === 0) return { median: null, tail: null };
  let median = finite[0]!;
  for (const b of finite) if (Math.abs(b.count / total - 0.5) < Math.abs(median.count / total - 0.5)) median = b;
  const tail = finite.find((b) => b.count / total >= 0.95)?.le ?? null;
  return { median: median.le, tail: tail === median.le ? null : tail };
}

/** Buckets per-request samples (ms) into a cumulative histogram with the given finite bounds. */
export function histogramFromSamples(samples: readonly number[], bounds: readonly number[]): Histogram {
  const les = [...bounds].sort((a, b) => a - b);
  return { buckets: [...les, Infinity].map((le) => ({ le, count: samples.filter((s) => s <= le).length })) };
}

import type { Histogram, HistogramBucket } from '../judge/latency.ts';
import { isNoData, type MeasureResult, type Measurement, type RatioCounts, type SideMeasurement } from '../ports/metric-provider.ts';

/**
 * What a metrics source answered, before anything is believed: one labelled value per series,
 * as Prometheus' instant vectors carry them (the value as a string: "12", "NaN", "+Inf").
 * These checks turn garbage into a reason instead of numbers, so the judge only ever sees
 * finite, non-negative, consistent counts: never a pass or a fail on garbage.
 */
export interface LabelledValue {
  labels: Readonly<Record<string, string>>;
  value: string | number;
}

export type Reading<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_LABEL_SETS_NAMED = 3;

function labelSet(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `{${pairs.join(',')}}`;
}

function describeSeries(series: readonly LabelledValue[]): string {
  const named = series.slice(0, MAX_LABEL_SETS_NAMED).map((s) => labelSet(s.labels));
  return series.length > MAX_LABEL_SETS_NAMED ? `${named.join(', ')}, …` : named.join(', ');
}

/** Prometheus writes infinities as +Inf / -Inf, which Number() does not read. */
function parsePromNumber(text: string): number {
  const t = text.trim();
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  return t === '' ? Number.NaN : Number(t);
}

/** A count (≥ 0, finite); increase() extrapolates to fractions, so it is rounded. */
function readNumber(what: string, raw: string | number): Reading<number> {
  const value = typeof raw === 'number' ? raw : parsePromNumber(raw);
  if (Number.isNaN(value)) return { ok: false, reason: `${what} is NaN (${JSON.stringify(String(raw))})` };
  if (!Number.isFinite(value)) return { ok: false, reason: `${what} is ${value > 0 ? '+Inf' : '-Inf'}` };
  if (value < 0) return { ok: false, reason: `${what} is negative (${value}): a counter that went down (a restart) read without increase() or rate()` };
  return { ok: true, value: Math.round(value) };
}

/** One count from a query that must answer exactly one series. No series is "nothing matched yet". */
export function readCount(what: string, series: readonly LabelledValue[]): Reading<number> {
  if (series.length === 0)
    return {
      ok: false,
      reason: `${what}: no series matched (nothing scraped in the window yet: increase() needs two scrapes in it; or the query selects nothing)`,
    };
  if (series.length > 1)
    return {
      ok: false,
      reason: `${what}: ${series.length} series where one is expected (${describeSeries(series)}); aggregate them in the query, e.g. sum(…)`,
    };
  return readNumber(what, series[0]!.value);
}

/**
 * Prometheus histogram buckets (one series per `le`, in seconds, cumulative) to the judge's
 * histogram in ms. No series at all is "this source has no latency" (null), not a problem.
 */
export function readLatencyBuckets(what: string, series: readonly LabelledValue[]): Reading<Histogram | null> {
  if (series.length === 0) return { ok: true, value: null };
  const buckets: HistogramBucket[] = [];
  const seen = new Set<number>();
  for (const s of series) {
    const le = s.labels.le;
    if (le === undefined) return { ok: false, reason: `${what}: a series without an le label (${labelSet(s.labels)}); aggregate by (le)` };
    const bound = parsePromNumber(le);
    if (Number.isNaN(bound) || bound < 0 || bound === -Infinity) return { ok: false, reason: `${what}: le=${JSON.stringify(le)} is not a bucket boundary` };
    if (seen.has(bound)) return { ok: false, reason: `${what}: several series with le=${JSON.stringify(le)}; aggregate by (le), e.g. sum by (le) (…)` };
    seen.add(bound);
    const count = readNumber(`${what} (le=${le})`, s.value);
    if (!count.ok) return count;
    buckets.push({ le: bound === Infinity ? Infinity : bound * 1000, count: count.value });
  }
  buckets.sort((a, b) => a.le - b.le);
  if (buckets.at(-1)!.le !== Infinity) return { ok: false, reason: `${what}: no le="+Inf" bucket (the total)` };
  for (let i = 1; i < buckets.length; i++) {
    const [before, here] = [buckets[i - 1]!, buckets[i]!];
    if (here.count < before.count)
      return {
        ok: false,
        reason: `${what}: buckets are not cumulative (${before.count} at or below ${before.le} ms, ${here.count} at or below ${here.le === Infinity ? '+Inf' : `${here.le} ms`})`,
      };
  }
  return { ok: true, value: { buckets } };
}

/**
 * Every number of a side is a finite non-negative integer, errors fit in requests, and each
 * ratio's numerator fits in its denominator; every ratio in `ratios` (the step's ratio metrics)
 * is there: a ratio the source did not read cannot be judged this look.
 */
export function checkSide(name: string, side: SideMeasurement, ratios: readonly string[] = []): string | null {
  for (const ratio of ratios)
    if (!side.ratios || !Object.hasOwn(side.ratios, ratio))
      return `${name} ratio "${ratio}": no numerator and denominator read for it (nothing pushed or scraped for this version in the window yet)`;
  const ratioEntries = Object.entries(side.ratios ?? {});
  const numbers: Array<[string, number]> = [
    ['requests', side.requests],
    ['errors', side.errors],
    ...(side.latency?.buckets.map((b, i): [string, number] => [`latency bucket ${i}`, b.count]) ?? []),
    ...ratioEntries.flatMap(([r, c]): Array<[string, number]> => [
      [`ratio "${r}" numerator`, c?.numerator],
      [`ratio "${r}" denominator`, c?.denominator],
    ]),
  ];
  for (const [what, value] of numbers) {
    if (!Number.isFinite(value) || !Number.isInteger(value) || value < 0) return `${name} ${what} is ${value}: counts are whole numbers ≥ 0`;
  }
  if (side.errors > side.requests)
    return `${name} has ${side.errors} errors in ${side.requests} requests: the errors query counts something the requests query does not`;
  for (const [r, c] of ratioEntries)
    if (c.numerator > c.denominator)
      return `${name} ratio "${r}" has a numerator of ${c.numerator} over a denominator of ${c.denominator}: the numerator counts something the denominator does not`;
  if (side.latency) {
    const b = side.latency.buckets;
    if (b.length === 0 || b.at(-1)!.le !== Infinity) return `${name} latency has no +Inf bucket`;
    for (let i = 1; i < b.length; i++) {
      if (!(b[i]!.le > b[i - 1]!.le) || b[i]!.count < b[i - 1]!.count) return `${name} latency buckets are not ascending and cumulative`;
    }
  }
  return null;
}

/** Cumulative counts since the window started, as kept from one look for the next. */
export interface CumulativeCounts {
  requests: number;
  errors: number;
  /** The histogram's total, null when the look read no latency. */
  latencyTotal: number | null;
  /** Each ratio's counts, when the look read ratios. */
  ratios?: Record<string, RatioCounts>;
}

export function cumulativeCounts(side: SideMeasurement): CumulativeCounts {
  const counts: CumulativeCounts = {
    requests: side.requests,
    errors: side.errors,
    latencyTotal: side.latency ? (side.latency.buckets.at(-1)?.count ?? 0) : null,
  };
  if (side.ratios && Object.keys(side.ratios).length > 0)
    counts.ratios = Object.fromEntries(Object.entries(side.ratios).map(([r, c]) => [r, { numerator: c.numerator, denominator: c.denominator }]));
  return counts;
}

/**
 * Counts over a window that only grows can only grow. Fewer than the look before means this
 * look cannot be trusted: a counter reset the query does not absorb (a restart, read without
 * increase()), series that changed, or increase() extrapolating to the window's end by more on
 * the look before than now (a count or two, when traffic slows). The look is skipped, not
 * judged; the next one is compared with it, and the judge, which keeps the last snapshot it
 * used, counts nothing twice (a snapshot below its own is a reset it skips too).
 */
export function checkAgainstPrevious(current: LookCounts, previous: LookCounts | null): string | null {
  if (!previous) return null;
  for (const name of ['canary', 'baseline'] as const) {
    for (const field of ['requests', 'errors', 'latencyTotal'] as const) {
      const now = current[name][field];
      const before = previous[name][field];
      if (now !== null && before !== null && now < before)
        return `${name} ${field === 'latencyTotal' ? 'latency count' : field} went down since the last look (${before} → ${now})${WENT_DOWN_WHY}`;
    }
    // A ratio read now and before (one absent on either look has nothing to compare).
    for (const [ratio, now] of Object.entries(current[name].ratios ?? {})) {
      const before = previous[name].ratios?.[ratio];
      if (!before) continue;
      for (const part of ['numerator', 'denominator'] as const)
        if (now[part] < before[part]) return `${name} ratio "${ratio}" ${part} went down since the last look (${before[part]} → ${now[part]})${WENT_DOWN_WHY}`;
    }
  }
  return null;
}

const WENT_DOWN_WHY =
  ': a counter reset (a restart) the query does not absorb, series that changed, or increase() extrapolating less than on the last look; this look is skipped';

export type LookCounts = { canary: CumulativeCounts; baseline: CumulativeCounts };

/**
 * What one look may feed the judge. `usable` is null when there is nothing to judge, with
 * `noDataReason` saying why; `counts` is what the next look is compared with (kept even when
 * this look went down, so a lasting reset costs one look; null when the numbers are garbage).
 */
export interface AdmittedLook {
  usable: Measurement | null;
  noDataReason: string | null;
  counts: LookCounts | null;
}

export function admitMeasurement(measured: MeasureResult | null, previous: LookCounts | null, ratios: readonly string[] = []): AdmittedLook {
  if (!measured) return { usable: null, noDataReason: 'the metrics source has no data for this window yet', counts: null };
  if (isNoData(measured)) return { usable: null, noDataReason: measured.noData, counts: null };
  const insane = checkSide('canary', measured.canary, ratios) ?? checkSide('baseline', measured.baseline, ratios);
  if (insane) return { usable: null, noDataReason: insane, counts: null };
  const counts = { canary: cumulativeCounts(measured.canary), baseline: cumulativeCounts(measured.baseline) };
  const wentDown = checkAgainstPrevious(counts, previous);
  return { usable: wentDown ? null : measured, noDataReason: wentDown, counts };
}

/**
 * The counts the next look is compared with: this look's, or when it read none (no data,
 * garbage), the ones the look before carried. Stored with each look as `lastCounts`, so that a
 * count that went down is caught however many looks without data lie in between.
 */
export function carriedCounts(admitted: AdmittedLook, previous: LookCounts | null): LookCounts | null {
  return admitted.counts ?? previous;
}

/** The counts a stored look carried (its evidence's `lastCounts`), when they are there and are numbers. */
export function countsFromEvidence(evidence: unknown): LookCounts | null {
  const stored = (evidence as { lastCounts?: unknown } | null)?.lastCounts as Record<string, Record<string, unknown> | undefined> | null | undefined;
  const side = (s: Record<string, unknown> | undefined): CumulativeCounts | null => {
    if (!(s && isCount(s.requests) && isCount(s.errors) && (s.latencyTotal === null || isCount(s.latencyTotal)))) return null;
    const counts: CumulativeCounts = { requests: s.requests as number, errors: s.errors as number, latencyTotal: s.latencyTotal as number | null };
    // Ratios stored with the look; one that is not a pair of counts is left out (nothing to compare it with).
    const ratios = Object.entries((s.ratios as Record<string, { numerator?: unknown; denominator?: unknown } | null> | undefined) ?? {}).filter(
      ([, c]) => c && isCount(c.numerator) && isCount(c.denominator),
    );
    if (ratios.length > 0) counts.ratios = Object.fromEntries(ratios) as Record<string, RatioCounts>;
    return counts;
  };
  const canary = side(stored?.canary);
  const baseline = side(stored?.baseline);
  return canary && baseline ? { canary, baseline } : null;
}

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

import { describe, expect, it } from 'vitest';
import type { SideMeasurement } from '../ports/metric-provider.ts';
import {
  admitMeasurement,
  carriedCounts,
  checkAgainstPrevious,
  checkSide,
  countsFromEvidence,
  readCount,
  readLatencyBuckets,
  type LabelledValue,
} from './measurement-checks.ts';

const one = (value: string | number, labels: Record<string, string> = {}): LabelledValue => ({ labels, value });

describe('readCount: one series, one finite count ≥ 0', () => {
  it.each<[string, LabelledValue[], number | RegExp]>([
    ['a count', [one('120')], 120],
    ['zero', [one('0')], 0],
    ["increase()'s extrapolated fraction, rounded", [one('41.6')], 42],
    ['a number value', [one(7)], 7],
    ['no series', [], /no series matched/],
    ['two series', [one('1', { server: 'a' }), one('2', { server: 'b' })], /2 series where one is expected \(\{server="a"\}, \{server="b"\}\); aggregate them/],
    ['five series: three named', [1, 2, 3, 4, 5].map((i) => one(String(i), { pod: `p${i}` })), /5 series .*\{pod="p3"\}, …\)/],
    ['NaN', [one('NaN')], /is NaN/],
    ['an empty string', [one('')], /is NaN/],
    ['not a number', [one('twelve')], /is NaN \("twelve"\)/],
    ['+Inf', [one('+Inf')], /is \+Inf/],
    ['-Inf', [one('-Inf')], /is -Inf/],
    ['negative: a counter that went down', [one('-3')], /negative \(-3\): a counter that went down \(a restart\)/],
  ])('%s', (_name, series, expected) => {
    const read = readCount('canary requests', series);
    if (typeof expected === 'number') expect(read).toEqual({ ok: true, value: expected });
    else {
      expect(read.ok).toBe(false);
      expect(!read.ok && read.reason).toMatch(expected);
      expect(!read.ok && read.reason).toMatch(/^canary requests/);
    }
  });
});

describe('readLatencyBuckets: one series per le, seconds to ms, cumulative, ending at +Inf', () => {
  const le = (bound: string, count: string | number, extra: Record<string, string> = {}) => one(count, { le: bound, ...extra });

  it('reads buckets in any order into ms', () => {
    expect(readLatencyBuckets('lat', [le('+Inf', '10'), le('0.05', '4'), le('0.1', '9')])).toEqual({
      ok: true,
      value: {
        buckets: [
          { le: 50, count: 4 },
          { le: 100, count: 9 },
          { le: Infinity, count: 10 },
        ],
      },
    });
  });

  it('no series is no latency from this source, not a problem', () => {
    expect(readLatencyBuckets('lat', [])).toEqual({ ok: true, value: null });
  });

  it.each<[string, LabelledValue[], RegExp]>([
    ['a series without le', [one('3', { code: '200' }), le('+Inf', '3')], /without an le label \(\{code="200"\}\)/],
    ['le not a number', [le('fast', '3'), le('+Inf', '3')], /le="fast" is not a bucket boundary/],
    ['le negative', [le('-1', '3'), le('+Inf', '3')], /le="-1" is not a bucket boundary/],
    [
      'two series with the same le (not aggregated by le)',
      [le('0.1', '3', { pod: 'a' }), le('0.1', '4', { pod: 'b' }), le('+Inf', '9')],
      /several series with le="0.1"/,
    ],
    ['NaN in a bucket', [le('0.1', 'NaN'), le('+Inf', '3')], /le=0.1\) is NaN/],
    ['a negative bucket', [le('0.1', '-2'), le('+Inf', '3')], /negative/],
    ['no +Inf', [le('0.1', '2'), le('0.5', '3')], /no le="\+Inf" bucket/],
    ['not cumulative', [le('0.1', '5'), le('0.5', '3'), le('+Inf', '6')], /not cumulative \(5 at or below 100 ms, 3 at or below 500 ms\)/],
  ])('%s', (_name, series, reason) => {
    const read = readLatencyBuckets('canary latency', series);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toMatch(reason);
  });
});

const side = (requests: number, errors: number, latency: SideMeasurement['latency'] = null): SideMeasurement => ({ requests, errors, latency });
const hist = (...counts: number[]) => ({ buckets: counts.map((count, i) => ({ le: i === counts.length - 1 ? Infinity : (i + 1) * 50, count })) });

describe('checkSide: whole numbers ≥ 0, errors within requests', () => {
  it.each<[string, SideMeasurement, RegExp | null]>([
    ['sane', side(100, 3, hist(50, 90, 100)), null],
    ['no traffic at all', side(0, 0), null],
    ['NaN requests', side(Number.NaN, 0), /canary requests is NaN/],
    ['Infinity errors', side(10, Infinity), /canary errors is Infinity/],
    ['negative requests', side(-1, 0), /canary requests is -1/],
    ['a fraction', side(10.5, 0), /whole numbers/],
    ['more errors than requests', side(10, 12), /12 errors in 10 requests/],
    ['a NaN latency bucket', side(10, 0, hist(5, Number.NaN, 10)), /latency bucket 1 is NaN/],
    ['latency not cumulative', side(10, 0, hist(6, 5, 10)), /not ascending and cumulative/],
    ['latency without +Inf', side(10, 0, { buckets: [{ le: 50, count: 10 }] }), /no \+Inf bucket/],
  ])('%s', (_name, measured, reason) => {
    const problem = checkSide('canary', measured);
    if (reason === null) expect(problem).toBeNull();
    else expect(problem).toMatch(reason);
  });
});

describe('checkAgainstPrevious: a growing window only grows', () => {
  const counts = (requests: number, errors: number, latencyTotal: number | null = null) => ({ requests, errors, latencyTotal });
  const both = (canary: ReturnType<typeof counts>, baseline: ReturnType<typeof counts>) => ({ canary, baseline });

  it.each<[string, ReturnType<typeof both>, ReturnType<typeof both> | null, RegExp | null]>([
    ['first look', both(counts(10, 1), counts(90, 1)), null, null],
    ['grew', both(counts(20, 1), counts(180, 2)), both(counts(10, 1), counts(90, 1)), null],
    ['unchanged (no traffic in between)', both(counts(10, 1), counts(90, 1)), both(counts(10, 1), counts(90, 1)), null],
    [
      'canary requests went down (a restart)',
      both(counts(4, 0), counts(180, 2)),
      both(counts(10, 1), counts(90, 1)),
      /canary requests went down since the last look \(10 → 4\)/,
    ],
    [
      'baseline errors went down',
      both(counts(20, 1), counts(180, 0)),
      both(counts(10, 1), counts(90, 1)),
      /baseline errors went down since the last look \(1 → 0\)/,
    ],
    ['latency count went down', both(counts(20, 1, 15), counts(180, 2, 170)), both(counts(10, 1, 20), counts(90, 1, 90)), /canary latency count went down/],
    ['latency read now but not before: nothing to compare', both(counts(20, 1, 15), counts(180, 2, 170)), both(counts(10, 1), counts(90, 1)), null],
  ])('%s', (_name, current, previous, reason) => {
    const problem = checkAgainstPrevious(current, previous);
    if (reason === null) expect(problem).toBeNull();
    else expect(problem).toMatch(reason);
  });
});

describe('admitMeasurement: what one look may feed the judge', () => {
  const counts = (requests: number, errors: number) => ({ requests, errors, latencyTotal: null });
  const previous = { canary: counts(10, 1), baseline: counts(90, 1) };
  const measured = (canary: SideMeasurement, baseline: SideMeasurement) => ({ canary, baseline, source: { type: 'test' } });

  it.each<[string, Parameters<typeof admitMeasurement>[0], RegExp | null, boolean]>([
    ['a sane look that grew', measured(side(20, 2), side(180, 2)), null, true],
    ['no data from the source (null)', null, /no data for this window yet/, false],
    ['no data with why', { noData: 'Prometheus at http://p did not answer within 5000 ms' }, /did not answer within 5000 ms/, false],
    ['NaN counts', measured(side(Number.NaN, 0), side(180, 2)), /canary requests is NaN/, false],
    ['more errors than requests', measured(side(20, 2), side(1, 2)), /baseline has 2 errors in 1 requests/, false],
    ['went down: not judged, but kept for the next look', measured(side(5, 0), side(180, 2)), /canary requests went down since the last look \(10 → 5\)/, true],
  ])('%s', (_name, input, reason, keepsCounts) => {
    const look = admitMeasurement(input, previous);
    expect(look.usable).toBe(reason === null ? input : null);
    if (reason === null) expect(look.noDataReason).toBeNull();
    else expect(look.noDataReason).toMatch(reason);
    expect(look.counts !== null).toBe(keepsCounts);
  });

  it('the look after one that went down is compared with it, not with the one before', () => {
    const down = admitMeasurement(measured(side(5, 0), side(180, 2)), previous);
    expect(down.usable).toBeNull();
    const next = admitMeasurement(measured(side(8, 0), side(200, 2)), carriedCounts(down, previous));
    expect(next.noDataReason).toBeNull();
    expect(next.usable).not.toBeNull();
  });

  it('looks without counts carry the last ones, so a decrease after them is still caught', () => {
    const garbage = admitMeasurement({ noData: 'timed out' }, previous);
    expect(carriedCounts(garbage, previous)).toBe(previous);
    const after = admitMeasurement(measured(side(4, 0), side(180, 2)), carriedCounts(garbage, previous));
    expect(after.noDataReason).toMatch(/canary requests went down since the last look \(10 → 4\)/);
  });

  it.each<[string, unknown, boolean]>([
    ['stored counts', { lastCounts: { canary: counts(1, 0), baseline: { requests: 9, errors: 1, latencyTotal: 9 } } }, true],
    ['no evidence', null, false],
    ['evidence without counts (no look read any yet)', { noData: true, lastCounts: null }, false],
    ['a side missing', { lastCounts: { canary: counts(1, 0) } }, false],
    ['a count that is not one', { lastCounts: { canary: counts(1, 0), baseline: { requests: '9', errors: 1, latencyTotal: null } } }, false],
    ['a negative count', { lastCounts: { canary: counts(-1, 0), baseline: counts(1, 0) } }, false],
  ])('countsFromEvidence: %s', (_name, evidence, found) => {
    expect(countsFromEvidence(evidence) !== null).toBe(found);
  });
});

describe('ratios: each a numerator within its denominator, there for every ratio metric, never going down', () => {
  const withRatios = (ratios: Record<string, { numerator: number; denominator: number }>): SideMeasurement => ({ ...side(100, 1), ratios });
  const r = (numerator: number, denominator: number) => ({ numerator, denominator });

  it.each<[string, SideMeasurement, RegExp | null]>([
    ['sane', withRatios({ accuracy: r(90, 100) }), null],
    ['nothing labelled yet (0 / 0)', withRatios({ accuracy: r(0, 0) }), null],
    ['missing: not read for this version', side(100, 1), /canary ratio "accuracy": no numerator and denominator read for it/],
    ['another ratio, not the one the step judges', withRatios({ conversion: r(1, 2) }), /canary ratio "accuracy": no numerator/],
    ['a NaN numerator', withRatios({ accuracy: r(Number.NaN, 100) }), /canary ratio "accuracy" numerator is NaN/],
    ['an infinite denominator', withRatios({ accuracy: r(1, Infinity) }), /canary ratio "accuracy" denominator is Infinity/],
    ['a negative numerator', withRatios({ accuracy: r(-1, 100) }), /numerator is -1: counts are whole numbers/],
    ['a fractional denominator', withRatios({ accuracy: r(1, 10.5) }), /denominator is 10.5/],
    ['numerator over denominator', withRatios({ accuracy: r(101, 100) }), /canary ratio "accuracy" has a numerator of 101 over a denominator of 100/],
  ])('checkSide: %s', (_name, measured, reason) => {
    const problem = checkSide('canary', measured, ['accuracy']);
    if (reason === null) expect(problem).toBeNull();
    else expect(problem).toMatch(reason);
  });

  it('a ratio that went down since the last look is skipped with why; one new this look is not compared', () => {
    const look = (canary: Record<string, ReturnType<typeof r>>, baseline: Record<string, ReturnType<typeof r>>) => ({
      canary: withRatios(canary),
      baseline: withRatios(baseline),
      source: null,
    });
    const first = admitMeasurement(look({ accuracy: r(50, 60) }, { accuracy: r(500, 600) }), null, ['accuracy']);
    expect(first.noDataReason).toBeNull();
    expect(first.counts?.canary.ratios).toEqual({ accuracy: r(50, 60) });
    const down = admitMeasurement(look({ accuracy: r(40, 70) }, { accuracy: r(520, 630) }), first.counts, ['accuracy']);
    expect(down.usable).toBeNull();
    expect(down.noDataReason).toMatch(/canary ratio "accuracy" numerator went down since the last look \(50 → 40\)/);
    const denominator = admitMeasurement(look({ accuracy: r(50, 60) }, { accuracy: r(520, 590) }), first.counts, ['accuracy']);
    expect(denominator.noDataReason).toMatch(/baseline ratio "accuracy" denominator went down since the last look \(600 → 590\)/);
    const more = admitMeasurement(look({ accuracy: r(60, 80), conversion: r(1, 9) }, { accuracy: r(600, 700), conversion: r(0, 0) }), first.counts, [
      'accuracy',
      'conversion',
    ]);
    expect(more.noDataReason).toBeNull();
    const missing = admitMeasurement(look({ accuracy: r(60, 80) }, {}), first.counts, ['accuracy']);
    expect(missing.noDataReason).toMatch(/baseline ratio "accuracy": no numerator and denominator read/);
  });

  it('countsFromEvidence keeps stored ratios that are counts, and drops the rest', () => {
    const stored = {
      lastCounts: {
        canary: { requests: 1, errors: 0, latencyTotal: null, ratios: { accuracy: r(3, 4), broken: { numerator: '3', denominator: 4 } } },
        baseline: { requests: 9, errors: 1, latencyTotal: null },
      },
    };
    expect(countsFromEvidence(stored)).toEqual({
      canary: { requests: 1, errors: 0, latencyTotal: null, ratios: { accuracy: r(3, 4) } },
      baseline: { requests: 9, errors: 1, latencyTotal: null },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { boundaryAtOrAbove, chooseLatencyThresholds, countAbove, histogramFromSamples, histogramTotal } from './latency.ts';
import { histogram } from './test-helpers.ts';

describe('latency histograms', () => {
  const h = histogram([25, 50, 100, 250], [100, 400, 400, 80, 20]);

  it('reads totals and counts above a boundary', () => {
    expect(histogramTotal(h)).toBe(1000);
    expect(countAbove(h, 100)).toBe(100);
    expect(countAbove(h, 99)).toBeNull();
    expect(boundaryAtOrAbove(h, 60)).toBe(100);
    expect(boundaryAtOrAbove(h, 300)).toBeNull();
  });

  it('fixes the median and p95 thresholds from the baseline', () => {
    // cumulative shares: 25 → 10%, 50 → 50%, 100 → 90%, 250 → 98%
    expect(chooseLatencyThresholds(h)).toEqual({ median: 50, tail: 250 });
  });

  it('drops the tail threshold when the buckets are too coarse to tell it from the median', () => {
    expect(chooseLatencyThresholds(histogram([100], [960, 40]))).toEqual({ median: 100, tail: null });
    expect(chooseLatencyThresholds(histogram([100], [0, 0]))).toEqual({ median: null, tail: null });
  });

  it('buckets per-request samples', () => {
    expect(histogramFromSamples([10, 30, 30, 120, 5000], [100, 25, 50])).toEqual(histogram([25, 50, 100], [1, 2, 0, 2]));
  });
});

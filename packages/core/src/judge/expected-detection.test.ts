import { describe, expect, it } from 'vitest';
import { DETECTION_TARGET, expectedDetectionSeconds } from './expected-detection.ts';
import { detectionTimeBound } from './mixture.ts';

const worked = { canaryRequestsPerSecond: 5, baselineRequestsPerSecond: 95, baselineEventRate: 0.005, tolerance: 1, alpha: 0.01 };

describe('expectedDetectionSeconds', () => {
  it("is JUDGE.md's bound for twice the tolerated rate: the worked case, ≈ 509 s", () => {
    expect(DETECTION_TARGET).toBe(2);
    expect(expectedDetectionSeconds(worked)).toBeCloseTo(detectionTimeBound({ canaryRate: 5, baselineRate: 95, p0: 0.005, p1: 0.01, alpha: 0.01 }), 9);
    expect(expectedDetectionSeconds(worked)).toBeGreaterThan(500);
    expect(expectedDetectionSeconds(worked)).toBeLessThan(520);
  });

  it.each<[string, Partial<typeof worked> & { varianceFactor?: number }, number]>([
    ['ten times the traffic: a tenth of the time', { canaryRequestsPerSecond: 50, baselineRequestsPerSecond: 950 }, 0.1],
    ['half the α: ln(200)/ln(100) the time', { alpha: 0.005 }, Math.log(200) / Math.log(100)],
    ['over-dispersed counts: the variance factor', { varianceFactor: 1.8 }, 1.8],
  ])('%s', (_name, change, ratio) => {
    expect(expectedDetectionSeconds({ ...worked, ...change })! / expectedDetectionSeconds(worked)!).toBeCloseTo(ratio, 6);
  });

  it('at tolerance 1.5 is for a canary at 3× the baseline, tested against 1.5×', () => {
    const seconds = expectedDetectionSeconds({ ...worked, tolerance: 1.5 })!;
    expect(seconds).toBeCloseTo(detectionTimeBound({ canaryRate: 5, baselineRate: 95, p0: 0.005, p1: 0.015, alpha: 0.01, tolerance: 1.5 }), 9);
  });

  it('gives no figure where none exists', () => {
    expect(expectedDetectionSeconds({ ...worked, canaryRequestsPerSecond: 0 })).toBeNull();
    expect(expectedDetectionSeconds({ ...worked, baselineEventRate: 0 })).toBeNull();
    expect(expectedDetectionSeconds({ ...worked, baselineEventRate: 1 })).toBeNull();
  });
});

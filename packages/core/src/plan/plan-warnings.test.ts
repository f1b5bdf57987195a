import { describe, expect, it } from 'vitest';
import type { PlanSpec } from './plan-spec.ts';
import { validatePlan } from './validate-plan.ts';

const warningsOf = (spec: PlanSpec) => {
  const result = validatePlan(spec);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.warnings;
};

/** setWeight `weight` then one analysis of the error rate at tolerance 1 (JUDGE.md's worked case), lasting `maxDuration`. */
const canary = (weight: number, maxDuration: string, traffic?: PlanSpec['traffic']): PlanSpec => ({
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight },
    { type: 'analysis', maxDuration, metrics: [{ name: 'errors', kind: 'errors', tolerance: 1 }] },
    { type: 'setWeight', weight: 100 },
  ],
  ...(traffic ? { traffic } : {}),
});

describe('plan warnings: an analysis too short for the traffic the plan expects', () => {
  it('says nothing when the plan states no traffic', () => {
    expect(warningsOf(canary(5, '5m'))).toEqual([]);
  });

  it.each<[string, PlanSpec, RegExp | null]>([
    ['100 req/s at 5%, 0.5% errors, 20 minutes: enough (2× is caught in ≈ 8.5 min)', canary(5, '20m', { requestsPerSecond: 100, errorRate: 0.005 }), null],
    [
      '100 req/s at 5%, 0.5% errors, 5 minutes: a 2× regression needs ≈ 8.5 min',
      canary(5, '5m', { requestsPerSecond: 100, errorRate: 0.005 }),
      /^5 min is too short to catch a regression at the traffic the plan expects: at 5% of 100 req\/s, a canary with 2× the baseline's error rate \(0\.5%\) on errors \(twice the tolerance\) takes about 8\.\d+ min to detect .* where onInconclusive \(pause\) decides$/,
    ],
    [
      '2 req/s at 10%: 500 canary requests take 42 minutes, longer than the default 10',
      canary(10, '10m', { requestsPerSecond: 2 }),
      /^10 min is too short for a verdict at the traffic the plan expects: at 10% of 2 req\/s the canary needs about 41\.7 min to serve the 500 requests a pass needs, so the analysis ends at its limit/,
    ],
    ['10,000 req/s at 1%: a minute is plenty', canary(1, '1m', { requestsPerSecond: 10_000 }), null],
  ])('%s', (_name, spec, message) => {
    const warnings = warningsOf(spec);
    if (message === null) expect(warnings).toEqual([]);
    else {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.path).toBe('steps[1].maxDuration');
      expect(warnings[0]!.message).toMatch(message);
    }
  });

  it('counts the default 1% errors when the plan gives none, and warns about the slowest metric', () => {
    const spec: PlanSpec = {
      strategy: 'canary',
      traffic: { requestsPerSecond: 20 },
      steps: [
        { type: 'setWeight', weight: 10 },
        {
          type: 'analysis',
          maxDuration: '8m', // a pass needs ≈ 5.1 min (500 canary requests after the latency warm-up); 3× errors ≈ 10 min to catch
          metrics: [
            { name: 'latency', kind: 'latency' },
            { name: 'errors', kind: 'errors' },
            { name: 'declines', kind: 'ratio' },
          ],
        },
      ],
    };
    const [warning] = warningsOf(spec);
    expect(warning!.message).toMatch(/3× the baseline's error rate \(1%\) on errors/);
  });

  it('names the step in every strategy: blue-green checks run with no canary traffic, a rolling check at its first batch', () => {
    const blueGreen = warningsOf({
      strategy: 'blue-green',
      traffic: { requestsPerSecond: 100 },
      checks: [{ type: 'smoke', checks: [{ path: '/health' }] }, { type: 'analysis' }],
    });
    expect(blueGreen).toEqual([{ path: 'checks[1].maxDuration', message: expect.stringMatching(/^the canary gets no traffic at this step \(weight 0\)/) }]);
    const rolling = warningsOf({
      strategy: 'rolling',
      traffic: { requestsPerSecond: 5 },
      batches: [10, 50, 100],
      check: { type: 'analysis', maxDuration: '1m' },
    });
    expect(rolling).toEqual([{ path: 'check.maxDuration', message: expect.stringMatching(/at 10% of 5 req\/s/) }]);
    const watched = warningsOf({ ...canary(5, '20m', { requestsPerSecond: 100, errorRate: 0.005 }), watch: { duration: '1m' } });
    expect(watched).toEqual([]); // after promotion there is no baseline: not a question of time
  });

  it('refuses traffic it cannot read, naming the field', () => {
    const result = validatePlan({ ...canary(5, '5m'), traffic: { requestsPerSecond: 0, errorRate: 2, peak: 10 } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.path)).toEqual(['traffic.peak', 'traffic.requestsPerSecond', 'traffic.errorRate']);
  });
});

import { describe, expect, it } from 'vitest';
import { judge } from './judge.ts';
import { poisson, seeded } from './test-helpers.ts';
import type { JudgeConfig, JudgeState, MetricObservation, Verdict } from './types.ts';

/**
 * A ratio's direction. higher-is-worse (declined payments, wrong predictions) is the error-rate
 * test on numerator / denominator; lower-is-worse (conversion, accuracy) fails when the canary's
 * rate is below the baseline's ÷ tolerance: the same test with the arms exchanged, so the same
 * guarantee, with the evidence still naming canary and baseline as they are.
 */
const config = (direction: 'higher-is-worse' | 'lower-is-worse' | undefined, tolerance = 1): JudgeConfig => ({
  metrics: [{ name: 'conversion', kind: 'ratio', tolerance, ...(direction ? { direction } : {}) }],
});

/** Per second: canary cDen and baseline bDen in the denominator, numerators at rates cRate and bRate (deterministic, cumulative). */
function stream(o: { cDen: number; bDen: number; cRate: number; bRate: number }) {
  return (t: number): MetricObservation[] => [
    {
      name: 'conversion',
      kind: 'ratio',
      canary: { total: o.cDen * t, events: Math.floor(o.cDen * t * o.cRate) },
      baseline: { total: o.bDen * t, events: Math.floor(o.bDen * t * o.bRate) },
    },
  ];
}

function run(cfg: JudgeConfig, observe: (t: number) => MetricObservation[], until: number): Verdict[] {
  let state: JudgeState | undefined;
  const verdicts: Verdict[] = [];
  for (let t = 1; t <= until; t++) {
    const result = judge({ elapsedSeconds: t, metrics: observe(t) }, cfg, state);
    state = JSON.parse(JSON.stringify(result.state)) as JudgeState;
    verdicts.push(result.verdict);
  }
  return verdicts;
}

const final = (verdicts: Verdict[]) => verdicts.find((v) => v.outcome === 'fail') ?? verdicts.at(-1)!;

describe('judge: a ratio and its direction', () => {
  // Canary 10 and baseline 90 checkouts a second.
  it.each<[string, 'higher-is-worse' | 'lower-is-worse' | undefined, number, number, number, 'pass' | 'fail']>([
    ['conversion 3% → 1%, lower is worse: fails', 'lower-is-worse', 0.01, 0.03, 1, 'fail'],
    ['conversion 3% → 1%, higher is worse: passes (fewer is better)', 'higher-is-worse', 0.01, 0.03, 1, 'pass'],
    ['conversion 3% → 1%, no direction (higher is worse): passes', undefined, 0.01, 0.03, 1, 'pass'],
    ['declines 1% → 3%, higher is worse: fails', 'higher-is-worse', 0.03, 0.01, 1, 'fail'],
    ['conversion 1% → 3%, lower is worse: passes (more is better)', 'lower-is-worse', 0.03, 0.01, 1, 'pass'],
    ['conversion the same, lower is worse: passes', 'lower-is-worse', 0.03, 0.03, 1, 'pass'],
    ['conversion 3% → 2.5% within a tolerance of 1.5 (÷1.2): passes', 'lower-is-worse', 0.025, 0.03, 1.5, 'pass'],
    ['conversion 3% → 1% beyond a tolerance of 1.5 (÷3): fails', 'lower-is-worse', 0.01, 0.03, 1.5, 'fail'],
  ])('%s', (_name, direction, cRate, bRate, tolerance, outcome) => {
    const verdict = final(run(config(direction, tolerance), stream({ cDen: 10, bDen: 90, cRate, bRate }), 1800));
    expect(verdict.outcome).toBe(outcome);
  });

  it('a lower-is-worse failure shows canary and baseline as they are, and the tolerance it broke', () => {
    const verdict = final(run(config('lower-is-worse'), stream({ cDen: 10, bDen: 90, cRate: 0.01, bRate: 0.03 }), 1800));
    const metric = verdict.metrics[0]!;
    const test = metric.tests[0]!;
    expect(metric).toMatchObject({ name: 'conversion', kind: 'ratio', outcome: 'fail' });
    expect(test.label).toBe('ratio (lower is worse)');
    expect(test.direction).toBe('lower-is-worse');
    expect(test.canary.total / test.baseline.total).toBeCloseTo(10 / 90, 2);
    expect(test.canary.rate).toBeCloseTo(0.01, 2);
    expect(test.baseline.rate).toBeCloseTo(0.03, 2);
    expect(test.rateRatio).toBeCloseTo(1 / 3, 1);
    expect(test.maxLogEValue).toBeGreaterThanOrEqual(test.logThreshold);
    expect(metric.reason).toMatch(/^ratio \(lower is worse\): canary [\d.]+% vs baseline [\d.]+%, e-value/);
  });

  it('only a lower-is-worse test says its direction', () => {
    const higher = final(run(config('higher-is-worse'), stream({ cDen: 10, bDen: 90, cRate: 0.03, bRate: 0.01 }), 600));
    expect(higher.metrics[0]!.tests[0]).not.toHaveProperty('direction');
    expect(higher.metrics[0]!.tests[0]!.label).toBe('ratio');
  });

  it("a canary that converts nobody fails: the events that count are the baseline's", () => {
    const verdict = final(run(config('lower-is-worse'), stream({ cDen: 10, bDen: 90, cRate: 0, bRate: 0.03 }), 600));
    expect(verdict.outcome).toBe('fail');
    expect(verdict.metrics[0]!.tests[0]!.canary.events).toBe(0);
  });

  it('passes only after enough canary denominator and once a halving is ruled out, and says what it passed on', () => {
    // 100 and 900 checkouts a second at 5%: a conversion halved is ruled out in a few seconds, the 500 checkouts take 5.
    const verdicts = run(config('lower-is-worse'), stream({ cDen: 100, bDen: 900, cRate: 0.05, bRate: 0.05 }), 60);
    expect(verdicts[3]!.outcome).toBe('inconclusive'); // 4 s: 400 canary checkouts
    const passedAt = verdicts.findIndex((v) => v.outcome === 'pass') + 1;
    expect(passedAt).toBeGreaterThanOrEqual(5);
    expect(verdicts[passedAt - 1]!.metrics[0]!.reason).toMatch(
      /^not below the baseline ÷ 1: the baseline ÷ 2 ruled out \(e-value ≥ 20\) after \d+ canary requests$/,
    );
  });

  it('two identical versions, lower is worse: false rollbacks stay near α = 1% over many looks', () => {
    // 400 canaries × 600 looks each, Poisson counts at the same rate: anytime-valid means few fail however often one looks.
    let failed = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const random = seeded(seed);
      let state: JudgeState | undefined;
      const c = { total: 0, events: 0 };
      const b = { total: 0, events: 0 };
      for (let t = 1; t <= 600; t++) {
        c.total += 5;
        b.total += 95;
        c.events += poisson(random, 5 * 0.04);
        b.events += poisson(random, 95 * 0.04);
        const obs: MetricObservation = { name: 'conversion', kind: 'ratio', canary: { ...c }, baseline: { ...b } };
        const result = judge({ elapsedSeconds: t, metrics: [obs] }, config('lower-is-worse'), state);
        state = result.state;
        if (result.verdict.outcome === 'fail') {
          failed++;
          break;
        }
      }
    }
    expect(failed).toBeLessThanOrEqual(12); // 1% of 400 is 4; 12 is beyond its 99.9% binomial bound
  });
});

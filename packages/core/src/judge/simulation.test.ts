import { describe, expect, it } from 'vitest';
import { judge } from './judge.ts';
import { poisson, seeded } from './test-helpers.ts';
import type { JudgeConfig, JudgeState } from './types.ts';

const config: JudgeConfig = { alpha: 0.01, metrics: [{ name: 'errors', kind: 'errors' }] };

/** One hour of 100 req/s at a 5% canary weight, baseline errors 0.5%, the judge looking every minute. Returns the fail time or -1. */
function canary(seed: number, errorMult: number): number {
  const random = seeded(seed);
  const c = { total: 0, events: 0 };
  const b = { total: 0, events: 0 };
  let state: JudgeState | undefined;
  for (let t = 60; t <= 3600; t += 60) {
    c.total += poisson(random, 5 * 60);
    b.total += poisson(random, 95 * 60);
    c.events += poisson(random, 5 * 60 * 0.005 * errorMult);
    b.events += poisson(random, 95 * 60 * 0.005);
    const result = judge({ elapsedSeconds: t, metrics: [{ name: 'errors', kind: 'errors', canary: { ...c }, baseline: { ...b } }] }, config, state);
    if (result.verdict.outcome === 'fail') return t;
    state = result.state;
  }
  return -1;
}

describe('judge: seeded simulation', () => {
  it('fails at most a few of 300 identical canaries (α = 1%), and catches 5× errors', () => {
    const falseAlarms = Array.from({ length: 300 }, (_, i) => canary(1000 + i, 1)).filter((t) => t > 0).length;
    expect(falseAlarms).toBeLessThanOrEqual(9); // 3%: generous against α = 1% (P(> 9 | 1%) < 0.2%)
    const detected = Array.from({ length: 60 }, (_, i) => canary(5000 + i, 5)).filter((t) => t > 0);
    expect(detected.length).toBeGreaterThanOrEqual(58);
    expect(detected.sort((a, b) => a - b)[30]).toBeLessThan(300);
  });
});

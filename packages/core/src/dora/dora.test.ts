import { describe, expect, it } from 'vitest';
import { computeDora, type DoraRecord } from './dora.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const h = (hours: number) => T0 + hours * 3_600_000;
const period = { from: T0, to: T0 + 4 * 86_400_000 }; // four days

// checkout: dev (0) and prod (1). Figures worked out by hand below.
const records: DoraRecord[] = [
  // dev: three outcomes, one rolled back
  { service: 'checkout', environment: 'dev', position: 0, outcome: 'succeeded', at: h(2), artifactRegisteredAt: h(0) },
  { service: 'checkout', environment: 'dev', position: 0, outcome: 'rolled-back', at: h(30), artifactRegisteredAt: h(29) },
  { service: 'checkout', environment: 'dev', position: 0, outcome: 'succeeded', at: h(33), artifactRegisteredAt: h(31) },
  // prod: succeeded 6h after registration; failed at 50h, restored by the success at 54h; failed at 90h, never restored
  { service: 'checkout', environment: 'prod', position: 1, outcome: 'succeeded', at: h(6), artifactRegisteredAt: h(0) },
  { service: 'checkout', environment: 'prod', position: 1, outcome: 'failed', at: h(50), artifactRegisteredAt: h(40) },
  { service: 'checkout', environment: 'prod', position: 1, outcome: 'succeeded', at: h(54), artifactRegisteredAt: h(31) },
  { service: 'checkout', environment: 'prod', position: 1, outcome: 'rolled-back', at: h(90), artifactRegisteredAt: h(88) },
  // before the period: does not count (but could restore nothing either)
  { service: 'checkout', environment: 'prod', position: 1, outcome: 'succeeded', at: h(-5), artifactRegisteredAt: h(-10) },
];

describe('computeDora', () => {
  const [dev, prod] = computeDora(records, period);

  it('dev: 3 deployments in 4 days, 1 of 3 failed, lead times 2h and 2h, restored after 3h', () => {
    expect(dev).toMatchObject({
      service: 'checkout',
      environment: 'dev',
      lastEnvironment: false,
      deployments: 3,
      successes: 2,
      failures: 1,
      deploymentsPerDay: 0.75,
      changeFailureRate: 1 / 3,
      leadTime: { count: 2, medianSeconds: 7200, meanSeconds: 7200 },
      timeToRestore: { count: 1, medianSeconds: 3 * 3600, meanSeconds: 3 * 3600, unrestored: 0 },
    });
  });

  it('prod, the last environment: lead times 6h and 23h (median 14.5h), failure rate 2/4, one restore of 4h and one outstanding', () => {
    expect(prod).toMatchObject({
      environment: 'prod',
      lastEnvironment: true,
      deployments: 4,
      successes: 2,
      failures: 2,
      deploymentsPerDay: 1,
      changeFailureRate: 0.5,
      leadTime: { count: 2, medianSeconds: 14.5 * 3600, meanSeconds: 14.5 * 3600 },
      timeToRestore: { count: 1, medianSeconds: 4 * 3600, unrestored: 1 },
    });
  });

  it('gives one trend entry per day', () => {
    expect(prod!.daily).toEqual([
      { day: '2026-11-01', deployments: 1, failures: 0 },
      { day: '2026-11-02', deployments: 0, failures: 0 },
      { day: '2026-11-03', deployments: 2, failures: 1 },
      { day: '2026-11-04', deployments: 1, failures: 1 },
    ]);
  });

  it('buckets by UTC calendar day when the period does not start at midnight', () => {
    const [, shifted] = computeDora(records, { from: h(20), to: h(20) + 86_400_000 });
    expect(shifted!.daily).toEqual([
      { day: '2026-11-01', deployments: 0, failures: 0 },
      { day: '2026-11-02', deployments: 0, failures: 0 },
    ]);
  });

  it('has no rates where nothing happened', () => {
    const [quiet] = computeDora([{ ...records[7]! }], period);
    expect(quiet).toMatchObject({ deployments: 0, changeFailureRate: null, leadTime: { count: 0, medianSeconds: null } });
  });
});

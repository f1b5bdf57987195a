import { describe, expect, it } from 'vitest';
import type { GateStep } from './compiled-plan.ts';
import { gateLeaseMs, gateRunMs, PLAN_LIMITS, planRunProblem } from './plan-limits.ts';
import { validatePlan } from './validate-plan.ts';

describe('plan limits', () => {
  it('every plan that validates can run: the largest values the validator allows pass the run check', () => {
    const largest = validatePlan({
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 1 },
        { type: 'pause', duration: '720h' },
        { type: 'approval', count: 10, expiresAfter: '720h' },
        { type: 'analysis', interval: '1h', minDuration: '24h', maxDuration: '24h' },
        { type: 'smoke', checks: [{ path: '/', maxLatency: '60s' }], retries: 9, retryDelay: 0 },
        { type: 'webhook', url: 'http://127.0.0.1/', timeout: '60s', retries: 8 },
        { type: 'setWeight', weight: 100 },
      ],
      watch: { duration: '24h', analysis: { interval: '1h' } },
    });
    expect(largest.ok).toBe(true);
    if (largest.ok) expect(planRunProblem(largest.plan)).toBeNull();
    for (const spec of [
      { strategy: 'blue-green', keepOldFor: '720h' },
      { strategy: 'rolling', batches: [50, 100], interval: '720h' },
    ]) {
      const result = validatePlan(spec);
      expect(result.ok && planRunProblem(result.plan)).toBeNull();
    }
  });

  it.each<[string, GateStep, number]>([
    // 4 attempts of 10 s and the 400 + 800 + 1600 ms between them.
    ['webhook, defaults', { type: 'webhook', url: 'http://x/', timeoutMs: 10_000, retries: 3 }, 42_800],
    // Backoff stops doubling at 5 s.
    ['webhook, many retries', { type: 'webhook', url: 'http://x/', timeoutMs: 100, retries: 6 }, 700 + 400 + 800 + 1600 + 3200 + 5000 + 5000],
    // 3 rounds as slow as the slowest check (no maxLatency: 10 s), 2 delays.
    [
      'smoke, defaults',
      {
        type: 'smoke',
        checks: [
          { path: '/', expectStatus: 200, maxLatencyMs: 500, bodyContains: null },
          { path: '/b', expectStatus: 200, maxLatencyMs: null, bodyContains: null },
        ],
        retries: 2,
        retryDelayMs: 2000,
      },
      34_000,
    ],
    [
      'analysis',
      { type: 'analysis', intervalMs: 10_000, minDurationMs: 0, maxDurationMs: 600_000, alpha: 0.01, metrics: [], onInconclusive: 'pause', watch: false },
      610_000,
    ],
  ])('the longest run of a gate: %s', (_name, step, ms) => {
    expect(gateRunMs(step)).toBe(ms);
  });

  it('a gate lease outlasts the longest run twice over, so a slow gate is never asked again while it runs', () => {
    const webhook: GateStep = { type: 'webhook', url: 'http://x/', timeoutMs: 60_000, retries: 8 };
    expect(gateRunMs(webhook)).toBeLessThanOrEqual(PLAN_LIMITS.gateRunMs);
    expect(gateLeaseMs(webhook)).toBe(2 * gateRunMs(webhook) + 30_000);
  });
});

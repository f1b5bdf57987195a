import { describe, expect, it } from 'vitest';
import { validatePlan } from './validate-plan.ts';

describe('validatePlan', () => {
  it('compiles a canary plan with defaults filled in', () => {
    const result = validatePlan({
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 5 },
        { type: 'analysis', interval: '5s', maxDuration: '2m' },
        { type: 'pause', duration: '10m' },
        { type: 'pause' },
        { type: 'setWeight', weight: 100 },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.rollback).toEqual({ automatic: true });
    expect(result.plan.steps).toEqual([
      { type: 'setWeight', weight: 5 },
      expect.objectContaining({
        type: 'analysis',
        intervalMs: 5000,
        maxDurationMs: 120_000,
        alpha: 0.01,
        onInconclusive: 'pause',
        metrics: [{ name: 'error-rate', kind: 'errors', tolerance: 1.5, thresholdMs: null }],
      }),
      { type: 'pause', durationMs: 600_000 },
      { type: 'pause', durationMs: null },
      { type: 'setWeight', weight: 100 },
    ]);
  });

  it('compiles blue-green into preview, checks, switch and a hold that keeps the old version', () => {
    const result = validatePlan({
      strategy: 'blue-green',
      checks: [{ type: 'smoke', checks: [{ path: '/healthz' }] }],
      keepOldFor: '15m',
      rollback: { automatic: false },
    });
    expect(result.ok && result.plan).toMatchObject({
      strategy: 'blue-green',
      rollback: { automatic: false },
      steps: [
        { type: 'setWeight', weight: 0 },
        { type: 'smoke', retries: 2 },
        { type: 'setWeight', weight: 100 },
        { type: 'hold', durationMs: 900_000 },
      ],
    });
  });

  it('compiles rolling batches with a check after each and a pause between them, and a watch window after 100%', () => {
    const result = validatePlan({
      strategy: 'rolling',
      batches: [25, 100],
      check: { type: 'webhook', url: 'http://127.0.0.1/check' },
      interval: '30s',
      watch: { duration: '5m' },
    });
    expect(result.ok && result.plan.steps.map((s) => s.type)).toEqual(['setWeight', 'webhook', 'pause', 'setWeight', 'webhook', 'analysis']);
    expect(result.ok && result.plan.steps[5]).toMatchObject({ watch: true, minDurationMs: 300_000, maxDurationMs: 300_000, onInconclusive: 'pass' });
  });

  it('reports every problem at once, each with its path', () => {
    const result = validatePlan({
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 50 },
        { type: 'setWeight', weight: 20 },
        { type: 'pause', duration: 'soon' },
        { type: 'setWeight', weight: 150 },
        { type: 'teleport' },
        {
          type: 'analysis',
          interval: '100ms',
          metrics: [
            { name: 'e', kind: 'errors' },
            { name: 'e', kind: 'bytes' },
          ],
        },
        { type: 'webhook', url: 'ftp://x', colour: 'red' },
      ],
      rollback: { automatic: 'yes' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(
      expect.arrayContaining([
        'steps[1].weight: must not go below the previous setWeight (50); use rollback to reduce traffic',
        expect.stringMatching(/^steps\[2\]\.duration: must be a duration/),
        'steps[3].weight: must be an integer 0–100',
        'steps[4].type: must be one of setWeight, pause, analysis, smoke, webhook, approval',
        'steps[5].interval: must be a duration from 1s to 1h',
        'steps[5].metrics[1].kind: must be errors, latency or ratio',
        'steps[5].metrics[1].name: duplicates metric "e"',
        expect.stringMatching(/^steps\[6\]\.colour: is not a known field/),
        expect.stringMatching(/^steps\[6\]\.url: must match/),
        'rollback.automatic: must be true or false',
      ]),
    );
  });

  it('rejects a missing or unknown strategy and malformed batches', () => {
    expect(validatePlan(null)).toEqual({ ok: false, problems: [{ path: '(plan)', message: 'must be an object with a strategy' }] });
    expect(validatePlan({ strategy: 'yolo' })).toMatchObject({ ok: false, problems: [{ path: 'strategy' }] });
    const rolling = validatePlan({ strategy: 'rolling', batches: [50, 40] });
    expect(!rolling.ok && rolling.problems.map((p) => p.path)).toEqual(['batches[1]', 'batches[1]']);
  });

  describe('bounds: every duration, count and size has a limit, so every plan that validates can run', () => {
    const canary = (step: unknown) => ({ strategy: 'canary', steps: [{ type: 'setWeight', weight: 10 }, step, { type: 'setWeight', weight: 100 }] });
    const problems = (spec: unknown) => {
      const result = validatePlan(spec);
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };
    const smoke = (fields: object) => ({ type: 'smoke', checks: [{ path: '/healthz' }], ...fields });
    const webhook = (fields: object) => ({ type: 'webhook', url: 'http://127.0.0.1/gate', ...fields });
    const analysis = (fields: object) => ({ type: 'analysis', ...fields });
    const metric = (fields: object) => analysis({ metrics: [{ name: 'm', kind: 'latency', ...fields }] });
    const many = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));

    it.each([
      // Durations no date can hold: the issue's own examples.
      ['a pause of 9999999999h', canary({ type: 'pause', duration: '9999999999h' }), 'steps[1].duration: must be a duration from 0 to 720h'],
      ['a pause of 1e300 seconds', canary({ type: 'pause', duration: 1e300 }), 'steps[1].duration: must be a duration from 0 to 720h'],
      ['a pause just over 30 days', canary({ type: 'pause', duration: '721h' }), 'steps[1].duration: must be a duration from 0 to 720h'],
      ['a negative pause', canary({ type: 'pause', duration: -5 }), expect.stringMatching(/^steps\[1\]\.duration: must be a duration such as/)],
      ['a pause of 0', canary({ type: 'pause', duration: '0s' }), 'steps[1].duration: must be more than 0 (leave duration out to pause until resumed)'],
      ['an approval expiring after 1e300 s', canary({ type: 'approval', expiresAfter: 1e300 }), 'steps[1].expiresAfter: must be a duration from 1m to 720h'],
      [
        'an approval expiring before anyone can give it',
        canary({ type: 'approval', expiresAfter: '30s' }),
        'steps[1].expiresAfter: must be a duration from 1m to 720h',
      ],
      ['an approval expiring at once', canary({ type: 'approval', expiresAfter: 0 }), 'steps[1].expiresAfter: must be a duration from 1m to 720h'],
      ['eleven approvals', canary({ type: 'approval', count: 11 }), 'steps[1].count: must be an integer 1–10'],
      ['half an approval', canary({ type: 'approval', count: 1.5 }), 'steps[1].count: must be an integer 1–10'],
      ['no approval at all', canary({ type: 'approval', count: 0 }), 'steps[1].count: must be an integer 1–10'],
      ['an approver group of 201 characters', canary({ type: 'approval', group: 'g'.repeat(201) }), 'steps[1].group: must be at most 200 characters'],
      [
        'blue-green keeping the old version 9999999999h',
        { strategy: 'blue-green', keepOldFor: '9999999999h' },
        'keepOldFor: must be a duration from 0 to 720h',
      ],
      ['rolling with an interval of 1e300 s', { strategy: 'rolling', batches: [50, 100], interval: 1e300 }, 'interval: must be a duration from 0 to 720h'],
      ['a batch of 50.5%', { strategy: 'rolling', batches: [50.5, 100] }, 'batches[0]: must be an integer 1–100'],
      ['a watch of a week', { strategy: 'blue-green', watch: { duration: '168h' } }, 'watch.duration: must be a duration from 1s to 24h'],
      [
        'a watch shorter than its interval',
        { strategy: 'blue-green', watch: { duration: '5s' } },
        'watch.duration: must be at least watch.analysis.interval (10s): no look would happen before it ends',
      ],
      // Analysis
      ['an analysis of 9999999999h', canary(analysis({ maxDuration: '9999999999h' })), 'steps[1].maxDuration: must be a duration from 1s to 24h'],
      ['an analysis of 0', canary(analysis({ maxDuration: 0 })), 'steps[1].maxDuration: must be a duration from 1s to 24h'],
      ['a minDuration of 1e300 s', canary(analysis({ minDuration: 1e300 })), 'steps[1].minDuration: must be a duration from 0 to 24h'],
      ['an interval of two hours', canary(analysis({ interval: '2h', maxDuration: '24h' })), 'steps[1].interval: must be a duration from 1s to 1h'],
      ['an interval of 0', canary(analysis({ interval: 0 })), 'steps[1].interval: must be a duration from 1s to 1h'],
      [
        'an interval longer than maxDuration',
        canary(analysis({ interval: '5m', maxDuration: '2m' })),
        'steps[1].interval: must not exceed maxDuration (2m): no look would happen before the limit',
      ],
      [
        'a maxDuration shorter than the default interval',
        canary(analysis({ maxDuration: '5s' })),
        'steps[1].interval: must not exceed maxDuration (5s); it is 10s when left out: no look would happen before the limit',
      ],
      ['eleven metrics', canary(analysis({ metrics: many(11, (i) => ({ name: `m${i}`, kind: 'errors' })) })), 'steps[1].metrics: must have at most 10 metrics'],
      [
        'a metric name of 65 characters',
        canary(analysis({ metrics: [{ name: 'm'.repeat(65), kind: 'errors' }] })),
        'steps[1].metrics[0].name: must be at most 64 characters',
      ],
      [
        'a tolerance of 1e300',
        canary(analysis({ metrics: [{ name: 'e', kind: 'errors', tolerance: 1e300 }] })),
        'steps[1].metrics[0].tolerance: must be a number 1–100',
      ],
      // Latency metrics that could never be measured: no histogram has a bucket boundary there.
      ['a latency threshold of an hour', canary(metric({ thresholdMs: 3_600_000 })), 'steps[1].metrics[0].thresholdMs: must be a number 1–60000'],
      ['a latency threshold of a microsecond', canary(metric({ thresholdMs: 0.001 })), 'steps[1].metrics[0].thresholdMs: must be a number 1–60000'],
      ['a latency threshold of 0', canary(metric({ thresholdMs: 0 })), 'steps[1].metrics[0].thresholdMs: must be a number 1–60000'],
      [
        'a latency threshold on an error metric',
        canary(analysis({ metrics: [{ name: 'e', kind: 'errors', thresholdMs: 250 }] })),
        'steps[1].metrics[0].thresholdMs: applies to latency metrics only',
      ],
      // Smoke
      ['21 smoke checks', canary(smoke({ checks: many(21, () => ({ path: '/healthz' })) })), 'steps[1].checks: must have at most 20 HTTP checks'],
      ['21 smoke retries', canary(smoke({ retries: 21 })), 'steps[1].retries: must be an integer 0–20'],
      ['-1 smoke retries', canary(smoke({ retries: -1 })), 'steps[1].retries: must be an integer 0–20'],
      ['a smoke retry delay of 9999999999h', canary(smoke({ retryDelay: '9999999999h' })), 'steps[1].retryDelay: must be a duration from 0 to 5m'],
      [
        'a check maxLatency of 0',
        canary(smoke({ checks: [{ path: '/', maxLatency: 0 }] })),
        'steps[1].checks[0].maxLatency: must be more than 0 (leave it out for no latency limit)',
      ],
      [
        'a check maxLatency of an hour',
        canary(smoke({ checks: [{ path: '/', maxLatency: '1h' }] })),
        'steps[1].checks[0].maxLatency: must be a duration from 1ms to 1m',
      ],
      [
        'a bodyContains of 1001 characters',
        canary(smoke({ checks: [{ path: '/', bodyContains: 'x'.repeat(1001) }] })),
        'steps[1].checks[0].bodyContains: must be at most 1000 characters',
      ],
      [
        'smoke rounds that cannot fit one gate run',
        canary(smoke({ retries: 20, retryDelay: '1m' })),
        'steps[1].retries: every round timing out (its slowest check), with retryDelay between rounds, takes up to 1410s: must fit in 10m, the longest one gate run may hold a worker',
      ],
      // Webhook
      ['a webhook timeout of 9999999999h', canary(webhook({ timeout: '9999999999h' })), 'steps[1].timeout: must be a duration from 100ms to 1m'],
      ['a webhook timeout of 0', canary(webhook({ timeout: 0 })), 'steps[1].timeout: must be a duration from 100ms to 1m'],
      ['2.5 webhook retries', canary(webhook({ retries: 2.5 })), 'steps[1].retries: must be an integer 0–20'],
      [
        'a webhook whose timeout × (retries + 1) cannot fit one gate run',
        canary(webhook({ timeout: '60s', retries: 10 })),
        'steps[1].timeout: timeout × (retries + 1), with the backoff between attempts, takes up to 696s: must fit in 10m, the longest one gate run may hold a worker',
      ],
      ['a webhook url of 2001 characters', canary(webhook({ url: `http://example.com/${'x'.repeat(1982)}` })), 'steps[1].url: must be at most 2000 characters'],
      // Counts and sizes
      ['101 steps', { strategy: 'canary', steps: many(101, () => ({ type: 'setWeight', weight: 100 })) }, 'steps: must have at most 100 steps'],
      ['21 blue-green checks', { strategy: 'blue-green', checks: many(21, () => smoke({})) }, 'checks: must have at most 20 gate steps'],
    ])('refuses %s', (_name, spec, message) => {
      expect(problems(spec)).toContainEqual(message);
    });

    it.each([
      ['a pause of exactly 720h', canary({ type: 'pause', duration: '720h' })],
      ['an approval valid for a minute', canary({ type: 'approval', expiresAfter: '1m' })],
      ['an analysis of a day, looking hourly', canary(analysis({ interval: '1h', maxDuration: '24h', minDuration: '1h' }))],
      ['an interval equal to maxDuration', canary(analysis({ interval: '2m', maxDuration: '2m' }))],
      [
        'latency thresholds from 1 ms to 60 s',
        canary(
          analysis({
            metrics: [
              { name: 'fast', kind: 'latency', thresholdMs: 1 },
              { name: 'slow', kind: 'latency', thresholdMs: 60_000 },
            ],
          }),
        ),
      ],
      ['a webhook using its whole run: 9 × 60 s and the backoff', canary(webhook({ timeout: '60s', retries: 8 }))],
      ['a blue-green switch that keeps nothing', { strategy: 'blue-green', keepOldFor: 0 }],
      ['a watch of a day', { strategy: 'rolling', batches: [100], watch: { duration: '24h', analysis: { interval: '1h' } } }],
    ])('accepts %s', (_name, spec) => {
      expect(problems(spec)).toEqual([]);
    });
  });
  describe('ratio metrics: a direction says which way is a regression', () => {
    const plan = (metric: object) => ({
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 10 },
        { type: 'analysis', metrics: [metric] },
      ],
    });
    const compiled = (metric: object) => {
      const result = validatePlan(plan(metric));
      return result.ok ? (result.plan.steps[1] as { metrics: unknown[] }).metrics[0] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };

    it.each([
      [
        'a ratio without a direction: higher is worse',
        { name: 'declines', kind: 'ratio' },
        { name: 'declines', kind: 'ratio', tolerance: 1.5, thresholdMs: null, direction: 'higher-is-worse' },
      ],
      [
        'a ratio where higher is worse',
        { name: 'wrong', kind: 'ratio', direction: 'higher-is-worse', tolerance: 1.2 },
        { name: 'wrong', kind: 'ratio', tolerance: 1.2, thresholdMs: null, direction: 'higher-is-worse' },
      ],
      [
        'a conversion where lower is worse',
        { name: 'conversion', kind: 'ratio', direction: 'lower-is-worse' },
        { name: 'conversion', kind: 'ratio', tolerance: 1.5, thresholdMs: null, direction: 'lower-is-worse' },
      ],
      ['an error metric: no direction stored', { name: 'e', kind: 'errors' }, { name: 'e', kind: 'errors', tolerance: 1.5, thresholdMs: null }],
      [
        'a latency metric: no direction stored',
        { name: 'l', kind: 'latency', thresholdMs: 250 },
        { name: 'l', kind: 'latency', tolerance: 1.5, thresholdMs: 250 },
      ],
      [
        'a direction on errors',
        { name: 'e', kind: 'errors', direction: 'lower-is-worse' },
        ['steps[1].metrics[0].direction: applies to ratio metrics only (errors and slow requests are always worse when higher)'],
      ],
      [
        'a direction on latency, even the default',
        { name: 'l', kind: 'latency', direction: 'higher-is-worse' },
        ['steps[1].metrics[0].direction: applies to ratio metrics only (errors and slow requests are always worse when higher)'],
      ],
      ['an unknown direction', { name: 'r', kind: 'ratio', direction: 'down' }, ['steps[1].metrics[0].direction: must be higher-is-worse or lower-is-worse']],
      [
        'a direction that is not a string',
        { name: 'r', kind: 'ratio', direction: -1 },
        ['steps[1].metrics[0].direction: must be higher-is-worse or lower-is-worse'],
      ],
    ])('%s', (_name, metric, expected) => {
      expect(compiled(metric)).toEqual(expected);
    });
  });
});

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
        'steps[5].interval: must be at least 1000 ms',
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
});

import { describe, expect, it } from 'vitest';
import { judge } from '../judge/judge.ts';
import type { ResponseDiff } from './response-diff.ts';
import { addTallies, differenceRates, emptyShadowTally, latencyHistogram, recordArm, shadowObservations, SHADOW_TALLY_LIMITS } from './shadow-tally.ts';

const same: ResponseDiff = {
  differs: false,
  statusDiffers: false,
  bodyDiffers: false,
  comparedAs: 'json',
  bytesBecause: null,
  paths: [],
  morePaths: 0,
  stoppedAtValues: false,
};
const differ = (paths: string[], statusDiffers = false): ResponseDiff => ({ ...same, differs: true, bodyDiffers: paths.length > 0, statusDiffers, paths });
const request = (i = 0) => ({ method: 'GET', url: `/predict?user=${i}`, primary: { status: 200, latencyMs: 20 } });

describe('shadow tally', () => {
  it('counts each arm against the primary answer, the primary once per request', () => {
    const t = emptyShadowTally();
    recordArm(t, 'shadow', request(), { diff: differ(['$.items[0].score', '$.items[1].score']), status: 200, latencyMs: 30 }, true);
    recordArm(t, 'secondary', request(), { diff: same, status: 200, latencyMs: 22 }, false);
    recordArm(t, 'shadow', request(1), { diff: differ([], true), status: 503, latencyMs: 3 }, true);
    recordArm(t, 'shadow', request(2), { diff: null, error: 'timed out after 5000 ms' }, true);
    expect(t.primary).toMatchObject({ answered: 3, errors: 0 });
    expect(t.shadow).toMatchObject({ compared: 3, differing: 3, statusDiffering: 1, bodyDiffering: 1, errors: 2, noAnswer: 1 });
    expect(t.secondary).toMatchObject({ compared: 1, differing: 0 });
    // Both elements' score is one field.
    expect(t.fields).toEqual({ '$.items[*].score': { shadow: 1, secondary: 0 } });
    expect(t.samples.map((s) => [s.arm, s.otherStatus, s.comparedAs, s.error])).toEqual([
      ['shadow', 200, 'json', null],
      ['shadow', 503, 'json', null],
      ['shadow', 0, 'none', 'timed out after 5000 ms'],
    ]);
    expect(differenceRates(t)).toEqual({ shadow: 1, secondary: 0 });
  });

  it('keeps samples and fields bounded whatever the traffic', () => {
    const t = emptyShadowTally();
    for (let i = 0; i < 1000; i++) recordArm(t, 'shadow', request(i), { diff: differ([`$.f${i}`]), status: 200, latencyMs: 1 }, true);
    expect(t.samples).toHaveLength(SHADOW_TALLY_LIMITS.samplesPerArm);
    expect(Object.keys(t.fields)).toHaveLength(SHADOW_TALLY_LIMITS.fields);
    expect(t.fieldsDropped).toBe(900);
    expect(JSON.stringify(t).length).toBeLessThan(20_000);
  });

  it('adds a lost session to the one that replaced it: counts, histograms, fields; samples stay bounded', () => {
    const a = emptyShadowTally();
    const b = emptyShadowTally();
    for (let i = 0; i < 15; i++) recordArm(a, 'shadow', request(i), { diff: differ(['$.label']), status: 200, latencyMs: 7 }, true);
    for (let i = 0; i < 15; i++) recordArm(b, 'shadow', request(i), { diff: differ(['$.price']), status: 200, latencyMs: 70 }, true);
    b.skipped.overloaded = 2;
    const sum = addTallies(a, b);
    expect(sum.shadow).toMatchObject({ compared: 30, differing: 30 });
    expect(sum.primary.answered).toBe(30);
    expect(sum.fields).toEqual({ '$.label': { shadow: 15, secondary: 0 }, '$.price': { shadow: 15, secondary: 0 } });
    expect(sum.samples).toHaveLength(SHADOW_TALLY_LIMITS.samplesPerArm);
    expect(sum.skipped.overloaded).toBe(2);
    expect(latencyHistogram(sum.shadow.latency).buckets.at(-1)!.count).toBe(30);
    expect(a.shadow.compared).toBe(15); // inputs untouched
  });

  it('makes a cumulative histogram ending at Infinity', () => {
    const t = emptyShadowTally();
    for (const ms of [1, 7, 7, 40, 100_000]) recordArm(t, 'shadow', request(), { diff: same, status: 200, latencyMs: ms }, true);
    const h = latencyHistogram(t.shadow.latency);
    expect(h.buckets.slice(0, 4)).toEqual([
      { le: 5, count: 1 },
      { le: 10, count: 3 },
      { le: 25, count: 3 },
      { le: 50, count: 4 },
    ]);
    expect(h.buckets.at(-1)).toEqual({ le: Infinity, count: 5 });
  });

  // The judge's verdicts on the observations, as the shadow gate feeds them.
  const metrics = [
    { name: 'differences', kind: 'ratio' as const, tolerance: 1.5 },
    { name: 'error-rate', kind: 'errors' as const, tolerance: 1.5 },
    { name: 'latency', kind: 'latency' as const, tolerance: 1.5, thresholdMs: 100 },
  ];
  function run(shadowDiffers: (i: number) => boolean, liveDiffers: (i: number) => boolean, n = 2000) {
    const t = emptyShadowTally();
    let state;
    let verdict;
    for (let i = 0; i < n; i++) {
      recordArm(t, 'shadow', request(i), { diff: shadowDiffers(i) ? differ(['$.label']) : same, status: 200, latencyMs: 20 }, true);
      if (i % 2 === 0) recordArm(t, 'secondary', request(i), { diff: liveDiffers(i) ? differ(['$.label']) : same, status: 200, latencyMs: 20 }, false);
      if (i % 100 === 99) {
        const result = judge({ elapsedSeconds: i / 10, metrics: shadowObservations(t) }, { metrics }, state);
        state = result.state;
        verdict = result.verdict;
        if (verdict.outcome !== 'inconclusive') break;
      }
    }
    return verdict!;
  }

  it('an identical shadow passes; one that differs in 20% of answers fails on differences', () => {
    expect(
      run(
        () => false,
        () => false,
      ).outcome,
    ).toBe('pass');
    const bad = run(
      (i) => i % 5 === 0,
      () => false,
    );
    expect(bad.outcome).toBe('fail');
    expect(bad.metrics.find((m) => m.outcome === 'fail')!.name).toBe('differences');
  });

  it('differences the live version shows on its own are its noise: a shadow as noisy passes', () => {
    expect(
      run(
        (i) => i % 10 === 0,
        (i) => i % 10 === 0,
      ).outcome,
    ).toBe('pass');
  });
});

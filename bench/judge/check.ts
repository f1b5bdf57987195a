/**
 * Keeps the fast path honest: replays a few runs second by second through the real judge()
 * (carrying its state, as the worker does) and asserts it fails at the same second as the
 * benchmark's fast path. "pooled" is judge() called without its state, on cumulative counts.
 */
import { judge, type JudgeConfig, type JudgeState, type MetricObservation } from '@glidepath/core';
import { ALPHA, type Scenario, type SetName } from './model.ts';
import { simulateRun, slotsOf, SLOT_WIDTH, type Snapshot } from './simulate.ts';

const errors = { name: 'errors', kind: 'errors' } as const;
const latency = { name: 'latency', kind: 'latency' } as const;
const ratio = { name: 'declines', kind: 'ratio' } as const;
const CONFIGS: Record<SetName, JudgeConfig> = {
  errors: { alpha: ALPHA, metrics: [errors] },
  errorsK15: { alpha: ALPHA, metrics: [{ ...errors, tolerance: 1.5 }] },
  errorsA005: { alpha: ALPHA / 2, metrics: [errors] },
  latency: { alpha: ALPHA, metrics: [latency] },
  multi: { alpha: ALPHA, metrics: [errors, latency, ratio] },
  pooled: { alpha: ALPHA, metrics: [errors] },
};

function observations(snap: Snapshot): MetricObservation[] {
  return [{ ...errors, ...snap.errors }, ...(snap.latency ? [{ ...latency, ...snap.latency }] : []), ...(snap.ratio ? [{ ...ratio, ...snap.ratio }] : [])];
}

/** Returns the mismatches as text (empty when judge() and the fast path agree). */
export function checkRun(s: Scenario, run: number): string[] {
  const sets = s.sets;
  const states = new Map<SetName, JudgeState | undefined>();
  const failAt = new Map<SetName, number>(sets.map((set) => [set, -1]));
  const fast = simulateRun(s, run, (snap) => {
    const input = { elapsedSeconds: snap.t, metrics: observations(snap) };
    for (const set of sets) {
      if (failAt.get(set)! > 0) continue;
      const { verdict, state } = judge(input, CONFIGS[set], set === 'pooled' ? undefined : states.get(set));
      states.set(set, state);
      if (verdict.outcome === 'fail') failAt.set(set, snap.t);
    }
  });
  const slots = slotsOf(s);
  return sets.flatMap((set) => {
    const i = slots.findIndex((x) => x.set === set && x.judge === 'ours');
    const t = fast[i * SLOT_WIDTH]!;
    return t === failAt.get(set) ? [] : [`${s.key} run ${run} ${set}: fast path ${t}, judge() ${failAt.get(set)}`];
  });
}

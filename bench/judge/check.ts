/**
 * Keeps the fast path honest: replays a few runs second by second through the real judge()
 * (carrying its state, as the worker does), with its over-dispersion allowance (ours) and
 * without it (poisson), and asserts each fails at the same second as the benchmark's fast path,
 * and (errors, ours) first passes at the same second (judge() with no minimum duration).
 * "pooled" is judge() called without its state, on cumulative counts (Poisson only).
 */
import { judge as judge_, type JudgeConfig, type JudgeState, type MetricObservation } from '@glidepath/core';
import { ALPHA, type Scenario, type SetName } from './model.ts';
import { judgesOf, simulateRun, slotsOf, SLOT_WIDTH, type JudgeName, type Snapshot } from './simulate.ts';

const errors = { name: 'errors', kind: 'errors' } as const;
const latency = { name: 'latency', kind: 'latency' } as const;
const ratio = { name: 'declines', kind: 'ratio' } as const;
const CONFIGS: Record<SetName, JudgeConfig> = {
  errors: { alpha: ALPHA, metrics: [errors] },
  errorsK15: { alpha: ALPHA, metrics: [{ ...errors, tolerance: 1.5 }] },
  errorsA005: { alpha: ALPHA / 2, metrics: [errors] },
  latency: { alpha: ALPHA, metrics: [latency] },
  multi: { alpha: ALPHA, metrics: [errors, latency, ratio] },
  pooled: { alpha: ALPHA, metrics: [errors], dispersion: false },
};
const configOf = (set: SetName, judge: JudgeName): JudgeConfig => (judge === 'poisson' ? { ...CONFIGS[set], dispersion: false } : CONFIGS[set]);

function observations(snap: Snapshot): MetricObservation[] {
  return [{ ...errors, ...snap.errors }, ...(snap.latency ? [{ ...latency, ...snap.latency }] : []), ...(snap.ratio ? [{ ...ratio, ...snap.ratio }] : [])];
}

/** Returns the mismatches as text (empty when judge() and the fast path agree). */
export function checkRun(s: Scenario, run: number): string[] {
  const pairs = s.sets.flatMap((set) =>
    judgesOf(set)
      .filter((j) => j === 'ours' || j === 'poisson')
      .map((judge) => ({ set, judge, key: `${set}/${judge}` })),
  );
  const states = new Map<string, JudgeState | undefined>();
  const failAt = new Map<string, number>(pairs.map((p) => [p.key, -1]));
  let passAt = -1;
  const fast = simulateRun(s, run, (snap) => {
    const input = { elapsedSeconds: snap.t, metrics: observations(snap) };
    for (const { set, judge, key } of pairs) {
      if (failAt.get(key)! > 0) continue;
      const { verdict, state } = judge_(input, configOf(set, judge), set === 'pooled' ? undefined : states.get(key));
      states.set(key, state);
      if (verdict.outcome === 'fail') failAt.set(key, snap.t);
      if (key === 'errors/ours' && passAt < 0 && verdict.outcome === 'pass') passAt = snap.t;
    }
  });
  const slots = slotsOf(s);
  return pairs.flatMap(({ set, judge, key }) => {
    const i = slots.findIndex((x) => x.set === set && x.judge === judge);
    const t = fast[i * SLOT_WIDTH]!;
    const problems = t === failAt.get(key) ? [] : [`${s.key} run ${run} ${key}: fast path ${t}, judge() ${failAt.get(key)}`];
    // The fast path notes a pass where the test saw events or a block close; judge() may see the 500th request later.
    const pass = fast[i * SLOT_WIDTH + 3]!;
    if (key === 'errors/ours' && pass !== passAt) problems.push(`${s.key} run ${run} ${key}: fast path passes at ${pass}, judge() at ${passAt}`);
    return problems;
  });
}

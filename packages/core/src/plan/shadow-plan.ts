import { checkIgnoreFields, checkMethods, IDEMPOTENT_METHODS } from '../shadow/mirror-session.ts';
import { SHADOW_METRICS } from '../shadow/shadow-tally.ts';
import type { AnalysisMetric, GateStep, ShadowStep } from './compiled-plan.ts';
import { PLAN_LIMITS as L } from './plan-limits.ts';

type Obj = Record<string, unknown>;

/** The validator's helpers a shadow plan needs (validate-plan.ts), each naming the field at fault. */
export interface PlanChecks {
  fail(path: string, message: string): undefined;
  object(value: unknown, path: string, known: string[]): Obj | undefined;
  number(value: unknown, path: string, min: number, max: number, options?: { integer?: boolean; fallback?: number }): number | undefined;
  string(value: unknown, path: string, options: { optional?: boolean; pattern?: RegExp; maxLength: number }): string | undefined;
  analysis(s: Obj, path: string, checkOwnFields: boolean): Extract<GateStep, { type: 'analysis' }> | undefined;
}

const DEFAULT_TOLERANCE = 1.5;

/**
 * `{ strategy: 'shadow', mirror: { url }, analysis?, compare? }` compiles to one shadow step. What
 * follows a passing shadow is decided here: nothing. The release ends succeeded ("the shadow
 * passed") with the new version on the idle slot and all traffic still on the live one; a canary
 * or blue-green release of the same artifact does the promotion, with its own gates. A shadow
 * that continued into a canary by itself would make one release both a comparison and a
 * promotion, with two meanings of "succeeded"; two releases keep each verdict its own.
 */
export function shadowSteps(v: PlanChecks, s: Obj): ShadowStep[] | undefined {
  const mirror = v.object(s.mirror, 'mirror', ['url']);
  const mirrorUrl = mirror && v.string(mirror.url, 'mirror.url', { pattern: /^https?:\/\/\S+$/, maxLength: L.urlLength });
  const a = s.analysis === undefined ? {} : v.object(s.analysis, 'analysis', ['interval', 'minDuration', 'maxDuration', 'alpha', 'onInconclusive']);
  const analysis = a && v.analysis(a, 'analysis', true);
  const c =
    s.compare === undefined
      ? {}
      : v.object(s.compare, 'compare', ['methods', 'ignoreFields', 'sampleRate', 'baselineShare', 'tolerance', 'latencyTolerance', 'latencyThresholdMs']);
  if (!c) return undefined;
  const methods = checkMethods(c.methods ?? [...IDEMPOTENT_METHODS], 'compare.methods');
  const fields = checkIgnoreFields(c.ignoreFields ?? [], 'compare.ignoreFields');
  for (const p of [...methods.problems, ...fields.problems]) v.fail(p.path, p.message);
  // Live's second answers (the baseline the shadow's differences are judged against) are asked for reads only, never to
  // write twice: a plan mirroring only writes would have no baseline and its analysis could never reach a verdict.
  const reads: readonly string[] = IDEMPOTENT_METHODS;
  if (methods.methods && !methods.methods.some((m) => reads.includes(m)))
    v.fail(
      'compare.methods',
      `must include a read (${IDEMPOTENT_METHODS.join(', ')}): the live version's own difference rate, which the shadow's is judged against, is measured on reads only`,
    );
  const sampleRate = v.number(c.sampleRate, 'compare.sampleRate', 0.0001, 1, { fallback: 1 });
  // Some copies must go to the live version twice: its own difference rate is what the shadow's is judged against.
  const baselineShare = v.number(c.baselineShare, 'compare.baselineShare', 0.01, 1, { fallback: 0.5 });
  const tolerance = v.number(c.tolerance, 'compare.tolerance', 1, 100, { fallback: DEFAULT_TOLERANCE });
  const latencyTolerance = v.number(c.latencyTolerance, 'compare.latencyTolerance', 1, 100, { fallback: DEFAULT_TOLERANCE });
  const thresholdMs =
    c.latencyThresholdMs === undefined ? null : v.number(c.latencyThresholdMs, 'compare.latencyThresholdMs', L.minLatencyThresholdMs, L.latencyThresholdMs);
  if (
    !mirrorUrl ||
    !analysis ||
    !methods.methods ||
    !fields.fields ||
    sampleRate === undefined ||
    baselineShare === undefined ||
    tolerance === undefined ||
    latencyTolerance === undefined ||
    thresholdMs === undefined
  )
    return undefined;
  // The judge's metrics are fixed: the difference rate against the live version's own (its noise),
  // and the shadow's errors and latency against the live version's answers to the same requests.
  const metrics: AnalysisMetric[] = [
    { name: SHADOW_METRICS.differences, kind: 'ratio', tolerance, thresholdMs: null, direction: 'higher-is-worse' },
    { name: SHADOW_METRICS.errors, kind: 'errors', tolerance: DEFAULT_TOLERANCE, thresholdMs: null },
    { name: SHADOW_METRICS.latency, kind: 'latency', tolerance: latencyTolerance, thresholdMs },
  ];
  const { intervalMs, minDurationMs, maxDurationMs, alpha, onInconclusive } = analysis;
  return [
    {
      type: 'shadow',
      mirrorUrl,
      methods: methods.methods,
      ignoreFields: fields.fields,
      sampleRate,
      baselineShare,
      intervalMs,
      minDurationMs,
      maxDurationMs,
      alpha,
      metrics,
      onInconclusive,
    },
  ];
}

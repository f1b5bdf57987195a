import type { Histogram } from '../judge/latency.ts';
import type { MetricObservation } from '../judge/types.ts';
import { generalizePath, type ResponseDiff } from './response-diff.ts';

/**
 * What a shadow comparison has counted since mirroring started: the proxy keeps one, serves it
 * as JSON, and the shadow gate turns it into the judge's observations. Two arms are compared with
 * the live version's answer to each copied request (its primary answer, the one the user got):
 * - shadow: the new version's answer to the same request;
 * - secondary: the live version's own second answer to it, for a sample of requests. How often
 *   the live version disagrees with itself (timestamps, random ids, load-dependent answers) is the
 *   baseline a shadow's differences are judged against (Twitter's Diffy does the same), so that
 *   noise the ignored fields missed does not fail a release.
 * Bounded whatever the traffic: counts, a fixed histogram, at most MAX_FIELDS paths and
 * MAX_SAMPLES samples per arm (paths and statuses only, never bodies: they may hold user data).
 */
export interface ShadowTally {
  shadow: ArmTally;
  secondary: ArmTally;
  /** The live version's answers to the copied requests (the baseline of errors and latency). */
  primary: { answered: number; errors: number; latency: number[] };
  /** Per differing field (indexes generalised: `$.items[*].score`), how often each arm differed there. */
  fields: Record<string, { shadow: number; secondary: number }>;
  /** Differing fields not counted because MAX_FIELDS were already. */
  fieldsDropped: number;
  /** Requests not copied, by why: a method not mirrored, outside the sample rate, the copy queue full, a body over the capture limit. */
  skipped: { method: number; sample: number; overloaded: number; bodyTooLarge: number };
  samples: ShadowSample[];
}

export interface ArmTally {
  /** Answers compared with the primary one (a copy that got no answer counts, as differing and as an error). */
  compared: number;
  differing: number;
  statusDiffering: number;
  bodyDiffering: number;
  /** 5xx answers, and copies that got none (refused, reset, timed out). */
  errors: number;
  noAnswer: number;
  /** Latency counts per SHADOW_LATENCY_BUCKETS_MS bucket (not cumulative; the last is above the top bound). */
  latency: number[];
}

export interface ShadowSample {
  arm: 'shadow' | 'secondary';
  method: string;
  /** The request's path and query, at most 200 characters. */
  url: string;
  primaryStatus: number;
  /** 0: no answer (why in `error`). */
  otherStatus: number;
  primaryLatencyMs: number;
  otherLatencyMs: number | null;
  comparedAs: 'json' | 'bytes' | 'none';
  /** Differing field paths, at most 10. */
  paths: string[];
  error: string | null;
}

/** Upper bounds (ms) of the latency buckets every tally uses, so the judge can compare them. */
export const SHADOW_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000] as const;
export const SHADOW_TALLY_LIMITS = { fields: 100, samplesPerArm: 20, samplePaths: 10, urlLength: 200 } as const;

const emptyArm = (): ArmTally => ({
  compared: 0,
  differing: 0,
  statusDiffering: 0,
  bodyDiffering: 0,
  errors: 0,
  noAnswer: 0,
  latency: new Array(SHADOW_LATENCY_BUCKETS_MS.length + 1).fill(0),
});

export function emptyShadowTally(): ShadowTally {
  return {
    shadow: emptyArm(),
    secondary: emptyArm(),
    primary: { answered: 0, errors: 0, latency: new Array(SHADOW_LATENCY_BUCKETS_MS.length + 1).fill(0) },
    fields: {},
    fieldsDropped: 0,
    skipped: { method: 0, sample: 0, overloaded: 0, bodyTooLarge: 0 },
    samples: [],
  };
}

function bucketOf(ms: number): number {
  const i = SHADOW_LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
  return i === -1 ? SHADOW_LATENCY_BUCKETS_MS.length : i;
}

export interface CopiedRequest {
  method: string;
  url: string;
  primary: { status: number; latencyMs: number };
}

/** The outcome of one arm for one request: a diff, or no answer with why. */
export type ArmOutcome = { diff: ResponseDiff; status: number; latencyMs: number } | { diff: null; error: string };

/**
 * Counts the primary answer of a copied request once, when its first arm is recorded (the
 * caller passes `countPrimary` for that one). The tally is the caller's accumulator and is
 * changed in place: the proxy records thousands of these a second.
 */
export function recordArm(tally: ShadowTally, arm: 'shadow' | 'secondary', request: CopiedRequest, outcome: ArmOutcome, countPrimary: boolean): void {
  if (countPrimary) {
    tally.primary.answered += 1;
    if (request.primary.status >= 500) tally.primary.errors += 1;
    tally.primary.latency[bucketOf(request.primary.latencyMs)]! += 1;
  }
  const t = tally[arm];
  t.compared += 1;
  if (!outcome.diff) {
    Object.assign(t, { differing: t.differing + 1, errors: t.errors + 1, noAnswer: t.noAnswer + 1 });
    sample(tally, arm, request, { otherStatus: 0, otherLatencyMs: null, comparedAs: 'none', paths: [], error: outcome.error });
    return;
  }
  const { diff } = outcome;
  if (outcome.status >= 500) t.errors += 1;
  t.latency[bucketOf(outcome.latencyMs)]! += 1;
  if (!diff.differs) return;
  t.differing += 1;
  if (diff.statusDiffers) t.statusDiffering += 1;
  if (diff.bodyDiffers) t.bodyDiffering += 1;
  for (const field of new Set(diff.paths.map(generalizePath))) {
    const counts = tally.fields[field];
    if (counts) counts[arm] += 1;
    else if (Object.keys(tally.fields).length < SHADOW_TALLY_LIMITS.fields) tally.fields[field] = { shadow: 0, secondary: 0, [arm]: 1 };
    else tally.fieldsDropped += 1;
  }
  sample(tally, arm, request, {
    otherStatus: outcome.status,
    otherLatencyMs: outcome.latencyMs,
    comparedAs: diff.comparedAs,
    paths: diff.paths.slice(0, SHADOW_TALLY_LIMITS.samplePaths),
    error: null,
  });
}

function sample(
  tally: ShadowTally,
  arm: 'shadow' | 'secondary',
  request: CopiedRequest,
  rest: Pick<ShadowSample, 'otherStatus' | 'otherLatencyMs' | 'comparedAs' | 'paths' | 'error'>,
): void {
  if (tally.samples.filter((s) => s.arm === arm).length >= SHADOW_TALLY_LIMITS.samplesPerArm) return;
  tally.samples.push({
    arm,
    method: request.method,
    url: request.url.slice(0, SHADOW_TALLY_LIMITS.urlLength),
    primaryStatus: request.primary.status,
    primaryLatencyMs: request.primary.latencyMs,
    ...rest,
  });
}

/** A tally's latency counts as the judge's cumulative histogram. */
export function latencyHistogram(counts: readonly number[]): Histogram {
  let sum = 0;
  const buckets = counts.map((n, i) => ({ le: SHADOW_LATENCY_BUCKETS_MS[i] ?? Infinity, count: (sum += n) }));
  return { buckets };
}

/** The names of the metrics a shadow step judges (the plan's compare settings give their tolerances). */
export const SHADOW_METRICS = { differences: 'differences', errors: 'error-rate', latency: 'latency' } as const;

/**
 * The judge's observations from a tally: `differences` (ratio, higher is worse): the shadow's
 * differing answers against the live version's own (its noise); `error-rate`: the shadow's 5xx
 * against the live version's on the same requests; `latency`: the shadow's against the live
 * version's on the same requests.
 */
export function shadowObservations(tally: ShadowTally): MetricObservation[] {
  return [
    {
      name: SHADOW_METRICS.differences,
      kind: 'ratio',
      canary: { total: tally.shadow.compared, events: tally.shadow.differing },
      baseline: { total: tally.secondary.compared, events: tally.secondary.differing },
    },
    {
      name: SHADOW_METRICS.errors,
      kind: 'errors',
      canary: { total: tally.shadow.compared, events: tally.shadow.errors },
      baseline: { total: tally.primary.answered, events: tally.primary.errors },
    },
    { name: SHADOW_METRICS.latency, kind: 'latency', canary: latencyHistogram(tally.shadow.latency), baseline: latencyHistogram(tally.primary.latency) },
  ];
}

/** The share of compared answers that differ, per arm, for people (null before any comparison). */
export function differenceRates(tally: ShadowTally): { shadow: number | null; secondary: number | null } {
  const rate = (a: ArmTally) => (a.compared > 0 ? a.differing / a.compared : null);
  return { shadow: rate(tally.shadow), secondary: rate(tally.secondary) };
}

/**
 * Two tallies as one: the counts of a session the proxy lost (it restarted) carried into the
 * one that replaced it, so the judge's counts never go down. Samples and fields stay bounded.
 */
export function addTallies(a: ShadowTally, b: ShadowTally): ShadowTally {
  const sum = (x: readonly number[], y: readonly number[]) => x.map((n, i) => n + (y[i] ?? 0));
  const arm = (x: ArmTally, y: ArmTally): ArmTally => ({
    compared: x.compared + y.compared,
    differing: x.differing + y.differing,
    statusDiffering: x.statusDiffering + y.statusDiffering,
    bodyDiffering: x.bodyDiffering + y.bodyDiffering,
    errors: x.errors + y.errors,
    noAnswer: x.noAnswer + y.noAnswer,
    latency: sum(x.latency, y.latency),
  });
  const fields: ShadowTally['fields'] = structuredClone(a.fields);
  let fieldsDropped = a.fieldsDropped + b.fieldsDropped;
  for (const [path, counts] of Object.entries(b.fields)) {
    const mine = fields[path];
    if (mine) Object.assign(mine, { shadow: mine.shadow + counts.shadow, secondary: mine.secondary + counts.secondary });
    else if (Object.keys(fields).length < SHADOW_TALLY_LIMITS.fields) fields[path] = { ...counts };
    else fieldsDropped += 1;
  }
  const samples = [...a.samples];
  for (const s of b.samples) if (samples.filter((x) => x.arm === s.arm).length < SHADOW_TALLY_LIMITS.samplesPerArm) samples.push(s);
  return {
    shadow: arm(a.shadow, b.shadow),
    secondary: arm(a.secondary, b.secondary),
    primary: {
      answered: a.primary.answered + b.primary.answered,
      errors: a.primary.errors + b.primary.errors,
      latency: sum(a.primary.latency, b.primary.latency),
    },
    fields,
    fieldsDropped,
    skipped: {
      method: a.skipped.method + b.skipped.method,
      sample: a.skipped.sample + b.skipped.sample,
      overloaded: a.skipped.overloaded + b.skipped.overloaded,
      bodyTooLarge: a.skipped.bodyTooLarge + b.skipped.bodyTooLarge,
    },
    samples,
  };
}

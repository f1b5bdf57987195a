import type { CompiledPlan, GateStep, Step } from './compiled-plan.ts';
import { formatDuration } from './duration.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The largest (and, where zero means nothing, smallest) values a plan may hold: every plan that
 * validates can run. Each bound is a product decision, stated with its reason; none comes close to
 * what a date, a PostgreSQL timestamp or a queue delay can hold, so a release never meets one.
 */
export const PLAN_LIMITS = {
  /**
   * Any one wait of a release: a pause, a blue-green hold (keepOldFor), a rolling interval, an
   * approval's expiry. A release holds its environment while it waits; a month is longer than any
   * bake or sign-off, and the environment policy's approval expiry stops at the same 720h.
   */
  waitMs: 30 * DAY,
  /** Below a minute nobody can be told, read the evidence and approve (the policy's approvalExpiresAfter starts there too). */
  minApprovalExpiryMs: MINUTE,
  /** An analysis (maxDuration) or a watch after promotion: a day of canary traffic decides, or more time will not. */
  analysisMs: DAY,
  /** Time between two looks of an analysis: at least a second (each look queries the metrics source), at most an hour. */
  minAnalysisIntervalMs: SECOND,
  analysisIntervalMs: HOUR,
  /**
   * One run of a smoke or webhook gate is one job that holds a worker slot from its first request
   * to its verdict: every attempt timing out, with every pause between attempts, must fit in this.
   */
  gateRunMs: 10 * MINUTE,
  /** A webhook gate's answer, or a smoke check's (maxLatency): an HTTP call slower than a minute has failed. */
  minWebhookTimeoutMs: 100,
  webhookTimeoutMs: MINUTE,
  smokeCheckTimeoutMs: MINUTE,
  smokeRetryDelayMs: 5 * MINUTE,
  retries: 20,
  approvals: 10,
  steps: 100,
  /** Metrics share the analysis' alpha (Bonferroni): past ten, each test needs far more traffic to decide. */
  metrics: 10,
  smokeChecks: 20,
  blueGreenChecks: 20,
  /**
   * A latency threshold is counted at a histogram bucket boundary at or above it (judge/latency.ts).
   * HTTP latency histograms have no boundaries below a millisecond or above a minute (Prometheus'
   * defaults run 5 ms–10 s), so a threshold outside 1 ms–60 s could never be measured.
   */
  minLatencyThresholdMs: 1,
  latencyThresholdMs: MINUTE,
  nameLength: 64,
  groupLength: 200,
  urlLength: 2000,
  bodyContainsLength: 1000,
} as const;

/** A smoke check with no maxLatency gives up after this long. */
export const SMOKE_CHECK_TIMEOUT_MS = 10 * SECOND;

/** The pause before webhook gate attempt `attempt` (1 for the first retry): 400 ms, doubling, at most 5 s. */
export function webhookBackoffMs(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 5 * SECOND);
}

/** The longest one run of a gate takes when everything goes wrong: each attempt times out, each pause is waited. */
export function gateRunMs(step: GateStep): number {
  switch (step.type) {
    case 'webhook': {
      let backoff = 0;
      for (let attempt = 1; attempt <= step.retries; attempt++) backoff += webhookBackoffMs(attempt);
      return (step.retries + 1) * step.timeoutMs + backoff;
    }
    case 'smoke': {
      // The checks of a round run together: a round lasts as long as its slowest check may.
      const round = Math.max(...step.checks.map((c) => c.maxLatencyMs ?? SMOKE_CHECK_TIMEOUT_MS));
      return (step.retries + 1) * round + step.retries * step.retryDelayMs;
    }
    case 'analysis':
    case 'shadow':
      // The last look comes at maxDuration, at most an interval late.
      return step.maxDurationMs + step.intervalMs;
  }
}

const GATE_LEASE_GRACE_MS = 30_000;

/** How long a gate may run before the reconciler assumes its job was lost and asks again. */
export function gateLeaseMs(step: Step): number {
  switch (step.type) {
    case 'analysis':
    case 'shadow':
      return step.maxDurationMs + 2 * step.intervalMs + GATE_LEASE_GRACE_MS;
    case 'smoke':
    case 'webhook':
      // Twice the longest run: a gate job may wait for a free worker before it starts.
      return 2 * gateRunMs(step) + GATE_LEASE_GRACE_MS;
    default:
      return GATE_LEASE_GRACE_MS;
  }
}

/**
 * Why a stored step cannot run, or null. Plans are validated when saved, but a release keeps the
 * plan it was started with: one saved before these limits existed (or written to the database by
 * hand) may wait longer than a date can hold. The state machine asks this before setting a timer,
 * and fails the release with the answer instead of throwing on every reconcile.
 */
export function stepRunProblem(step: Step): string | null {
  const s = step as unknown as Record<string, unknown> | null;
  const wait = (ms: unknown, what: string) => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return `${what} ${String(ms)}, which is not a duration`;
    return ms > PLAN_LIMITS.waitMs ? `${what} ${formatDuration(ms)}: beyond the ${formatDuration(PLAN_LIMITS.waitMs)} limit of any step` : null;
  };
  switch (s?.type) {
    case 'setWeight':
      return Number.isInteger(s.weight) && (s.weight as number) >= 0 && (s.weight as number) <= 100 ? null : `sets weight ${String(s.weight)}, not 0–100`;
    case 'pause':
      return s.durationMs === null ? null : wait(s.durationMs, 'waits');
    case 'hold':
      return wait(s.durationMs, 'holds the old version for');
    case 'approval':
      return s.expiresAfterMs === null ? null : wait(s.expiresAfterMs, 'expires after');
    case 'analysis':
    case 'shadow':
    case 'smoke':
    case 'webhook': {
      let lease = NaN;
      try {
        lease = gateLeaseMs(step);
      } catch {
        // A stored gate without the fields its type needs: NaN says "not a duration".
      }
      return wait(lease, 'may run for');
    }
    default:
      return 'is not a step this version runs';
  }
}

/** Why a stored plan cannot run, naming its first step that cannot; null when every step can. */
export function planRunProblem(plan: CompiledPlan): string | null {
  if (!plan || !Array.isArray(plan.steps) || plan.steps.length === 0) return 'the plan has no steps';
  for (const [i, step] of plan.steps.entries()) {
    const problem = stepRunProblem(step);
    if (problem) return `step ${i} (${String((step as { type?: unknown } | null)?.type)}) ${problem}`;
  }
  return null;
}

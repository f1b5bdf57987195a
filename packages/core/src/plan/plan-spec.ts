/**
 * A release plan as users write it (JSON, or YAML at the API), before validation. Every
 * strategy compiles to one list of steps that the state machine runs (compile-plan.ts).
 * Every duration, count and size has an upper bound (plan-limits.ts), so every plan that
 * validates can run: the bounds are in the comments below.
 */
/** "500ms", "30s", "10m", "2h", or a number of seconds. */
export type Duration = string | number;

export type GateStepSpec =
  | {
      type: 'analysis';
      /** 1s–1h, at most maxDuration; default 10s. */
      interval?: Duration;
      /** 0–maxDuration. */
      minDuration?: Duration;
      /** 1s–24h; default 10m. */
      maxDuration?: Duration;
      /** 0.000001–0.2; default 0.01. */
      alpha?: number;
      /** 1–10 metrics. */
      metrics?: AnalysisMetricSpec[];
      onInconclusive?: InconclusiveOutcome;
    }
  /** 1–20 checks, retries 0–20 (default 2), retryDelay 0–5m (default 2s); every round failing slowly must fit in 10m. */
  | { type: 'smoke'; checks: SmokeCheckSpec[]; retries?: number; retryDelay?: Duration }
  /** An http(s) url of at most 2000 characters, timeout 100ms–60s (default 10s), retries 0–20 (default 3); timeout × (retries + 1) with backoff must fit in 10m. */
  | { type: 'webhook'; url: string; timeout?: Duration; retries?: number }
  /** count 1–10 (default 1), group at most 200 characters, expiresAfter 1m–720h (default: none). */
  | { type: 'approval'; group?: string; count?: number; expiresAfter?: Duration };

/** weight: an integer 0–100; a pause's duration: more than 0, at most 720h (left out: until resumed). At most 100 steps. */
export type StepSpec = { type: 'setWeight'; weight: number } | { type: 'pause'; duration?: Duration } | GateStepSpec;

export interface AnalysisMetricSpec {
  /** At most 64 characters, unique in the step. */
  name: string;
  kind: 'errors' | 'latency' | 'ratio';
  /** Fail when the canary is worse than `tolerance` × the baseline: 1–100, default 1.5. */
  tolerance?: number;
  /** For latency only, 1–60000: the canary's share of requests slower than this is compared with the baseline's. */
  thresholdMs?: number;
  /**
   * For ratio only (default higher-is-worse): which way the numerator ÷ denominator is a regression.
   * higher-is-worse: fail when the canary's rate exceeds tolerance × the baseline's (declined payments, wrong predictions);
   * lower-is-worse: fail when it falls below the baseline's ÷ tolerance (checkout conversion, accuracy).
   */
  direction?: MetricDirection;
}

export type MetricDirection = 'higher-is-worse' | 'lower-is-worse';

export interface SmokeCheckSpec {
  /** Starts with "/", at most 2000 characters. */
  path: string;
  /** 100–599; default 200. */
  expectStatus?: number;
  /** Also the check's timeout (10s when left out): more than 0, at most 60s. */
  maxLatency?: Duration;
  /** At most 1000 characters. */
  bodyContains?: string;
}

export type InconclusiveOutcome = 'pass' | 'fail' | 'pause';

export interface RollbackPolicySpec {
  /** Route all traffic back to stable as soon as a gate fails. On unless set to false. */
  automatic?: boolean;
}

interface PlanCommon {
  rollback?: RollbackPolicySpec;
  /** What a running release does when its environment's deploy window closes: hold at the next step boundary (default) or continue. */
  windows?: { onClose?: 'hold' | 'continue' };
  /** After full promotion, keep judging for this long (1s–24h, at least the interval); a failing verdict still rolls back. */
  watch?: { duration: Duration; analysis?: Omit<Extract<GateStepSpec, { type: 'analysis' }>, 'type'> };
  /**
   * The traffic the service serves (both versions; where the plan runs in several environments, the least of them):
   * requestsPerSecond 0.001–10,000,000, errorRate 0.000001–0.999 (default 0.01). Only validation reads it, to warn
   * when an analysis' maxDuration is too short for a verdict at that traffic.
   */
  traffic?: { requestsPerSecond: number; errorRate?: number };
}

/**
 * A shadow release (shadow-plan.ts): the new version, deployed on the idle slot, gets copies of real
 * requests from Glidepath's mirroring proxy and serves nothing; the judge weighs how often its answers
 * differ from the live version's against how often the live version differs from itself. The release
 * ends at the verdict: succeeded means "the shadow passed", and users never reached it; a canary or
 * blue-green release of the same artifact then does the promotion.
 */
export interface ShadowCompareSpec {
  /** HTTP methods copied: default GET, HEAD, OPTIONS (idempotent only); others only when named here. */
  methods?: string[];
  /** Fields left out of the comparison: a key anywhere (`timestamp`) or a path (`$.meta.*`, `$.items[*].id`); at most 50. */
  ignoreFields?: string[];
  /** The share of eligible requests copied, 0–1 (default 1). */
  sampleRate?: number;
  /** The share of copied requests also sent to the live version again to measure its own noise, 0.01–1 (default 0.5). */
  baselineShare?: number;
  /** Fail when the shadow's answers differ more than tolerance × the live version's own rate: 1–100, default 1.5. */
  tolerance?: number;
  /** Latency: fail when the shadow is slower than latencyTolerance × the live version on the same requests (1–100, default 1.5). */
  latencyTolerance?: number;
  /** Latency: compare the share slower than this (1–60000 ms) instead of the live version's median and p95. */
  latencyThresholdMs?: number;
}

export type PlanSpec =
  | (PlanCommon & { strategy: 'canary'; steps: StepSpec[] })
  /** At most 20 checks; keepOldFor 0–720h, default 5m. */
  | (PlanCommon & { strategy: 'blue-green'; checks?: GateStepSpec[]; keepOldFor?: Duration })
  /** batches: ascending integers 1–100 ending at 100; interval 0–720h. */
  | (PlanCommon & { strategy: 'rolling'; batches: number[]; check?: GateStepSpec; interval?: Duration })
  /** mirror.url: the mirroring proxy's control API (http(s), at most 2000 characters). analysis: as an analysis step, without metrics. watch is refused (nothing is promoted). */
  | (PlanCommon & {
      strategy: 'shadow';
      mirror: { url: string };
      analysis?: Omit<Extract<GateStepSpec, { type: 'analysis' }>, 'type' | 'metrics'>;
      compare?: ShadowCompareSpec;
    });

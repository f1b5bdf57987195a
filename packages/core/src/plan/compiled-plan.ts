import type { InconclusiveOutcome, MetricDirection } from './plan-spec.ts';

/** Validated, normalised plan: durations in ms, defaults filled in, one flat list of steps. */
export interface AnalysisMetric {
  name: string;
  kind: 'errors' | 'latency' | 'ratio';
  tolerance: number;
  thresholdMs: number | null;
  /** Ratio metrics only (always set on them; absent on other kinds and on plans stored before it existed: higher-is-worse). */
  direction?: MetricDirection;
}

export interface SmokeCheck {
  path: string;
  expectStatus: number;
  maxLatencyMs: number | null;
  bodyContains: string | null;
}

/** How an analysis is judged: by an analysis step, and by a shadow step on its comparison. */
export interface AnalysisJudging {
  intervalMs: number;
  minDurationMs: number;
  maxDurationMs: number;
  alpha: number;
  metrics: AnalysisMetric[];
  onInconclusive: InconclusiveOutcome;
}

export type GateStep =
  | ({ type: 'analysis'; watch: boolean } & AnalysisJudging)
  | { type: 'smoke'; checks: SmokeCheck[]; retries: number; retryDelayMs: number }
  | { type: 'webhook'; url: string; timeoutMs: number; retries: number }
  | ShadowStep;

/**
 * A shadow release's one step (shadow-plan.ts): the mirroring proxy at `mirrorUrl` copies real
 * requests to the release's slot, and the judge weighs the differences like an analysis step
 * (its fields, with metrics differences, error-rate and latency) until a verdict or maxDuration.
 */
export interface ShadowStep extends AnalysisJudging {
  type: 'shadow';
  mirrorUrl: string;
  methods: string[];
  ignoreFields: string[];
  sampleRate: number;
  baselineShare: number;
}

export type Step =
  | { type: 'setWeight'; weight: number }
  | { type: 'pause'; durationMs: number | null }
  | { type: 'approval'; group: string | null; count: number; expiresAfterMs: number | null }
  /** Blue-green: the old version stays up this long so that a rollback is an instant switch back. */
  | { type: 'hold'; durationMs: number }
  | GateStep;

export type GateType = GateStep['type'];
export const GATE_TYPES: readonly GateType[] = ['analysis', 'smoke', 'webhook', 'shadow'];

export function isGate(step: Step): step is GateStep {
  return (GATE_TYPES as readonly string[]).includes(step.type);
}

export interface CompiledPlan {
  /** shadow: the new version serves nothing; the release ends at the verdict, never promoted (shadow-release.ts). */
  strategy: 'canary' | 'blue-green' | 'rolling' | 'shadow';
  steps: Step[];
  rollback: { automatic: boolean };
  /** Hold at the next step boundary when the deploy window closes (absent: hold), or continue. */
  onWindowClose?: 'hold' | 'continue';
}

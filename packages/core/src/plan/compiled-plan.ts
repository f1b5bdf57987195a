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

export type GateStep =
  | {
      type: 'analysis';
      intervalMs: number;
      minDurationMs: number;
      maxDurationMs: number;
      alpha: number;
      metrics: AnalysisMetric[];
      onInconclusive: InconclusiveOutcome;
      watch: boolean;
    }
  | { type: 'smoke'; checks: SmokeCheck[]; retries: number; retryDelayMs: number }
  | { type: 'webhook'; url: string; timeoutMs: number; retries: number };

export type Step =
  | { type: 'setWeight'; weight: number }
  | { type: 'pause'; durationMs: number | null }
  | { type: 'approval'; group: string | null; count: number; expiresAfterMs: number | null }
  /** Blue-green: the old version stays up this long so that a rollback is an instant switch back. */
  | { type: 'hold'; durationMs: number }
  | GateStep;

export type GateType = GateStep['type'];
export const GATE_TYPES: readonly GateType[] = ['analysis', 'smoke', 'webhook'];

export function isGate(step: Step): step is GateStep {
  return (GATE_TYPES as readonly string[]).includes(step.type);
}

export interface CompiledPlan {
  strategy: 'canary' | 'blue-green' | 'rolling';
  steps: Step[];
  rollback: { automatic: boolean };
  /** Hold at the next step boundary when the deploy window closes (absent: hold), or continue. */
  onWindowClose?: 'hold' | 'continue';
}

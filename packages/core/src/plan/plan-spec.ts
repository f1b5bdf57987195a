/**
 * A release plan as users write it (JSON, or YAML at the API), before validation. Every
 * strategy compiles to one list of steps that the state machine runs (compile-plan.ts).
 */
export type Duration = string | number;

export type GateStepSpec =
  | {
      type: 'analysis';
      interval?: Duration;
      minDuration?: Duration;
      maxDuration?: Duration;
      alpha?: number;
      metrics?: AnalysisMetricSpec[];
      onInconclusive?: InconclusiveOutcome;
    }
  | { type: 'smoke'; checks: SmokeCheckSpec[]; retries?: number; retryDelay?: Duration }
  | { type: 'webhook'; url: string; timeout?: Duration; retries?: number }
  | { type: 'approval'; group?: string; count?: number; expiresAfter?: Duration };

export type StepSpec = { type: 'setWeight'; weight: number } | { type: 'pause'; duration?: Duration } | GateStepSpec;

export interface AnalysisMetricSpec {
  name: string;
  kind: 'errors' | 'latency' | 'ratio';
  /** Fail when the canary is worse than `tolerance` × the baseline. */
  tolerance?: number;
  /** For latency: the canary's share of requests slower than this is compared with the baseline's. */
  thresholdMs?: number;
}

export interface SmokeCheckSpec {
  path: string;
  expectStatus?: number;
  maxLatency?: Duration;
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
  /** After full promotion, keep judging for this long; a failing verdict still rolls back. */
  watch?: { duration: Duration; analysis?: Omit<Extract<GateStepSpec, { type: 'analysis' }>, 'type'> };
}

export type PlanSpec =
  | (PlanCommon & { strategy: 'canary'; steps: StepSpec[] })
  | (PlanCommon & { strategy: 'blue-green'; checks?: GateStepSpec[]; keepOldFor?: Duration })
  | (PlanCommon & { strategy: 'rolling'; batches: number[]; check?: GateStepSpec; interval?: Duration });

// Shapes of the API's JSON replies (see /api/docs).

export interface AuditEvent {
  seq: string;
  id: string;
  /** A person: their user id and email (name); a token: its name (id). */
  actor: { type: 'user' | 'token' | 'system'; id: string; name?: string };
  action: string;
  subject: { type: string; id: string };
  environmentId: string | null;
  before: unknown;
  after: unknown;
  payload: unknown;
  reason: string | null;
  requestId: string | null;
  createdAt: string;
  prevHash: string;
  hash: string;
}

export interface AuditPage {
  items: AuditEvent[];
  nextCursor: string | null;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  lastSeq: string | null;
  firstBroken?: { seq: string; id: string; problem: string };
}

export interface DependencyCheck {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: { postgres: DependencyCheck; redis: DependencyCheck };
}

export interface StreamMessage {
  type: string;
  data: unknown;
}

// Releases (see /api/v1/releases in /api/docs).

export const PHASES = ['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'succeeded', 'failed', 'rolled-back', 'aborted'] as const;
export type Phase = (typeof PHASES)[number];
/** Phases whose release has ended: its finishedAt is set. (`failed` is not one: its traffic split still stands.) */
export const TERMINAL_PHASES: readonly Phase[] = ['succeeded', 'rolled-back', 'aborted'];

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** The compiled plan's step: durations in ms, defaults filled in. */
export type StepSpec =
  | { type: 'setWeight'; weight: number }
  | { type: 'pause'; durationMs: number | null }
  | { type: 'approval'; group: string | null; count: number; expiresAfterMs: number | null }
  | { type: 'hold'; durationMs: number }
  | {
      type: 'analysis';
      intervalMs: number;
      minDurationMs: number;
      maxDurationMs: number;
      alpha: number;
      metrics: Array<{ name: string; kind: MetricKind; tolerance: number; thresholdMs: number | null }>;
      onInconclusive: 'pass' | 'fail' | 'pause';
      watch: boolean;
    }
  | { type: 'smoke'; checks: Array<{ path: string; expectStatus: number; maxLatencyMs: number | null; bodyContains: string | null }>; retries: number }
  | { type: 'webhook'; url: string; timeoutMs: number; retries: number };

export interface ReleaseStep {
  index: number;
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** When the engine looks again: end of a pause or hold, approval expiry. */
  wakeAt: string | null;
  evidence: unknown;
  approvals: Array<{ actorId: string; display?: string; comment: string | null; at: string }>;
  spec: StepSpec;
}

export interface Release {
  id: string;
  service: { id: string; name: string };
  environment: { id: string; name: string };
  artifact: { id: string; version: string; digest: string };
  plan: { id: string; name: string; version: number; strategy: string; automaticRollback: boolean };
  phase: Phase;
  stepIndex: number;
  /** Share of traffic on the new version, 0–100. */
  canaryWeight: number;
  reason: string | null;
  /** Queued: when the environment opens (deploy windows, freezes). */
  opensAt: string | null;
  /** Run under break-glass: who, why, when. */
  breakGlass: { by: string; display: string; reason: string; at: string } | null;
  /** `<actor type>:<actor id>` */
  requestedBy: string;
  /** Optimistic-lock version: grows with every change. */
  version: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: ReleaseStep[];
}

export interface ReleasePage {
  items: Release[];
  nextCursor: string | null;
}

export type Outcome = 'pass' | 'fail' | 'inconclusive';
export type MetricKind = 'errors' | 'latency' | 'ratio';

/** Counts since the analysis step started. A rate is null while its total is 0. */
export interface SideCounts {
  total: number;
  events: number;
  rate: number | null;
}

/** One sequential test of the canary judge. Stored JSON has no Infinity: such numbers arrive as null. */
export interface TestEvidence {
  label: string;
  thresholdMs?: number | null;
  canary: SideCounts;
  baseline: SideCounts;
  rateRatio: number | null;
  tolerance: number;
  alpha: number;
  /** ln of the e-value now, and its running maximum: the test fails once the maximum reaches logThreshold = ln(1/alpha). */
  logEValue: number | null;
  maxLogEValue: number | null;
  logThreshold: number | null;
  outcome: Outcome;
}

export interface MetricVerdict {
  name: string;
  kind: MetricKind;
  outcome: Outcome;
  reason: string;
  alpha: number;
  tests: TestEvidence[];
}

export interface Verdict {
  outcome: Outcome;
  reason: string;
  elapsedSeconds: number;
  at: string | null;
  alpha: number;
  metrics: MetricVerdict[];
  /** Where the counts came from and over which window; null without data. */
  source?: { type: string; from?: string; to?: string } | null;
  noData?: boolean;
  /** Which interval of the step this look folded in. */
  look?: number;
}

/** One look of an analysis step. */
export interface Measurement {
  stepIndex: number;
  attempt: number;
  seq: number;
  elapsedSeconds: number;
  outcome: Outcome;
  verdict: Verdict;
  measuredAt: string;
}

export interface Transition {
  version: number;
  event: {
    type: string;
    actorId?: string;
    reason?: string | null;
    comment?: string | null;
    stepIndex?: number;
    outcome?: string;
    summary?: string;
    fromStep?: number;
  };
  fromPhase: Phase;
  toPhase: Phase;
  fromStep: number;
  toStep: number;
  effects: Array<{ type: string; weight?: number; gate?: string; stepIndex?: number }> | null;
  at: string;
}

export interface ReleaseDetail extends Release {
  measurements: Measurement[];
  history: Transition[];
}

/** `release.updated` on the live stream: the small form of a release after every change. */
export interface ReleaseUpdate {
  id: string;
  serviceId: string;
  environmentId: string;
  version: number;
  phase: Phase;
  stepIndex: number;
  canaryWeight: number;
  reason: string | null;
}

/** `analysis.measured` on the live stream: an analysis step looked at the canary again. */
export interface AnalysisMeasured {
  releaseId: string;
  stepIndex: number;
  attempt: number;
  seq: number;
  elapsedSeconds: number;
  outcome: Outcome;
  metrics: MetricVerdict[];
}

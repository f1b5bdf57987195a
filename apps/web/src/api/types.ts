// Shapes of the API's JSON replies (see /api/docs).

export interface AuditEvent {
  seq: string;
  id: string;
  actor: { type: 'user' | 'token' | 'system'; id: string };
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

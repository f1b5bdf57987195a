import type { Step } from '../plan/compiled-plan.ts';
import type { Approval, ApprovalBinding, ReleaseState, StepState } from './release-state.ts';

/** JSON with object keys sorted, so one value always gives one text, whatever stored it. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** FNV-1a, 64 bits: a fingerprint of the evidence (not a defence against forgery: the record is the audit chain). */
function fingerprint(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** What an approver sees and approves now: the release's subject and the results of the steps before this one. */
export function approvalBinding(state: ReleaseState): ApprovalBinding | null {
  if (!state.subject) return null;
  const evidence = state.steps.slice(0, state.stepIndex).map((s, i) => ({ step: i, status: s.status, attempt: s.attempt, evidence: s.evidence }));
  return { ...state.subject, evidenceHash: fingerprint(canonical(evidence)) };
}

export function sameBinding(a: ApprovalBinding, b: ApprovalBinding): boolean {
  return a.digest === b.digest && a.environmentId === b.environmentId && a.planVersion === b.planVersion && a.evidenceHash === b.evidenceHash;
}

/** The approvals of the current step that still count: bound to the release as it is, and not expired. */
export function countingApprovals(state: ReleaseState, step: Step, s: StepState, now: number): Approval[] {
  const current = approvalBinding(state);
  const validMs = step.type === 'approval' ? step.expiresAfterMs : null;
  return s.approvals.filter((a) => (!current || !a.binding || sameBinding(a.binding, current)) && (validMs === null || Date.parse(a.at) + validMs > now));
}

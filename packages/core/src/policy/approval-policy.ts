import { authorize, type Grant } from '../access/access.ts';
import type { EnvironmentPolicy } from './environment-policy.ts';

/**
 * Who may approve a release, as a pure function over plain data. The API loads the data and
 * applies the answer; the release state machine keeps the count (distinct people, still bound
 * to what they approved, not expired).
 */

/** Someone asking to approve: a signed-in person, or a service-account token. */
export interface Approver {
  kind: 'user' | 'token';
  /** The person behind the credential: a user's id, or a token's owner; a token nobody owns is its own. */
  personKey: string;
  /** Email or token name, for messages and the record. */
  display: string;
  /** The token's name when kind is token (policies name the service accounts allowed to approve). */
  tokenName: string | null;
  groups: readonly string[];
  grants: readonly Grant[];
  /** When the person last authenticated at the identity provider (ms); null for tokens. */
  authTime: number | null;
}

export interface ApprovalRequest {
  policy: EnvironmentPolicy;
  serviceId: string;
  environmentId: string;
  /** The person who asked for the release (personKey of the requesting credential). */
  requesterKey: string;
  /** The group the approval step names, if any (the policy's approverGroup for a protected environment). */
  stepGroup: string | null;
  /** personKeys of the approvals that count so far. */
  approvedBy: readonly string[];
  /** The longest a protected approver's sign-in may be old (ms). */
  maxAuthAgeMs: number;
  now: number;
}

export type ApprovalRefusal = 'requester' | 'not-a-person' | 'not-an-approver' | 'already-approved' | 'reauthenticate';
export type ApprovalDecision = { allowed: true } | { allowed: false; refusal: ApprovalRefusal; reason: string };

/** The personKey of a credential: two credentials of one person share it. */
export function personKeyOf(identity: { kind: 'user' | 'token'; id: string; ownerUserId?: string | null }): string {
  if (identity.kind === 'user') return `user:${identity.id}`;
  return identity.ownerUserId ? `user:${identity.ownerUserId}` : `token:${identity.id}`;
}

/** Holds the approver role where the release runs, or is in the group the policy or step names. */
export function isApprover(
  approver: Pick<Approver, 'grants' | 'groups'>,
  request: Pick<ApprovalRequest, 'policy' | 'serviceId' | 'environmentId' | 'stepGroup'>,
): boolean {
  const scope = { kind: 'resource', serviceId: request.serviceId, environmentId: request.environmentId } as const;
  if (authorize(approver.grants, 'release:approve', scope).allowed) return true;
  const groups = [request.stepGroup, request.policy.approverGroup].filter((g): g is string => Boolean(g));
  return groups.some((g) => approver.groups.includes(g));
}

export function mayApprove(approver: Approver, request: ApprovalRequest): ApprovalDecision {
  const refuse = (refusal: ApprovalRefusal, reason: string): ApprovalDecision => ({ allowed: false, refusal, reason });
  if (approver.personKey === request.requesterKey)
    return refuse('requester', 'the person who requested a release may not approve it, whatever credential they use');
  const { policy } = request;
  if (policy.protected && approver.kind === 'token' && !(approver.tokenName && policy.serviceAccountApprovers.includes(approver.tokenName)))
    return refuse(
      'not-a-person',
      `approvals in a protected environment come from signed-in people; token "${approver.display}" is not one of the policy's serviceAccountApprovers`,
    );
  if (!isApprover(approver, request)) {
    const group = request.stepGroup ?? policy.approverGroup;
    return refuse(
      'not-an-approver',
      `${approver.display} may not approve here: that needs the approver role for this environment${group ? ` or membership of ${group}` : ''}`,
    );
  }
  if (request.approvedBy.includes(approver.personKey)) return refuse('already-approved', `${approver.display} has already approved this step`);
  if (policy.protected && approver.kind === 'user') {
    const age = approver.authTime === null ? Infinity : request.now - approver.authTime;
    if (age > request.maxAuthAgeMs) {
      const minutes = Math.round(request.maxAuthAgeMs / 60_000);
      return refuse('reauthenticate', `approvals in a protected environment need a sign-in from the last ${minutes} minutes: sign in again`);
    }
  }
  return { allowed: true };
}

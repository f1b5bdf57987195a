import { describe, expect, it } from 'vitest';
import type { Grant } from '../access/access.ts';
import { mayApprove, personKeyOf, type Approver, type ApprovalRequest } from './approval-policy.ts';
import { DEFAULT_POLICY, validatePolicy } from './environment-policy.ts';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const minutes = (n: number) => n * 60_000;
const approverOfProd: Grant = { role: 'approver', serviceId: 'svc', environmentId: 'prod' };

const person = (over: Partial<Approver> = {}): Approver => ({
  kind: 'user',
  personKey: 'user:bob',
  display: 'bob@x',
  tokenName: null,
  groups: [],
  grants: [approverOfProd],
  authTime: NOW - minutes(5),
  ...over,
});
const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  policy: { ...DEFAULT_POLICY, protected: true, requiredApprovals: 2, approverGroup: 'prod-approvers' },
  serviceId: 'svc',
  environmentId: 'prod',
  requesterKey: 'user:alice',
  stepGroup: 'prod-approvers',
  approvedBy: [],
  maxAuthAgeMs: minutes(15),
  now: NOW,
  ...over,
});

describe('mayApprove', () => {
  const cases: Array<[string, Approver, ApprovalRequest, string | true]> = [
    ['an approver of the environment, recently signed in', person(), request(), true],
    ['a member of the approver group without the role', person({ grants: [], groups: ['prod-approvers'] }), request(), true],
    ['the requester, never', person({ personKey: 'user:alice' }), request(), 'requester'],
    ['the requester through a token they own', person({ kind: 'token', personKey: 'user:alice', tokenName: 'laptop', authTime: null }), request(), 'requester'],
    ['a token in a protected environment', person({ kind: 'token', personKey: 'token:t1', tokenName: 'ci', authTime: null }), request(), 'not-a-person'],
    [
      'a token the policy names as a service-account approver',
      person({ kind: 'token', personKey: 'token:t1', tokenName: 'release-bot', authTime: null }),
      request({ policy: { ...request().policy, serviceAccountApprovers: ['release-bot'] } }),
      true,
    ],
    [
      'a token in an unprotected environment with the role',
      person({ kind: 'token', personKey: 'token:t1', tokenName: 'ci', authTime: null }),
      request({ policy: { ...DEFAULT_POLICY } }),
      true,
    ],
    [
      'an approver of another environment',
      person({ grants: [{ role: 'approver', serviceId: 'svc', environmentId: 'staging' }] }),
      request(),
      'not-an-approver',
    ],
    ['an admin who is not an approver', person({ grants: [{ role: 'admin', serviceId: null, environmentId: null }] }), request(), 'not-an-approver'],
    ['a deployer', person({ grants: [{ role: 'deployer', serviceId: null, environmentId: null }] }), request(), 'not-an-approver'],
    ['someone who already approved', person(), request({ approvedBy: ['user:bob'] }), 'already-approved'],
    ['a sign-in older than the limit', person({ authTime: NOW - minutes(16) }), request(), 'reauthenticate'],
    ['exactly at the limit', person({ authTime: NOW - minutes(15) }), request(), true],
    [
      'an old sign-in is fine where the environment is not protected',
      person({ authTime: NOW - minutes(600) }),
      request({ policy: { ...DEFAULT_POLICY } }),
      true,
    ],
  ];
  it.each(cases)('%s', (_name, approver, req, expected) => {
    const decision = mayApprove(approver, req);
    if (expected === true) expect(decision).toEqual({ allowed: true });
    else expect(decision).toMatchObject({ allowed: false, refusal: expected });
  });

  it('knows one person behind several credentials', () => {
    expect(personKeyOf({ kind: 'user', id: 'u1' })).toBe('user:u1');
    expect(personKeyOf({ kind: 'token', id: 't1', ownerUserId: 'u1' })).toBe('user:u1');
    expect(personKeyOf({ kind: 'token', id: 't1', ownerUserId: null })).toBe('token:t1');
  });
});

describe('approval settings of an environment policy', () => {
  it.each([
    [{ protected: true }, { approvalExpiresAfter: '24h', serviceAccountApprovers: [] }],
    [
      { protected: true, approvalExpiresAfter: '4h', serviceAccountApprovers: ['release-bot'] },
      { approvalExpiresAfter: '4h', serviceAccountApprovers: ['release-bot'] },
    ],
    [{}, { approvalExpiresAfter: null }],
  ])('%j is valid', (input, expected) => {
    const check = validatePolicy(input);
    expect(check.ok && check.config).toMatchObject(expected);
  });
  it.each([
    [{ approvalExpiresAfter: '10s' }, 'policy.approvalExpiresAfter'],
    [{ approvalExpiresAfter: '9999h' }, 'policy.approvalExpiresAfter'],
    [{ approvalExpiresAfter: 'soon' }, 'policy.approvalExpiresAfter'],
    [{ serviceAccountApprovers: 'ci' }, 'policy.serviceAccountApprovers'],
    [{ serviceAccountApprovers: ['Not A Name'] }, 'policy.serviceAccountApprovers'],
  ])('%j is refused at %s', (input, path) => {
    const check = validatePolicy(input);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.problems.map((p) => p.path)).toContain(path);
  });
});

import { formatDuration, parseDuration } from '../plan/duration.ts';
import { PLAN_LIMITS } from '../plan/plan-limits.ts';
import type { ConfigCheck, ConfigProblem } from '../ports/traffic-router.ts';
import { windowProblems, type DeployWindow, type Freeze } from './deploy-window.ts';

export interface EnvironmentPolicy {
  /** Protected environments need approvals from signed-in people; the requester can never approve their own release. */
  protected: boolean;
  requiredApprovals: number;
  /** A group (from the identity provider's groups claim, or assigned in Glidepath) whose members may approve here. */
  approverGroup: string | null;
  /** How long an approval stays valid, and the longest the approval step waits ("24h"); null: no limit. */
  approvalExpiresAfter: string | null;
  /** Names of service-account tokens allowed to approve in a protected environment (none by default). */
  serviceAccountApprovers: string[];
  /** Recurring windows in which releases may move (none: always); outside them releases queue. */
  windows: DeployWindow[];
  /** Dated freezes: releases queue until they end. */
  freezes: Freeze[];
  /** Whether people with the right may break glass here (start despite windows and freezes, skip approvals). */
  breakGlass: boolean;
}

/** Protected environments' approvals expire after a day unless the policy says otherwise. */
const PROTECTED_APPROVAL_EXPIRY = '24h';
/** The bounds of a policy, besides those of windows and freezes (deploy-window.ts). */
export const POLICY_LIMITS = {
  /** The same as an approval step's: at least a minute to be told, look and approve; at most the 720h any step waits. */
  minApprovalExpiryMs: PLAN_LIMITS.minApprovalExpiryMs,
  approvalExpiryMs: PLAN_LIMITS.waitMs,
  requiredApprovals: PLAN_LIMITS.approvals,
  groupLength: PLAN_LIMITS.groupLength,
  serviceAccountApprovers: 50,
} as const;

export const DEFAULT_POLICY: EnvironmentPolicy = {
  protected: false,
  requiredApprovals: 0,
  approverGroup: null,
  approvalExpiresAfter: null,
  serviceAccountApprovers: [],
  windows: [],
  freezes: [],
  breakGlass: true,
};

/** A policy as stored, with the defaults of fields added since it was saved. */
export function storedPolicy(value: unknown): EnvironmentPolicy {
  return { ...DEFAULT_POLICY, ...(value as Partial<EnvironmentPolicy>) };
}

export function approvalExpiryMs(policy: EnvironmentPolicy): number | null {
  return policy.approvalExpiresAfter === null ? null : parseDuration(policy.approvalExpiresAfter);
}

const POLICY_FIELDS = [
  'protected',
  'requiredApprovals',
  'approverGroup',
  'approvalExpiresAfter',
  'serviceAccountApprovers',
  'windows',
  'freezes',
  'breakGlass',
];

export function validatePolicy(value: unknown): ConfigCheck<EnvironmentPolicy> {
  if (value === undefined) return { ok: true, config: DEFAULT_POLICY };
  const problems: ConfigProblem[] = [];
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, problems: [{ path: 'policy', message: 'must be an object (leave it out for the defaults)' }] };
  // A field left out takes its default; null is a value, and only the nullable fields take it.
  const p = Object.fromEntries(
    Object.entries(value).filter(([key, v]) => v !== undefined && (v !== null || key === 'approverGroup' || key === 'approvalExpiresAfter')),
  );
  for (const [key, v] of Object.entries(value))
    if (v === null && !(key in p) && POLICY_FIELDS.includes(key))
      problems.push({ path: `policy.${key}`, message: 'must not be null (leave it out for the default)' });
  for (const key of Object.keys(value)) if (!POLICY_FIELDS.includes(key)) problems.push({ path: `policy.${key}`, message: 'is not a known field' });
  const isProtected = p.protected ?? false;
  if (typeof isProtected !== 'boolean') problems.push({ path: 'policy.protected', message: 'must be true or false' });
  const requiredApprovals = p.requiredApprovals ?? (isProtected === true ? 1 : 0);
  if (
    typeof requiredApprovals !== 'number' ||
    !Number.isInteger(requiredApprovals) ||
    requiredApprovals < 0 ||
    requiredApprovals > POLICY_LIMITS.requiredApprovals
  ) {
    problems.push({ path: 'policy.requiredApprovals', message: `must be an integer 0–${POLICY_LIMITS.requiredApprovals}` });
  } else if (isProtected === true && requiredApprovals < 1) {
    problems.push({ path: 'policy.requiredApprovals', message: 'must be at least 1 in a protected environment' });
  }
  const approverGroup = p.approverGroup ?? null;
  if (approverGroup !== null && (typeof approverGroup !== 'string' || !approverGroup || approverGroup.length > POLICY_LIMITS.groupLength))
    problems.push({ path: 'policy.approverGroup', message: `must be a non-empty string of at most ${POLICY_LIMITS.groupLength} characters` });
  const expiry = p.approvalExpiresAfter ?? (isProtected === true ? PROTECTED_APPROVAL_EXPIRY : null);
  const approvalExpiresAfterMs = expiry === null ? null : parseDuration(expiry);
  if (
    expiry !== null &&
    (approvalExpiresAfterMs === null || approvalExpiresAfterMs < POLICY_LIMITS.minApprovalExpiryMs || approvalExpiresAfterMs > POLICY_LIMITS.approvalExpiryMs)
  )
    problems.push({
      path: 'policy.approvalExpiresAfter',
      message: `must be a duration from ${formatDuration(POLICY_LIMITS.minApprovalExpiryMs)} to ${formatDuration(POLICY_LIMITS.approvalExpiryMs)}, such as "4h"`,
    });
  const serviceAccountApprovers = p.serviceAccountApprovers ?? [];
  if (
    !Array.isArray(serviceAccountApprovers) ||
    serviceAccountApprovers.length > POLICY_LIMITS.serviceAccountApprovers ||
    new Set(serviceAccountApprovers).size !== serviceAccountApprovers.length ||
    serviceAccountApprovers.some((n) => typeof n !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(n))
  )
    problems.push({
      path: 'policy.serviceAccountApprovers',
      message: `must be a list of at most ${POLICY_LIMITS.serviceAccountApprovers} token names, each once`,
    });
  const windows = p.windows ?? [];
  const freezes = p.freezes ?? [];
  problems.push(...windowProblems(windows, freezes));
  const breakGlass = p.breakGlass ?? true;
  if (typeof breakGlass !== 'boolean') problems.push({ path: 'policy.breakGlass', message: 'must be true or false' });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    config: {
      protected: isProtected as boolean,
      requiredApprovals: requiredApprovals as number,
      approverGroup: approverGroup as string | null,
      approvalExpiresAfter: expiry as string | null,
      serviceAccountApprovers: serviceAccountApprovers as string[],
      windows: windows as DeployWindow[],
      freezes: freezes as Freeze[],
      breakGlass: breakGlass as boolean,
    },
  };
}

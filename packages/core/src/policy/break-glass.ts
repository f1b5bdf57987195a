import { authorize, type Grant } from '../access/access.ts';
import type { EnvironmentPolicy } from './environment-policy.ts';

export type BreakGlassDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Breaking glass (starting or continuing a release during a freeze or outside a window, or
 * skipping its approvals) is for a signed-in person with the right, where the environment
 * allows it, and always with a written reason.
 */
export function mayBreakGlass(
  who: { kind: 'user' | 'token'; display: string; grants: readonly Grant[] },
  where: { policy: EnvironmentPolicy; serviceId: string; environmentId: string },
  reason: string,
): BreakGlassDecision {
  if (!where.policy.breakGlass) return { allowed: false, reason: 'break-glass is disabled in this environment (policy.breakGlass)' };
  if (who.kind !== 'user') return { allowed: false, reason: `break-glass is for signed-in people, not token "${who.display}"` };
  if (!authorize(who.grants, 'release:break-glass', { kind: 'resource', serviceId: where.serviceId, environmentId: where.environmentId }).allowed)
    return { allowed: false, reason: `${who.display} may not break glass here: that needs the admin role for this environment` };
  if (reason.trim().length < 10) return { allowed: false, reason: 'break-glass needs a written reason of at least 10 characters' };
  return { allowed: true };
}

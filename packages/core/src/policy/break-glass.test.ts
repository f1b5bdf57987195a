import { describe, expect, it } from 'vitest';
import type { Grant } from '../access/access.ts';
import { mayBreakGlass } from './break-glass.ts';
import { DEFAULT_POLICY } from './environment-policy.ts';

const adminOf = (serviceId: string | null, environmentId: string | null = null): Grant => ({ role: 'admin', serviceId, environmentId });
const where = { policy: DEFAULT_POLICY, serviceId: 'svc', environmentId: 'prod' };
const reason = 'checkout is down: hotfix';

describe('mayBreakGlass', () => {
  it.each([
    ['a signed-in global admin with a reason', { kind: 'user' as const, display: 'dana', grants: [adminOf(null)] }, where, reason, true],
    ['an admin of this environment', { kind: 'user' as const, display: 'dana', grants: [adminOf('svc', 'prod')] }, where, reason, true],
    ['an admin of another environment', { kind: 'user' as const, display: 'dana', grants: [adminOf('svc', 'staging')] }, where, reason, /needs the admin role/],
    [
      'a deployer',
      { kind: 'user' as const, display: 'al', grants: [{ role: 'deployer', serviceId: null, environmentId: null } as Grant] },
      where,
      reason,
      /needs the admin role/,
    ],
    ['a token, whatever it holds', { kind: 'token' as const, display: 'ci', grants: [adminOf(null)] }, where, reason, /not token "ci"/],
    ['without a real reason', { kind: 'user' as const, display: 'dana', grants: [adminOf(null)] }, where, 'now', /at least 10 characters/],
    [
      'where the policy disables it',
      { kind: 'user' as const, display: 'dana', grants: [adminOf(null)] },
      { ...where, policy: { ...DEFAULT_POLICY, breakGlass: false } },
      reason,
      /disabled/,
    ],
  ])('%s', (_name, who, at, why, expected) => {
    const decision = mayBreakGlass(who, at, why);
    if (expected === true) expect(decision).toEqual({ allowed: true });
    else expect(decision).toMatchObject({ allowed: false, reason: expect.stringMatching(expected as RegExp) });
  });
});

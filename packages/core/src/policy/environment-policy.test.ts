import { describe, expect, it } from 'vitest';
import { validatePolicy } from './environment-policy.ts';

describe('validatePolicy: every duration, count and size of a policy has a bound', () => {
  const problems = (policy: unknown) => {
    const check = validatePolicy(policy);
    return check.ok ? [] : check.problems.map((p) => `${p.path}: ${p.message}`);
  };
  const many = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
  const window = { days: ['mon'], start: '09:00', end: '10:00', timeZone: 'UTC' };
  const freeze = (i: number) => ({ from: `2026-01-01T${String(i % 24).padStart(2, '0')}:00:00Z`, to: '2026-01-02T00:00:00Z', reason: 'x' });

  it.each([
    [
      'an approval expiry of 9999999999h',
      { approvalExpiresAfter: '9999999999h' },
      'policy.approvalExpiresAfter: must be a duration from 1m to 720h, such as "4h"',
    ],
    ['an approval expiry of 1e300 s', { approvalExpiresAfter: 1e300 }, 'policy.approvalExpiresAfter: must be a duration from 1m to 720h, such as "4h"'],
    ['an approval expiry of 0', { approvalExpiresAfter: '0s' }, 'policy.approvalExpiresAfter: must be a duration from 1m to 720h, such as "4h"'],
    ['a negative approval expiry', { approvalExpiresAfter: -60 }, 'policy.approvalExpiresAfter: must be a duration from 1m to 720h, such as "4h"'],
    ['11 required approvals', { requiredApprovals: 11 }, 'policy.requiredApprovals: must be an integer 0–10'],
    ['1.5 required approvals', { requiredApprovals: 1.5 }, 'policy.requiredApprovals: must be an integer 0–10'],
    ['-1 required approvals', { requiredApprovals: -1 }, 'policy.requiredApprovals: must be an integer 0–10'],
    ['1e300 required approvals', { requiredApprovals: 1e300 }, 'policy.requiredApprovals: must be an integer 0–10'],
    [
      'no approvals in a protected environment',
      { protected: true, requiredApprovals: 0 },
      'policy.requiredApprovals: must be at least 1 in a protected environment',
    ],
    ['an approver group of 201 characters', { approverGroup: 'g'.repeat(201) }, 'policy.approverGroup: must be a non-empty string of at most 200 characters'],
    [
      '51 service accounts',
      { serviceAccountApprovers: many(51, (i) => `bot-${i}`) },
      'policy.serviceAccountApprovers: must be a list of at most 50 token names, each once',
    ],
    [
      'a service account twice',
      { serviceAccountApprovers: ['bot', 'bot'] },
      'policy.serviceAccountApprovers: must be a list of at most 50 token names, each once',
    ],
    ['51 windows', { windows: many(51, () => window) }, 'policy.windows: must be a list of at most 50 { days, start, end, timeZone }'],
    ['201 freezes', { freezes: many(201, freeze) }, 'policy.freezes: must be a list of at most 200 { from, to, reason }'],
    [
      'a freeze reason of 501 characters',
      { freezes: [{ ...freeze(0), reason: 'r'.repeat(501) }] },
      'policy.freezes[0].reason: must say why (at most 500 characters)',
    ],
    [
      'a freeze from a date alone',
      { freezes: [{ ...freeze(0), from: '2026-12-24' }] },
      'policy.freezes[0].from: must be a full ISO date-time with a zone, such as 2026-12-24T00:00:00Z',
    ],
    [
      'a freeze to "Dec 24"',
      { freezes: [{ ...freeze(0), to: 'Dec 24' }] },
      'policy.freezes[0].to: must be a full ISO date-time with a zone, such as 2026-12-27T00:00:00Z',
    ],
  ])('refuses %s', (_name, policy, message) => {
    expect(problems(policy)).toContainEqual(message);
  });

  it('accepts the largest values', () => {
    expect(
      problems({
        protected: true,
        requiredApprovals: 10,
        approverGroup: 'g'.repeat(200),
        approvalExpiresAfter: '720h',
        serviceAccountApprovers: many(50, (i) => `bot-${i}`),
        windows: many(50, (i) => {
          const hour = String(i % 24).padStart(2, '0');
          return { days: ['mon'], start: `${hour}:00`, end: `${hour}:59`, timeZone: ['UTC', 'Europe/Berlin', 'Asia/Tokyo'][Math.floor(i / 24)]! };
        }),
        freezes: many(200, freeze),
      }),
    ).toEqual([]);
    expect(problems({ approvalExpiresAfter: '1m' })).toEqual([]);
  });
});

describe('validatePolicy: null is a value', () => {
  it('is refused where the field is not nullable, and for the whole policy; left out means the default', () => {
    expect(validatePolicy(null)).toEqual({ ok: false, problems: [{ path: 'policy', message: 'must be an object (leave it out for the defaults)' }] });
    for (const field of ['protected', 'requiredApprovals', 'serviceAccountApprovers', 'windows', 'freezes', 'breakGlass'])
      expect(validatePolicy({ [field]: null })).toEqual({
        ok: false,
        problems: [{ path: `policy.${field}`, message: 'must not be null (leave it out for the default)' }],
      });
    expect(validatePolicy({ approverGroup: null, approvalExpiresAfter: null }).ok).toBe(true);
    expect(validatePolicy(undefined).ok).toBe(true);
  });
});

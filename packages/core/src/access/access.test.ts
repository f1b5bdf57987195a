import { describe, expect, it } from 'vitest';
import { authorize, visibleScopes, type AccessScope, type Grant, type Permission } from './access.ts';

const checkout = 'svc-checkout';
const search = 'svc-search';
const prod = 'env-checkout-prod';
const staging = 'env-checkout-staging';

const global = (role: Grant['role']): Grant => ({ role, serviceId: null, environmentId: null });
const service = (role: Grant['role'], serviceId = checkout): Grant => ({ role, serviceId, environmentId: null });
const env = (role: Grant['role'], environmentId = prod): Grant => ({ role, serviceId: checkout, environmentId });

const inProd: AccessScope = { kind: 'resource', serviceId: checkout, environmentId: prod };
const inStaging: AccessScope = { kind: 'resource', serviceId: checkout, environmentId: staging };
const onService: AccessScope = { kind: 'resource', serviceId: checkout, environmentId: null };
const elsewhere: AccessScope = { kind: 'resource', serviceId: search, environmentId: null };

describe('authorize', () => {
  const cases: Array<[string, Grant[], Permission, AccessScope, boolean]> = [
    ['nothing granted', [], 'read', { kind: 'any' }, false],
    ['global viewer reads anything', [global('viewer')], 'read', elsewhere, true],
    ['global viewer cannot start a release', [global('viewer')], 'release:start', inProd, false],
    ['deployer of the service starts in any of its environments', [service('deployer')], 'release:start', inProd, true],
    ['deployer of the service cannot start in another service', [service('deployer')], 'release:start', elsewhere, false],
    ['deployer of prod cannot start in staging', [env('deployer')], 'release:start', inStaging, false],
    ['deployer of prod starts in prod', [env('deployer')], 'release:start', inProd, true],
    ['an environment grant does not cover the service itself', [env('admin')], 'service:write', onService, false],
    ['a service grant covers the service', [service('admin')], 'service:write', onService, true],
    ['a service grant never covers a global action', [service('admin')], 'plan:write', { kind: 'global' }, false],
    ['global admin covers global actions', [global('admin')], 'identity:admin', { kind: 'global' }, true],
    ['deployers cannot approve', [global('deployer')], 'release:approve', inProd, false],
    ['approvers cannot deploy', [global('approver')], 'release:control', inProd, false],
    ['approver of prod approves in prod', [env('approver')], 'release:approve', inProd, true],
    ['admins do not approve by being admins', [global('admin')], 'release:approve', inProd, false],
    ['a scoped grant counts for `any`', [env('viewer')], 'read', { kind: 'any' }, true],
    ['`any` still needs the permission', [env('viewer')], 'release:start', { kind: 'any' }, false],
    ['the audit log needs a global grant', [service('admin')], 'audit:read', { kind: 'global' }, false],
    ['any of several grants is enough', [env('viewer'), service('deployer', search)], 'release:control', elsewhere, true],
  ];
  it.each(cases)('%s', (_name, grants, permission, scope, allowed) => {
    expect(authorize(grants, permission, scope).allowed).toBe(allowed);
  });

  it('names the roles that would allow a denied action', () => {
    expect(authorize([], 'release:start', inProd)).toEqual({ allowed: false, rolesThatWould: ['deployer', 'admin'] });
    expect(authorize([], 'release:approve', inProd)).toEqual({ allowed: false, rolesThatWould: ['approver'] });
  });
});

describe('visibleScopes', () => {
  it('is everything with a global grant', () => {
    expect(visibleScopes([env('viewer'), global('approver')], 'read')).toBe('all');
  });
  it('collects services and environments otherwise', () => {
    const scopes = visibleScopes([env('viewer'), service('deployer', search)], 'read');
    expect(scopes).toEqual({ serviceIds: new Set([search]), environmentIds: new Set([prod]) });
  });
});

/**
 * Who may do what, where: one pure function over plain data. A role is granted globally, for
 * a service (all its environments) or for one environment of a service; a permission is asked
 * for at a scope, and a grant covers that scope when it is global or names the same service
 * (and, when it names an environment, the same environment).
 */

export const ROLES = ['viewer', 'deployer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  /** services, environments, artifacts, plans, releases and their evidence, the live stream */
  'read',
  /** the audit log, its export and chain verification; control-plane metrics */
  'audit:read',
  'artifact:register',
  'release:start',
  /** pause, resume, promote, abort, rollback, retry */
  'release:control',
  'release:approve',
  /** start or continue a release despite windows and freezes, skip approvals: people only, with a reason */
  'release:break-glass',
  'service:write',
  'environment:write',
  'plan:write',
  /** users, groups, role bindings, service-account tokens */
  'identity:admin',
  /** outbound event webhooks: subscriptions, their secrets, the delivery log */
  'webhook:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Separation of duties: deployers cannot approve, approvers cannot deploy, and admins, who
 * can do everything else, approve only if they also hold the approver role.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ['read', 'audit:read'],
  deployer: ['read', 'audit:read', 'artifact:register', 'release:start', 'release:control'],
  approver: ['read', 'audit:read', 'release:approve'],
  admin: PERMISSIONS.filter((p) => p !== 'release:approve'),
};

export interface Grant {
  role: Role;
  serviceId: string | null;
  environmentId: string | null;
}

/**
 * Where a permission is asked for. `global`: only a global grant covers it (plans, people,
 * the whole audit log). `any`: a grant anywhere covers it (lists, which are then filtered).
 * Otherwise the service, and the environment when the resource belongs to one.
 */
export type AccessScope = { kind: 'global' } | { kind: 'any' } | { kind: 'resource'; serviceId: string; environmentId: string | null };

export type AccessDecision = { allowed: true } | { allowed: false; rolesThatWould: Role[] };

export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission));
}

export function grantCovers(grant: Grant, scope: AccessScope): boolean {
  if (scope.kind === 'any') return true;
  if (grant.serviceId === null) return true;
  if (scope.kind === 'global') return false;
  if (grant.serviceId !== scope.serviceId) return false;
  return grant.environmentId === null || grant.environmentId === scope.environmentId;
}

export function authorize(grants: readonly Grant[], permission: Permission, scope: AccessScope): AccessDecision {
  const allowed = grants.some((grant) => ROLE_PERMISSIONS[grant.role].includes(permission) && grantCovers(grant, scope));
  return allowed ? { allowed: true } : { allowed: false, rolesThatWould: rolesWith(permission) };
}

/**
 * The services and environments where `permission` is held, for filtering lists: `all` when a
 * global grant gives it.
 */
export function visibleScopes(grants: readonly Grant[], permission: Permission): 'all' | { serviceIds: Set<string>; environmentIds: Set<string> } {
  const serviceIds = new Set<string>();
  const environmentIds = new Set<string>();
  for (const grant of grants) {
    if (!ROLE_PERMISSIONS[grant.role].includes(permission)) continue;
    if (grant.serviceId === null) return 'all';
    if (grant.environmentId === null) serviceIds.add(grant.serviceId);
    else environmentIds.add(grant.environmentId);
  }
  return { serviceIds, environmentIds };
}

import type { Grant, Role } from '@glidepath/core';
import {
  addGroupMember,
  createApiToken,
  deleteRoleBinding,
  findRoleBinding,
  findUser,
  insertRoleBinding,
  listApiTokens,
  listGroups,
  listRoleBindings,
  listUsers,
  removeGroupMember,
  revokeApiToken,
  revokeUserSessions,
  setUserActive,
  type ApiToken,
  type AuditedTransaction,
  type BindingSubjectType,
  type PrismaClient,
  type RoleBindingWithNames,
  type UserWithGroups,
} from '@glidepath/db';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation } from '../http/problems.ts';
import type { ChangeContext } from '../catalog/service-catalog.ts';

export interface ScopedRoleInput {
  role: Role;
  service?: string | null;
  environment?: string | null;
}

export function userJson(user: UserWithGroups) {
  return {
    id: user.id,
    issuer: user.issuer,
    subject: user.subject,
    email: user.email,
    name: user.name,
    groups: { fromProvider: user.idpGroups, assigned: user.groups.map((g) => g.groupName).sort() },
    active: user.active,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    deactivatedAt: user.deactivatedAt?.toISOString() ?? null,
  };
}

function bindingJson(b: RoleBindingWithNames) {
  return {
    id: b.id,
    subject: { type: b.subjectType as BindingSubjectType, id: b.subjectId },
    role: b.role as Role,
    service: b.service?.name ?? null,
    environment: b.environment?.name ?? null,
    createdBy: b.createdBy,
    createdAt: b.createdAt.toISOString(),
  };
}

/** Users, groups, role bindings and service-account tokens; every change audited. */
export function createIdentityService(deps: { prisma: PrismaClient; audited: AuditedTransaction; onIdentityChange: () => void }) {
  const { prisma } = deps;
  /** Every change here can make a credential worth less: the identity cache forgets them all once it commits. */
  const audited: AuditedTransaction = async (work, timing) => {
    try {
      return await deps.audited(work, timing);
    } finally {
      deps.onIdentityChange();
    }
  };

  /** Names to ids, with the field named when one does not exist. */
  async function resolveScope(input: ScopedRoleInput, field: string): Promise<{ serviceId: string | null; environmentId: string | null }> {
    if (!input.service) {
      if (input.environment)
        throw new AppError('validation_failed', `${field}.environment: needs service too`, [{ field: `${field}.environment`, problem: 'needs service too' }]);
      return { serviceId: null, environmentId: null };
    }
    const service = await prisma.service.findUnique({ where: { name: input.service }, select: { id: true } });
    if (!service)
      throw new AppError('unprocessable', `${field}.service: service "${input.service}" does not exist`, [
        { field: `${field}.service`, problem: 'does not exist' },
      ]);
    if (!input.environment) return { serviceId: service.id, environmentId: null };
    const env = await prisma.environment.findUnique({ where: { serviceId_name: { serviceId: service.id, name: input.environment } }, select: { id: true } });
    if (!env)
      throw new AppError('unprocessable', `${field}.environment: "${input.environment}" is not an environment of ${input.service}`, [
        { field: `${field}.environment`, problem: 'does not exist' },
      ]);
    return { serviceId: service.id, environmentId: env.id };
  }

  /** Grants with service and environment names, for people to read. */
  async function describeGrants(grants: Grant[]) {
    const serviceIds = [...new Set(grants.map((g) => g.serviceId).filter((id): id is string => id !== null))];
    const envIds = [...new Set(grants.map((g) => g.environmentId).filter((id): id is string => id !== null))];
    const [services, envs] = await Promise.all([
      serviceIds.length ? prisma.service.findMany({ where: { id: { in: serviceIds } }, select: { id: true, name: true } }) : [],
      envIds.length ? prisma.environment.findMany({ where: { id: { in: envIds } }, select: { id: true, name: true } }) : [],
    ]);
    const serviceName = new Map(services.map((s) => [s.id, s.name]));
    const envName = new Map(envs.map((e) => [e.id, e.name]));
    return grants.map((g) => ({
      role: g.role,
      service: g.serviceId ? (serviceName.get(g.serviceId) ?? g.serviceId) : null,
      environment: g.environmentId ? (envName.get(g.environmentId) ?? g.environmentId) : null,
    }));
  }

  async function requireUser(id: string) {
    const user = await findUser(prisma, id);
    if (!user) throw new AppError('not_found', `user ${id} does not exist`);
    return user;
  }

  async function tokenJson(token: ApiToken, bindings?: RoleBindingWithNames[]) {
    const rows = bindings ?? (await listRoleBindings(prisma, { subjectType: 'token', subjectId: token.id }));
    return {
      id: token.id,
      name: token.name,
      roles: rows.map((b) => ({ role: b.role as Role, service: b.service?.name ?? null, environment: b.environment?.name ?? null })),
      createdBy: token.createdBy,
      ownerUserId: token.ownerUserId,
      createdAt: token.createdAt.toISOString(),
      expiresAt: token.expiresAt?.toISOString() ?? null,
      lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
      revokedAt: token.revokedAt?.toISOString() ?? null,
    };
  }

  return {
    describeGrants,

    async listUsers() {
      return (await listUsers(prisma)).map(userJson);
    },
    async getUser(id: string) {
      return userJson(await requireUser(id));
    },

    /** Deactivating stops the person at once: their sessions are revoked and their tokens refused. */
    async setActive(id: string, active: boolean, ctx: ChangeContext) {
      const before = await requireUser(id);
      if (before.active === active) return userJson(before);
      if (!active && ctx.actor.type === 'user' && ctx.actor.id === id) throw new AppError('conflict', 'you cannot deactivate yourself');
      await audited(async (tx, audit) => {
        await setUserActive(tx, id, active);
        const sessionsEnded = active ? 0 : await revokeUserSessions(tx, id, 'user deactivated');
        await audit({
          actor: ctx.actor,
          action: active ? 'user.activated' : 'user.deactivated',
          subject: { type: 'user', id },
          before: { active: before.active },
          after: { active },
          payload: active ? undefined : { sessionsEnded },
          reason: ctx.reason,
          requestId: ctx.requestId,
        });
      });
      return userJson(await requireUser(id));
    },

    async revokeAllSessions(userId: string, ctx: ChangeContext) {
      return audited(async (tx, audit) => {
        const ended = await revokeUserSessions(tx, userId, 'signed out everywhere');
        await audit({
          actor: ctx.actor,
          action: 'user.signed-out-everywhere',
          subject: { type: 'user', id: userId },
          payload: { sessionsEnded: ended },
          requestId: ctx.requestId,
        });
        return ended;
      });
    },

    async listGroups() {
      return listGroups(prisma);
    },
    async setGroupMember(group: string, userId: string, member: boolean, ctx: ChangeContext) {
      await requireUser(userId);
      await audited(async (tx, audit) => {
        const changed = member ? await addGroupMember(tx, group, userId, ctx.actor.name ?? ctx.actor.id) : await removeGroupMember(tx, group, userId);
        if (changed)
          await audit({
            actor: ctx.actor,
            action: member ? 'group.member-added' : 'group.member-removed',
            subject: { type: 'group', id: group },
            payload: { userId },
            reason: ctx.reason,
            requestId: ctx.requestId,
          });
      });
      return userJson(await requireUser(userId));
    },

    async listBindings(filter: { subjectType?: BindingSubjectType; subjectId?: string; service?: string }) {
      let serviceId: string | undefined;
      if (filter.service) {
        const service = await prisma.service.findUnique({ where: { name: filter.service }, select: { id: true } });
        if (!service) return [];
        serviceId = service.id;
      }
      return (await listRoleBindings(prisma, { subjectType: filter.subjectType, subjectId: filter.subjectId, serviceId })).map(bindingJson);
    },

    async grant(input: { subject: { type: BindingSubjectType; id: string } } & ScopedRoleInput, ctx: ChangeContext) {
      const { subject } = input;
      if (subject.type === 'user' && !(await findUser(prisma, subject.id).catch(() => null)))
        throw new AppError('unprocessable', `body.subject.id: user ${subject.id} does not exist`, [{ field: 'body.subject.id', problem: 'no such user' }]);
      if (subject.type === 'token') {
        const token = await prisma.apiToken.findUnique({ where: { id: subject.id } }).catch(() => null);
        if (!token || token.revokedAt)
          throw new AppError('unprocessable', `body.subject.id: token ${subject.id} does not exist or is revoked`, [
            { field: 'body.subject.id', problem: 'no such token' },
          ]);
      }
      const scope = await resolveScope(input, 'body');
      const binding = { subjectType: subject.type, subjectId: subject.id, role: input.role, ...scope };
      if (await findRoleBinding(prisma, binding)) throw new AppError('conflict', `${subject.type} ${subject.id} already has this role here`);
      try {
        const id = await audited(async (tx, audit) => {
          const row = await insertRoleBinding(tx, binding, ctx.actor.name ?? ctx.actor.id);
          await audit({
            actor: ctx.actor,
            action: 'role.granted',
            subject: { type: 'role-binding', id: row.id },
            environmentId: scope.environmentId,
            after: { subject, role: input.role, service: input.service ?? null, environment: input.environment ?? null },
            reason: ctx.reason,
            requestId: ctx.requestId,
          });
          return row.id;
        });
        return bindingJson((await listRoleBindings(prisma, { id }))[0]!);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', `${subject.type} ${subject.id} already has this role here`);
        throw error;
      }
    },

    async revokeBinding(id: string, ctx: ChangeContext) {
      const [existing] = await listRoleBindings(prisma, { id });
      if (!existing) throw new AppError('not_found', `role binding ${id} does not exist`);
      await audited(async (tx, audit) => {
        if (!(await deleteRoleBinding(tx, id))) return;
        await audit({
          actor: ctx.actor,
          action: 'role.revoked',
          subject: { type: 'role-binding', id },
          environmentId: existing.environmentId,
          before: bindingJson(existing),
          reason: ctx.reason,
          requestId: ctx.requestId,
        });
      });
      return bindingJson(existing);
    },

    async listTokens() {
      const [tokens, bindings] = await Promise.all([listApiTokens(prisma), listRoleBindings(prisma, { subjectType: 'token' })]);
      return Promise.all(
        tokens.map((t) =>
          tokenJson(
            t,
            bindings.filter((b) => b.subjectId === t.id),
          ),
        ),
      );
    },

    async createToken(input: { name: string; roles: ScopedRoleInput[]; expiresAt?: string }, ctx: ChangeContext & { ownerUserId: string | null }) {
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now())
        throw new AppError('validation_failed', 'body.expiresAt: must be in the future', [{ field: 'body.expiresAt', problem: 'must be in the future' }]);
      const roles = [];
      for (const [i, role] of input.roles.entries()) roles.push({ role: role.role, ...(await resolveScope(role, `body.roles[${i}]`)) });
      try {
        const { token, secret } = await createApiToken(audited, { name: input.name, roles, expiresAt, ownerUserId: ctx.ownerUserId }, ctx.actor, ctx.requestId);
        return { ...(await tokenJson(token)), token: secret };
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', `a token named "${input.name}" already exists`, { field: 'body.name' });
        throw error;
      }
    },

    async revokeToken(id: string, ctx: ChangeContext) {
      const token = await revokeApiToken(audited, id, ctx.actor, { reason: ctx.reason, requestId: ctx.requestId });
      if (!token) throw new AppError('not_found', `token ${id} does not exist`);
      return tokenJson(token);
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

import { randomUUID } from 'node:crypto';
import type { Grant, Role } from '@glidepath/core';
import type { ApiToken, Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { AuditedTransaction } from '../audit/audited-transaction.ts';
import type { Actor } from '../audit/audit-log.ts';
import { hashToken, newSecret } from './credentials.ts';
import { deleteBindingsOf, grantsFor, insertRoleBinding } from './role-binding.repository.ts';

export type { ApiToken };

export interface NewApiToken {
  name: string;
  roles: Array<{ role: Role; serviceId: string | null; environmentId: string | null }>;
  expiresAt?: Date | null;
  /** Set when a person creates it: the token stops when they are deactivated. */
  ownerUserId?: string | null;
  /** Only for the bootstrap token, whose secret the operator chose. */
  secret?: string;
}

export function newTokenSecret(): string {
  return newSecret('gp_');
}

/** Creates a service-account token with its role bindings; the secret is returned once and never stored. */
export async function createApiToken(
  audited: AuditedTransaction,
  input: NewApiToken,
  actor: Actor,
  requestId?: string,
): Promise<{ token: ApiToken; secret: string }> {
  const secret = input.secret ?? newTokenSecret();
  const token = await audited(async (tx, audit) => {
    const row = await tx.apiToken.create({
      data: {
        id: randomUUID(),
        name: input.name,
        tokenHash: hashToken(secret),
        createdBy: actor.name ?? actor.id,
        ownerUserId: input.ownerUserId ?? null,
        expiresAt: input.expiresAt ?? null,
      },
    });
    for (const grant of input.roles) await insertRoleBinding(tx, { subjectType: 'token', subjectId: row.id, ...grant }, actor.name ?? actor.id);
    await audit({
      actor,
      action: 'token.created',
      subject: { type: 'token', id: row.id },
      after: { name: row.name, roles: input.roles, expiresAt: row.expiresAt?.toISOString() ?? null, ownerUserId: row.ownerUserId },
      requestId,
    });
    return row;
  });
  return { token, secret };
}

/** Revokes a token at once; its bindings go with it. Returns null when there is no such token. */
export async function revokeApiToken(audited: AuditedTransaction, id: string, actor: Actor, context: { reason?: string; requestId?: string } = {}) {
  return audited(async (tx, audit) => {
    const token = await tx.apiToken.findUnique({ where: { id } });
    if (!token) return null;
    if (token.revokedAt) return token;
    const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await deleteBindingsOf(tx, 'token', id);
    await audit({
      actor,
      action: 'token.revoked',
      subject: { type: 'token', id },
      before: { name: token.name },
      reason: context.reason,
      requestId: context.requestId,
    });
    return revoked;
  });
}

export async function listApiTokens(prisma: PrismaClient) {
  return prisma.apiToken.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export type TokenCheck = { ok: true; token: ApiToken; grants: Grant[] } | { ok: false; problem: 'unknown' | 'revoked' | 'expired' | 'owner deactivated' };

/** What a bearer secret is worth right now, or why it is worth nothing. */
export async function checkApiToken(prisma: PrismaClient, secret: string, now = new Date()): Promise<TokenCheck> {
  const token = await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(secret) }, include: { owner: { select: { active: true } } } });
  if (!token) return { ok: false, problem: 'unknown' };
  if (token.revokedAt) return { ok: false, problem: 'revoked' };
  if (token.expiresAt && token.expiresAt <= now) return { ok: false, problem: 'expired' };
  if (token.owner && !token.owner.active) return { ok: false, problem: 'owner deactivated' };
  const { owner: _owner, ...row } = token;
  return { ok: true, token: row, grants: await grantsFor(prisma, { tokenId: token.id }) };
}

export async function recordTokenUse(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.apiToken.update({ where: { id }, data: { lastUsedAt: new Date() } });
}

/**
 * Makes the token given by the operator's environment (GLIDEPATH_BOOTSTRAP_TOKEN) the global
 * admin token named "bootstrap", replacing an earlier one if the secret changed. It exists for
 * first setup: grant people their roles with it, then unset it.
 */
export async function ensureBootstrapToken(prisma: PrismaClient, audited: AuditedTransaction, secret: string): Promise<void> {
  const hash = hashToken(secret);
  const existing = await prisma.apiToken.findUnique({ where: { name: 'bootstrap' } });
  if (existing?.tokenHash === hash && !existing.revokedAt && !existing.expiresAt) return;
  await audited(async (tx: Prisma.TransactionClient, audit) => {
    const id = existing?.id ?? randomUUID();
    await tx.apiToken.upsert({
      where: { name: 'bootstrap' },
      create: { id, name: 'bootstrap', tokenHash: hash, createdBy: 'GLIDEPATH_BOOTSTRAP_TOKEN' },
      update: { tokenHash: hash, revokedAt: null, expiresAt: null },
    });
    await deleteBindingsOf(tx, 'token', id);
    await insertRoleBinding(tx, { subjectType: 'token', subjectId: id, role: 'admin', serviceId: null, environmentId: null }, 'GLIDEPATH_BOOTSTRAP_TOKEN');
    await audit({
      actor: { type: 'system', id: 'api' },
      action: existing ? 'token.rotated' : 'token.created',
      subject: { type: 'token', id },
      after: { name: 'bootstrap', roles: [{ role: 'admin', serviceId: null, environmentId: null }] },
      reason: 'GLIDEPATH_BOOTSTRAP_TOKEN',
    });
  });
}

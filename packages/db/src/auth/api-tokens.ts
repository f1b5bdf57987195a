import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { AuditedTransaction } from '../audit/audited-transaction.ts';
import type { Actor } from '../audit/audit-log.ts';

export const TOKEN_ROLES = ['admin', 'deployer'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Tokens are 256 random bits, so a plain sha256 is enough to make a leaked table useless. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newTokenSecret(): string {
  return `gp_${randomBytes(32).toString('base64url')}`;
}

/** Creates a token and returns its secret, which is shown once and never stored. */
export async function createApiToken(
  audited: AuditedTransaction,
  input: { name: string; role: TokenRole; secret?: string },
  actor: Actor,
): Promise<{ id: string; token: string }> {
  const token = input.secret ?? newTokenSecret();
  const id = randomUUID();
  await audited(async (tx, audit) => {
    await tx.apiToken.create({ data: { id, name: input.name, role: input.role, tokenHash: hashToken(token) } });
    await audit({ actor, action: 'token.created', subject: { type: 'token', id }, after: { name: input.name, role: input.role } });
  });
  return { id, token };
}

/**
 * Makes the token given by the operator's environment (GLIDEPATH_BOOTSTRAP_TOKEN) the
 * admin token named "bootstrap", replacing an earlier one if the secret changed.
 */
export async function ensureBootstrapToken(prisma: PrismaClient, audited: AuditedTransaction, secret: string): Promise<void> {
  const hash = hashToken(secret);
  const existing = await prisma.apiToken.findUnique({ where: { name: 'bootstrap' } });
  if (existing?.tokenHash === hash && !existing.revokedAt) return;
  await audited(async (tx: Prisma.TransactionClient, audit) => {
    const id = existing?.id ?? randomUUID();
    await tx.apiToken.upsert({
      where: { name: 'bootstrap' },
      create: { id, name: 'bootstrap', role: 'admin', tokenHash: hash },
      update: { tokenHash: hash, revokedAt: null },
    });
    await audit({
      actor: { type: 'system', id: 'api' },
      action: existing ? 'token.rotated' : 'token.created',
      subject: { type: 'token', id },
      after: { name: 'bootstrap', role: 'admin' },
      reason: 'GLIDEPATH_BOOTSTRAP_TOKEN',
    });
  });
}

export async function findActiveToken(prisma: PrismaClient, token: string) {
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(token) } });
  return row && !row.revokedAt ? row : null;
}

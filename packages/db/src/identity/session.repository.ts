import { randomUUID } from 'node:crypto';
import type { Grant } from '@glidepath/core';
import type { OidcLogin, Prisma, PrismaClient, UserSession } from '../generated/prisma/client.ts';
import { hashToken, newSecret } from './credentials.ts';
import { grantsFor } from './role-binding.repository.ts';
import { userGroups, type UserWithGroups } from './user.repository.ts';

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** The owner of user_session and oidc_login. */
export async function createSession(
  tx: Prisma.TransactionClient,
  input: { userId: string; authTime: Date; userAgent?: string | null; absoluteMs: number },
  now = new Date(),
): Promise<{ session: UserSession; secret: string }> {
  const secret = newSecret('gps_');
  const session = await tx.userSession.create({
    data: {
      id: randomUUID(),
      tokenHash: hashToken(secret),
      userId: input.userId,
      csrfToken: newSecret(''),
      authTime: input.authTime,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + input.absoluteMs),
      userAgent: input.userAgent?.slice(0, 500) ?? null,
    },
  });
  return { session, secret };
}

export type SessionCheck =
  | { ok: true; session: UserSession; user: UserWithGroups; groups: string[]; grants: Grant[] }
  | { ok: false; problem: 'unknown' | 'revoked' | 'expired' | 'idle' | 'user deactivated' };

export async function checkSession(prisma: PrismaClient, secret: string, limits: SessionLimits, now = new Date()): Promise<SessionCheck> {
  const row = await prisma.userSession.findUnique({
    where: { tokenHash: hashToken(secret) },
    include: { user: { include: { groups: { select: { groupName: true } } } } },
  });
  if (!row) return { ok: false, problem: 'unknown' };
  if (row.revokedAt) return { ok: false, problem: 'revoked' };
  if (row.expiresAt <= now) return { ok: false, problem: 'expired' };
  if (row.lastSeenAt.getTime() + limits.idleMs <= now.getTime()) return { ok: false, problem: 'idle' };
  if (!row.user.active) return { ok: false, problem: 'user deactivated' };
  const { user, ...session } = row;
  const groups = userGroups(user);
  return { ok: true, session, user, groups, grants: await grantsFor(prisma, { userId: user.id, groups }) };
}

export async function touchSession(prisma: PrismaClient, id: string, now = new Date()): Promise<void> {
  await prisma.userSession.updateMany({ where: { id, revokedAt: null }, data: { lastSeenAt: now } });
}

export async function revokeSession(tx: Prisma.TransactionClient, id: string, reason: string, now = new Date()): Promise<boolean> {
  return (await tx.userSession.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } })).count === 1;
}

export async function revokeUserSessions(tx: Prisma.TransactionClient, userId: string, reason: string, now = new Date()): Promise<number> {
  return (await tx.userSession.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } })).count;
}

/** A sign-in under way, found later by the secret of the browser cookie that started it. */
export async function savePendingLogin(
  prisma: PrismaClient,
  browserSecret: string,
  login: { state: string; nonce: string; codeVerifier: string; returnTo: string; maxAge: number | null },
  maxAgeMs: number,
  now = new Date(),
): Promise<void> {
  await prisma.$transaction([
    prisma.oidcLogin.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - maxAgeMs) } } }),
    prisma.oidcLogin.create({ data: { id: hashToken(browserSecret), ...login, createdAt: now } }),
  ]);
}

/** Takes the pending sign-in once: a second callback with the same cookie finds nothing. */
export async function takePendingLogin(prisma: PrismaClient, browserSecret: string, maxAgeMs: number, now = new Date()): Promise<OidcLogin | null> {
  const [login] = await prisma.$queryRaw<OidcLogin[]>`
    DELETE FROM oidc_login WHERE id = ${hashToken(browserSecret)}
    RETURNING id, state, nonce, code_verifier AS "codeVerifier", return_to AS "returnTo", max_age AS "maxAge", created_at AS "createdAt"`;
  if (!login || login.createdAt.getTime() + maxAgeMs < now.getTime()) return null;
  return login;
}

import { checkApiToken, checkSession, recordTokenUse, touchSession, type PrismaClient, type SessionLimits } from '@glidepath/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../http/app-error.ts';
import type { RequestIdentity } from './request-identity.ts';

export const SESSION_COOKIE = 'glidepath_session';
const LAST_USED_GRANULARITY_MS = 60_000;

const TOKEN_PROBLEMS = {
  unknown: 'the token is unknown (mistyped, or deleted)',
  revoked: 'the token was revoked',
  expired: 'the token has expired',
  'owner deactivated': 'the token belongs to a deactivated user',
} as const;

const SESSION_PROBLEMS = {
  unknown: 'the session cookie is not a valid session (altered, or from another installation): sign in again',
  revoked: 'the session was ended (signed out, or revoked by an admin): sign in again',
  expired: 'the session has expired: sign in again',
  idle: 'the session ended after a period without use: sign in again',
  'user deactivated': 'your account is deactivated: ask an admin',
} as const;

/**
 * Finds the identity a request carries, or none. A credential that is present but worth
 * nothing is refused with 401 saying why, never treated as anonymous.
 */
export function createAuthenticator(deps: { prisma: PrismaClient; sessions: SessionLimits }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<RequestIdentity | undefined> => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      // The scheme is case-insensitive (RFC 9110 §11.1).
      const match = /^bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
      if (!match) throw new AppError('unauthorized', 'header.authorization: must be "Bearer <token>"');
      const check = await checkApiToken(deps.prisma, match[1]!);
      if (!check.ok) throw new AppError('unauthorized', `header.authorization: ${TOKEN_PROBLEMS[check.problem]}`);
      const { token } = check;
      if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
        recordTokenUse(deps.prisma, token.id).catch((error: Error) => request.log.warn({ err: error }, 'could not record token use'));
      }
      return { kind: 'token', id: token.id, name: token.name, groups: [], grants: check.grants, via: 'bearer' };
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined || cookie === '') return undefined;
    const check = await checkSession(deps.prisma, cookie, deps.sessions);
    if (!check.ok) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      throw new AppError('unauthorized', `cookie.${SESSION_COOKIE}: ${SESSION_PROBLEMS[check.problem]}`, { signIn: '/login' });
    }
    const { session, user } = check;
    // Idle expiry counts from the last use; writing it at most once a minute (or a tenth of the idle time) keeps reads cheap.
    if (Date.now() - session.lastSeenAt.getTime() > Math.min(LAST_USED_GRANULARITY_MS, deps.sessions.idleMs / 10)) {
      touchSession(deps.prisma, session.id).catch((error: Error) => request.log.warn({ err: error }, 'could not record session use'));
    }
    return {
      kind: 'user',
      id: user.id,
      name: user.email ?? user.name ?? user.subject,
      groups: check.groups,
      grants: check.grants,
      via: 'session',
      session: { id: session.id, csrfToken: session.csrfToken, authTime: session.authTime },
    };
  };
}

import { timingSafeEqual } from 'node:crypto';
import { checkApiToken, checkSession, recordTokenUse, touchSession, type PrismaClient, type SessionLimits } from '@glidepath/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../http/app-error.ts';
import type { IdentityCache } from './identity-cache.ts';
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

/** The secret of an `Authorization: Bearer …` header; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerSecret(header: string | undefined): string | undefined {
  return /^bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header ?? '')?.[1];
}

/** Compares secrets in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A valid credential as remembered: who it is, until when it holds, when its use was last written. */
export interface KnownCredential {
  identity: RequestIdentity;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** An identity now, or once its credential has been looked up. */
export type Found<T> = T | Promise<T>;

/**
 * Finds the identity a request carries, or none. A credential that is present but worth
 * nothing is refused with 401 saying why, never treated as anonymous. A remembered credential
 * (the cache) answers at once, without a promise: every read passes here.
 */
export function createAuthenticator(deps: { prisma: PrismaClient; sessions: SessionLimits; cache: IdentityCache<KnownCredential> }) {
  function remembered(key: string): KnownCredential | undefined {
    const known = deps.cache.get(key);
    return known && !(known.expiresAt && known.expiresAt.getTime() <= Date.now()) ? known : undefined;
  }

  function bearer(secret: string, request: FastifyRequest): Found<RequestIdentity> {
    const key = `token:${secret}`;
    const known = remembered(key);
    if (known) return usedToken(known, request);
    return checkApiToken(deps.prisma, secret).then((check) => {
      if (!check.ok) throw new AppError('unauthorized', `header.authorization: ${TOKEN_PROBLEMS[check.problem]}`);
      const { token } = check;
      const fresh: KnownCredential = {
        identity: { kind: 'token', id: token.id, name: token.name, groups: [], grants: check.grants, via: 'bearer', ownerUserId: token.ownerUserId },
        expiresAt: token.expiresAt,
        lastUsedAt: token.lastUsedAt,
      };
      deps.cache.set(key, fresh);
      return usedToken(fresh, request);
    });
  }

  function usedToken(known: KnownCredential, request: FastifyRequest): RequestIdentity {
    if (!known.lastUsedAt || Date.now() - known.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
      known.lastUsedAt = new Date();
      recordTokenUse(deps.prisma, known.identity.id).catch((error: Error) => request.log.warn({ err: error }, 'could not record token use'));
    }
    return known.identity;
  }

  function session(secret: string, request: FastifyRequest, reply: FastifyReply): Found<RequestIdentity> {
    const key = `session:${secret}`;
    const known = remembered(key);
    if (known) return usedSession(known, request);
    return checkSession(deps.prisma, secret, deps.sessions).then((check) => {
      if (!check.ok) {
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        throw new AppError('unauthorized', `cookie.${SESSION_COOKIE}: ${SESSION_PROBLEMS[check.problem]}`, { signIn: '/login' });
      }
      const { session: row, user } = check;
      const fresh: KnownCredential = {
        identity: {
          kind: 'user',
          id: user.id,
          name: user.email ?? user.name ?? user.subject,
          groups: check.groups,
          grants: check.grants,
          via: 'session',
          session: { id: row.id, csrfToken: row.csrfToken, authTime: row.authTime },
        },
        expiresAt: row.expiresAt,
        lastUsedAt: row.lastSeenAt,
      };
      deps.cache.set(key, fresh);
      return usedSession(fresh, request);
    });
  }

  function usedSession(known: KnownCredential, request: FastifyRequest): RequestIdentity {
    // Idle expiry counts from the last use; writing it at most once a minute (or a tenth of the idle time) keeps reads cheap.
    if (!known.lastUsedAt || Date.now() - known.lastUsedAt.getTime() > Math.min(LAST_USED_GRANULARITY_MS, deps.sessions.idleMs / 10)) {
      known.lastUsedAt = new Date();
      touchSession(deps.prisma, known.identity.session!.id).catch((error: Error) => request.log.warn({ err: error }, 'could not record session use'));
    }
    return known.identity;
  }

  /** Throws (401) for a credential that is malformed. */
  return (request: FastifyRequest, reply: FastifyReply): Found<RequestIdentity | undefined> => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const secret = bearerSecret(header);
      if (!secret) throw new AppError('unauthorized', 'header.authorization: must be "Bearer <token>"');
      return bearer(secret, request);
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined || cookie === '') return undefined;
    return session(cookie, request, reply);
  };
}

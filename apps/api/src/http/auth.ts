import { findActiveToken, type Actor, type PrismaClient, type TokenRole } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { AppError } from './app-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor & { role: TokenRole };
  }
  interface FastifyContextConfig {
    /** The least role that may call this route when it changes state; admin unless said otherwise. */
    role?: TokenRole;
    /** Authenticated by the environment's metrics ingest key instead of an API token. */
    ingestKey?: boolean;
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Bearer API tokens. Every request that changes state needs one, and the token's name is
 * the actor recorded in the audit log. Reads stay open until sign-in for the dashboard lands.
 */
export function installAuth(app: FastifyInstance, prisma: PrismaClient): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{16,200})$/.exec(header);
      if (!match) throw new AppError('unauthorized', 'header.authorization: must be "Bearer <token>"');
      const token = await findActiveToken(prisma, match[1]!);
      if (!token) throw new AppError('unauthorized', 'header.authorization: the token is unknown or revoked');
      request.actor = { type: 'token', id: token.name, role: token.role as TokenRole };
      if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
        prisma.apiToken
          .update({ where: { id: token.id }, data: { lastUsedAt: new Date() } })
          .catch((error: Error) => request.log.warn({ err: error }, 'could not record token use'));
      }
    }
    if (READS.has(request.method) || !request.url.startsWith('/api/') || request.routeOptions.config.ingestKey) return;
    if (!request.actor)
      throw new AppError('unauthorized', `${request.method} ${request.routeOptions.url ?? request.url} changes state: send "Authorization: Bearer <token>"`);
    const needed = request.routeOptions.config.role ?? 'admin';
    if (needed === 'admin' && request.actor.role !== 'admin') {
      throw new AppError(
        'forbidden',
        `token "${request.actor.id}" is a ${request.actor.role} token; ${request.method} ${request.routeOptions.url} needs an admin token`,
      );
    }
  });
}

import type { FastifyRequest } from 'fastify';
import type { Actor } from '@glidepath/db';

/**
 * Who is making a request. Until sign-in and API tokens exist every caller is the
 * anonymous user, recorded as such so the audit log never claims more than it knows.
 */
export function requestActor(_request: FastifyRequest): Actor {
  return { type: 'user', id: 'anonymous' };
}

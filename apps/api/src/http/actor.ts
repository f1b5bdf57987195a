import type { FastifyRequest } from 'fastify';
import type { Actor } from '@glidepath/db';
import { actorOf } from '../identity/request-identity.ts';
import { AppError } from './app-error.ts';

/** Who made a request; the access hook guarantees there is one on every route that needs it. */
export function requestActor(request: FastifyRequest): Actor {
  if (!request.identity) throw new AppError('unauthorized', 'sign in (session cookie), or send "Authorization: Bearer <token>"');
  return actorOf(request.identity);
}

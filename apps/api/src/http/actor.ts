import type { FastifyRequest } from 'fastify';
import type { Actor } from '@glidepath/db';
import { AppError } from './app-error.ts';

/** Who made a state-changing request; the auth hook guarantees there is one. */
export function requestActor(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('unauthorized', 'this request needs "Authorization: Bearer <token>"');
  return { type: request.actor.type, id: request.actor.id };
}

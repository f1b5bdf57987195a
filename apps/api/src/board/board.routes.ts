import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { withErrors } from '../http/schemas.ts';
import { readableResources } from '../identity/route-access.ts';
import { promotionBoard } from './board.service.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const BoardEnvironment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  position: Type.Integer(),
  protected: Type.Boolean(),
  requiredApprovals: Type.Integer(),
  running: Nullable(
    Type.Object(
      { releaseId: Type.String(), version: Type.String(), digest: Type.String(), plan: Type.String(), since: Type.String() },
      { description: 'the newest release that succeeded here: the version taking all traffic' },
    ),
  ),
  inFlight: Type.Array(
    Type.Object({
      id: Type.String(),
      version: Type.String(),
      digest: Type.String(),
      phase: Type.String(),
      stepIndex: Type.Integer(),
      steps: Type.Integer(),
      canaryWeight: Type.Number(),
      createdAt: Type.String(),
    }),
    { description: 'releases here that have not ended, oldest first' },
  ),
  promotion: Nullable(
    Type.Object(
      { to: Type.Object({ id: Type.String(), name: Type.String() }), version: Type.String(), digest: Type.String(), plan: Type.String() },
      { description: 'the digest running here could move on to the next environment (POST /releases starts it; the rules there still decide)' },
    ),
  ),
});

export function boardRoutes(deps: { prisma: PrismaClient }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/board',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['board'],
          summary: 'The promotion board: per service, its environments in promotion order with what runs and what is in flight',
          response: withErrors({
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  service: Type.Object({ id: Type.String(), name: Type.String(), description: Nullable(Type.String()) }),
                  environments: Type.Array(BoardEnvironment),
                }),
              ),
            }),
          }),
        },
      },
      async (request) => ({ items: await promotionBoard(deps.prisma, await readableResources(deps.prisma, request)) }),
    );
  };
}

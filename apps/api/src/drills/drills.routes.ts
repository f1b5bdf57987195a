import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { drillJson, listDrills, startDrill, type AuditedTransaction, type JobQueue, type PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/app-error.ts';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';

const Drill = Type.Object(
  {
    id: Type.String(),
    environmentId: Type.String(),
    releaseId: Type.Union([Type.String(), Type.Null()], { description: 'the release that carried the drill; null while it waits' }),
    trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual')]),
    dueAt: Type.Union([Type.String(), Type.Null()], { description: 'the scheduled time it was for; null on demand' }),
    requestedBy: Type.String(),
    status: Type.Union(
      ['waiting', 'running', 'succeeded', 'failed', 'skipped'].map((s) => Type.Literal(s)),
      {
        description: 'waiting (cannot start yet: reason says why), running, succeeded, failed (reason says why), skipped (its time passed, or superseded)',
      },
    ),
    reason: Type.Union([Type.String(), Type.Null()]),
    version: Type.Union([Type.String(), Type.Null()], { description: 'the live version deployed again to the idle slot' }),
    digest: Type.Union([Type.String(), Type.Null()]),
    slot: Type.Union([Type.String(), Type.Null()], { description: 'the idle slot the drill deployed to' }),
    weight: Type.Integer({ description: 'the share of traffic the idle slot took during the drill' }),
    holdMs: Type.Integer(),
    objectiveMs: Type.Integer({ description: "the environment's objective for time to rollback" }),
    timeToRollbackMs: Type.Union([Type.Integer(), Type.Null()], { description: 'from the rollback decision to the router confirming all traffic back' }),
    slow: Type.Boolean({ description: 'time to rollback above the objective' }),
    routerVerified: Type.Union([Type.String(), Type.Null()], { description: 'what the router said when asked after the rollback: true, false, unsupported' }),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    rollbackDecidedAt: Type.Union([Type.String(), Type.Null()]),
    rolledBackAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Drill' },
);

/** Rollback drills of an environment: start one on demand, and read the history (schedule: the environment's `drills`). */
export function drillsRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; jobs: JobQueue }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.addSchema(Drill);

    app.post(
      '/environments/:id/drills',
      {
        // Rehearsing a rollback moves traffic as a rollback does: the same right.
        config: { access: { permission: 'release:control', scope: 'environment-id' } },
        schema: {
          tags: ['drills'],
          summary: 'Run a rollback drill now: the live version to the idle slot, a small weight, then all traffic back',
          params: Type.Object({ id: Uuid }),
          body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false })),
          response: withErrors({ 201: Type.Ref('Drill') }),
        },
      },
      async (request, reply) => {
        const env = await deps.prisma.environment.findUnique({ where: { id: request.params.id }, select: { id: true } });
        if (!env) throw new AppError('not_found', `environment ${request.params.id} does not exist`);
        const started = await startDrill(deps, {
          trigger: 'manual',
          environmentId: env.id,
          actor: requestActor(request),
          requestId: request.id,
          reason: request.body?.reason ?? null,
        });
        if (!started.ok) throw new AppError('conflict', `no drill now: ${started.reason}`);
        return reply.status(201).send(drillJson(started.drill));
      },
    );
    app.get(
      '/environments/:id/drills',
      {
        config: { access: { permission: 'read', scope: 'environment-id' } },
        schema: {
          tags: ['drills'],
          summary: "An environment's rollback drills, newest first, with their outcome and time to rollback",
          params: Type.Object({ id: Uuid }),
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Drill')) }) }),
        },
      },
      async (request) => {
        const env = await deps.prisma.environment.findUnique({ where: { id: request.params.id }, select: { id: true } });
        if (!env) throw new AppError('not_found', `environment ${request.params.id} does not exist`);
        return { items: (await listDrills(deps.prisma, env.id, request.query.limit ?? 50)).map(drillJson) };
      },
    );
  };
}

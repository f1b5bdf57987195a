import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { computeDora, type DoraRecord } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/app-error.ts';
import { IsoDateTime, withErrors } from '../http/schemas.ts';
import { readableResources } from '../identity/route-access.ts';
import { NOT_SHADOW } from '../releases/shadow-releases.ts';

const DAY_MS = 86_400_000;
const Duration = Type.Object({
  count: Type.Integer(),
  medianSeconds: Type.Union([Type.Number(), Type.Null()]),
  meanSeconds: Type.Union([Type.Number(), Type.Null()]),
});
const Figures = Type.Object({
  service: Type.String(),
  environment: Type.String(),
  lastEnvironment: Type.Boolean({ description: "the service's last environment: its lead time is the service's" }),
  deployments: Type.Integer({ description: 'releases that succeeded, rolled back or failed in the period' }),
  successes: Type.Integer(),
  failures: Type.Integer(),
  deploymentsPerDay: Type.Number(),
  changeFailureRate: Type.Union([Type.Number(), Type.Null()], { description: 'rolled back or failed ÷ deployments' }),
  leadTime: Type.Object(Duration.properties, { description: 'artifact registered → succeeded here' }),
  timeToRestore: Type.Object({ ...Duration.properties, unrestored: Type.Integer() }, { description: 'failed or rolled back → the next success here' }),
  daily: Type.Array(Type.Object({ day: Type.String(), deployments: Type.Integer(), failures: Type.Integer() })),
});

/** DORA figures from Glidepath's own releases (core's computeDora), for what the caller may read. */
export function doraRoutes(deps: { prisma: PrismaClient }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/dora',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['dora'],
          summary: 'Deployment frequency, lead time, change failure rate and time to restore, per service and environment',
          querystring: Type.Object({
            from: Type.Optional(IsoDateTime),
            to: Type.Optional(IsoDateTime),
            service: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
            environment: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
          }),
          response: withErrors({ 200: Type.Object({ from: Type.String(), to: Type.String(), items: Type.Array(Figures) }) }),
        },
      },
      async (request) => {
        const to = request.query.to ? Date.parse(request.query.to) : Date.now();
        const from = request.query.from ? Date.parse(request.query.from) : to - 30 * DAY_MS;
        if (!(from < to))
          throw new AppError('validation_failed', 'querystring.from: must be before to', [{ field: 'querystring.from', problem: 'must be before to' }]);
        if (to - from > 366 * DAY_MS)
          throw new AppError('validation_failed', 'querystring.from: the period may be at most 366 days', [
            { field: 'querystring.from', problem: 'at most 366 days before to' },
          ]);
        const visible = await readableResources(deps.prisma, request);
        const rows = await deps.prisma.release.findMany({
          where: {
            phase: { in: ['succeeded', 'rolled-back', 'failed'] },
            // A rollback drill deploys nothing new and always rolls back: neither a deployment nor a failure.
            drill: { is: null },
            // A shadow release is a comparison, not a deployment: neither its pass nor its failure counts.
            ...NOT_SHADOW,
            // Successes after the period still say when a failure in it was restored.
            OR: [{ finishedAt: { gte: new Date(from) } }, { phase: 'failed', updatedAt: { gte: new Date(from) } }],
            ...(visible === 'all' ? {} : { environmentId: { in: visible.environmentIds } }),
            ...(request.query.service ? { service: { name: request.query.service } } : {}),
            ...(request.query.environment ? { environment: { name: request.query.environment } } : {}),
          },
          select: {
            phase: true,
            finishedAt: true,
            updatedAt: true,
            service: { select: { name: true } },
            environment: { select: { name: true, position: true } },
            artifact: { select: { createdAt: true } },
          },
          take: 100_000,
        });
        const records: DoraRecord[] = rows.map((r) => ({
          service: r.service.name,
          environment: r.environment.name,
          position: r.environment.position,
          outcome: r.phase as DoraRecord['outcome'],
          at: (r.finishedAt ?? r.updatedAt).getTime(),
          artifactRegisteredAt: r.artifact.createdAt.getTime(),
        }));
        return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), items: computeDora(records, { from, to }) };
      },
    );
  };
}

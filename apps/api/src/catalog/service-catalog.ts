import { randomUUID } from 'node:crypto';
import { Prisma, type Actor, type AuditedTransaction, type PrismaClient } from '@glidepath/db';
import { Type } from 'typebox';
import { AppError } from '../http/app-error.ts';
import type { Readable } from '../identity/route-access.ts';

export const ServiceJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    owners: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Service' },
);

export interface ChangeContext {
  actor: Actor;
  requestId?: string;
  reason?: string;
}

type ServiceRow = { id: string; name: string; description: string | null; owners: string[]; createdAt: Date; updatedAt: Date };
function toJson(s: ServiceRow) {
  return { ...s, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() };
}

export function createServiceCatalog(deps: { prisma: PrismaClient; audited: AuditedTransaction }) {
  return {
    async create(input: { name: string; description?: string; owners?: string[] }, ctx: ChangeContext) {
      try {
        return await deps.audited(async (tx, audit) => {
          const service = await tx.service.create({
            data: { id: randomUUID(), name: input.name, description: input.description ?? null, owners: input.owners ?? [] },
          });
          const after = toJson(service);
          await audit({
            actor: ctx.actor,
            action: 'service.created',
            subject: { type: 'service', id: service.id },
            after,
            requestId: ctx.requestId,
            reason: ctx.reason,
          });
          return after;
        });
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw new AppError('conflict', `a service named "${input.name}" already exists`, { field: 'body.name' });
        }
        throw error;
      }
    },
    async list(visible: Readable = 'all') {
      const where = visible === 'all' ? {} : { id: { in: visible.serviceIds } };
      return (await deps.prisma.service.findMany({ where, orderBy: { name: 'asc' } })).map(toJson);
    },
    async get(id: string) {
      const service = await deps.prisma.service.findUnique({ where: { id } });
      if (!service) throw new AppError('not_found', `service ${id} does not exist`);
      return toJson(service);
    },
    async update(id: string, changes: { description?: string | null; owners?: string[] }, ctx: ChangeContext) {
      return deps.audited(async (tx, audit) => {
        const current = await tx.service.findUnique({ where: { id } });
        if (!current) throw new AppError('not_found', `service ${id} does not exist`);
        const updated = await tx.service.update({ where: { id }, data: { ...changes, updatedAt: new Date() } });
        await audit({
          actor: ctx.actor,
          action: 'service.updated',
          subject: { type: 'service', id },
          before: toJson(current),
          after: toJson(updated),
          requestId: ctx.requestId,
          reason: ctx.reason,
        });
        return toJson(updated);
      });
    },
  };
}

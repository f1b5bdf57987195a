import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';
import { createServiceCatalog, ServiceJson } from '../catalog/service-catalog.ts';
import { readableResources } from '../identity/route-access.ts';

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'lower-case letters, digits and dashes, at most 63' });
const CreateService = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    owners: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
const UpdateService = Type.Object(
  {
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    owners: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50 })),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const IdParams = Type.Object({ id: Uuid });

export function servicesRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const catalog = createServiceCatalog(deps);
    app.addSchema(ServiceJson);

    app.post(
      '/services',
      {
        config: { access: { permission: 'service:write', scope: 'global' } },
        schema: { tags: ['services'], summary: 'Register a service', body: CreateService, response: withErrors({ 201: Type.Ref('Service') }) },
      },
      async (request, reply) => {
        const service = await catalog.create(request.body, { actor: requestActor(request), requestId: request.id });
        return reply.status(201).send(service);
      },
    );
    app.get(
      '/services',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: { tags: ['services'], summary: 'All services', response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Service')) }) }) },
      },
      async (request) => ({ items: await catalog.list(await readableResources(deps.prisma, request)) }),
    );
    app.get(
      '/services/:id',
      {
        config: { access: { permission: 'read', scope: 'service-id' } },
        schema: { tags: ['services'], summary: 'One service', params: IdParams, response: withErrors({ 200: Type.Ref('Service') }) },
      },
      async (request) => catalog.get(request.params.id),
    );
    app.patch(
      '/services/:id',
      {
        config: { access: { permission: 'service:write', scope: 'service-id' } },
        schema: { tags: ['services'], summary: 'Change a service', params: IdParams, body: UpdateService, response: withErrors({ 200: Type.Ref('Service') }) },
      },
      async (request) => {
        const { reason, ...changes } = request.body;
        return catalog.update(request.params.id, changes, { actor: requestActor(request), requestId: request.id, reason });
      },
    );
  };
}

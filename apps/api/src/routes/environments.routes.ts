import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { RouterRegistry } from '@glidepath/providers';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createEnvironmentCatalog } from '../catalog/environment-catalog.ts';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';

const ProviderSpec = Type.Object({ type: Type.String({ minLength: 1 }), config: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false });
const Environment = Type.Object(
  {
    id: Type.String(),
    serviceId: Type.String(),
    name: Type.String(),
    position: Type.Integer(),
    requireUpstreamSuccess: Type.Boolean(),
    target: Type.Unknown(),
    metrics: Type.Unknown(),
    policy: Type.Unknown(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Environment' },
);
const CreateEnvironment = Type.Object(
  {
    service: Type.String({ minLength: 1, description: 'service name' }),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    position: Type.Integer({ minimum: 0, maximum: 1000, description: 'place in the promotion path; lower comes first' }),
    requireUpstreamSuccess: Type.Optional(Type.Boolean({ description: 'the same digest must have succeeded in the environment before (default true)' })),
    target: ProviderSpec,
    metrics: Type.Optional(Type.Union([ProviderSpec, Type.Null()])),
    policy: Type.Optional(Type.Unknown({ description: '{ protected, requiredApprovals, approverGroup, freezes: [{ from, to, reason }] }' })),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const UpdateEnvironment = Type.Object(
  {
    requireUpstreamSuccess: Type.Optional(Type.Boolean()),
    target: Type.Optional(ProviderSpec),
    metrics: Type.Optional(Type.Union([ProviderSpec, Type.Null()])),
    policy: Type.Optional(Type.Unknown()),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export function environmentsRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; routers: RouterRegistry }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const catalog = createEnvironmentCatalog(deps);
    app.addSchema(Environment);

    app.post(
      '/environments',
      {
        schema: {
          tags: ['environments'],
          summary: 'Register an environment of a service',
          body: CreateEnvironment,
          response: withErrors({ 201: Type.Ref('Environment') }),
        },
      },
      async (request, reply) => {
        const { reason, ...input } = request.body;
        return reply.status(201).send(await catalog.create(input, { actor: requestActor(request), requestId: request.id, reason }));
      },
    );
    app.get(
      '/environments',
      {
        schema: {
          tags: ['environments'],
          summary: 'Environments, by service and promotion order',
          querystring: Type.Object({ service: Type.Optional(Type.String()) }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Environment')) }) }),
        },
      },
      async (request) => ({ items: await catalog.list(request.query) }),
    );
    app.get(
      '/environments/:id',
      {
        schema: {
          tags: ['environments'],
          summary: 'One environment',
          params: Type.Object({ id: Uuid }),
          response: withErrors({ 200: Type.Ref('Environment') }),
        },
      },
      async (request) => catalog.get(request.params.id),
    );
    app.patch(
      '/environments/:id',
      {
        schema: {
          tags: ['environments'],
          summary: 'Change target, metrics or policy',
          params: Type.Object({ id: Uuid }),
          body: UpdateEnvironment,
          response: withErrors({ 200: Type.Ref('Environment') }),
        },
      },
      async (request) => {
        const { reason, ...changes } = request.body;
        return catalog.update(request.params.id, changes, { actor: requestActor(request), requestId: request.id, reason });
      },
    );
  };
}

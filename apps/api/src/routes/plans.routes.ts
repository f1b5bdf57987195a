import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { Egress } from '@glidepath/providers';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createPlanCatalog } from '../catalog/plan-catalog.ts';
import { requestActor } from '../http/actor.ts';
import { withErrors } from '../http/schemas.ts';
import { documentedAs } from '../openapi/document-schemas.ts';

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Plan = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    version: Type.Integer(),
    spec: documentedAs('PlanSpec'),
    compiled: Type.Unknown({ description: 'the plan as the state machine runs it: every strategy as steps, defaults filled in' }),
    createdBy: Type.String(),
    createdAt: Type.String(),
    warnings: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description:
          'only in the reply to a save, when there are any: what will run but cannot do what it is for, e.g. an analysis whose maxDuration is too short for a verdict at the traffic the plan expects',
      }),
    ),
  },
  { $id: 'Plan' },
);
const SpecBody = {
  spec: documentedAs('PlanSpec', 'the plan; JSON, or YAML with Content-Type application/yaml'),
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
};

export function plansRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; egress: Pick<Egress, 'check'> }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const catalog = createPlanCatalog(deps);
    app.addSchema(Plan);

    app.post(
      '/plans',
      {
        config: { access: { permission: 'plan:write', scope: 'global' } },
        schema: {
          tags: ['plans'],
          summary: 'Create a release plan (version 1)',
          consumes: ['application/json', 'application/yaml'],
          body: Type.Object({ name: Name, ...SpecBody }, { additionalProperties: false }),
          response: withErrors({ 201: Type.Ref('Plan') }),
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await catalog.save(
              request.body.name,
              request.body.spec,
              { actor: requestActor(request), requestId: request.id, reason: request.body.reason },
              true,
            ),
          ),
    );
    app.put(
      '/plans/:name',
      {
        config: { access: { permission: 'plan:write', scope: 'global' } },
        schema: {
          tags: ['plans'],
          summary: 'Save a new version of a plan (earlier versions never change)',
          consumes: ['application/json', 'application/yaml'],
          params: Type.Object({ name: Name }),
          body: Type.Object(SpecBody, { additionalProperties: false }),
          response: withErrors({ 201: Type.Ref('Plan') }),
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await catalog.save(
              request.params.name,
              request.body.spec,
              { actor: requestActor(request), requestId: request.id, reason: request.body.reason },
              false,
            ),
          ),
    );
    app.get(
      '/plans',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['plans'],
          summary: 'The latest version of every plan',
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Plan')) }) }),
        },
      },
      async () => ({
        items: await catalog.list(),
      }),
    );
    app.get(
      '/plans/:name',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['plans'],
          summary: 'A plan: its latest version, or ?version=N',
          params: Type.Object({ name: Name }),
          querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
          response: withErrors({ 200: Type.Ref('Plan') }),
        },
      },
      async (request) => catalog.get(request.params.name, request.query.version),
    );
    app.get(
      '/plans/:name/versions',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['plans'],
          summary: 'Every version of a plan, newest first',
          params: Type.Object({ name: Name }),
          response: withErrors({
            200: Type.Object({ items: Type.Array(Type.Object({ version: Type.Integer(), createdBy: Type.String(), createdAt: Type.String() })) }),
          }),
        },
      },
      async (request) => ({ items: await catalog.versions(request.params.name) }),
    );
  };
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createArtifactRegistry } from '../catalog/artifact-registry.ts';
import { readableResources } from '../identity/route-access.ts';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';

const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256:<64 lower-case hex digits>' });
/**
 * A link people follow from the dashboard and the audit log: http(s) with a host. `format: uri`
 * alone lets javascript:, data: and file: links through, which in a build record are an attack.
 */
const Link = (description: string) => Type.String({ format: 'uri', pattern: '^https?://[^\\s/?#]+([/?#]\\S*)?$', maxLength: 2000, description });
const Artifact = Type.Object(
  {
    id: Type.String(),
    service: Type.String(),
    version: Type.String(),
    digest: Type.String(),
    commitSha: Type.Union([Type.String(), Type.Null()]),
    buildUrl: Type.Union([Type.String(), Type.Null()]),
    metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: 'free metadata; for ML models: modelVersion, dataset, modelCard',
    }),
    createdAt: Type.String(),
  },
  { $id: 'Artifact' },
);
const RegisterArtifact = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    version: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$' }),
    digest: Digest,
    commitSha: Type.Optional(Type.String({ pattern: '^[0-9a-f]{7,64}$' })),
    buildUrl: Type.Optional(Link('http(s) link to the build')),
    metadata: Type.Optional(
      Type.Object(
        {
          modelVersion: Type.Optional(Type.String()),
          dataset: Type.Optional(Type.String({ description: 'dataset or training run reference' })),
          modelCard: Type.Optional(Link("http(s) link to the model's card")),
        },
        { additionalProperties: true, description: 'free metadata; for ML models: modelVersion, dataset, modelCard' },
      ),
    ),
  },
  { additionalProperties: false },
);

export function artifactsRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const registry = createArtifactRegistry(deps);
    app.addSchema(Artifact);

    app.post(
      '/artifacts',
      {
        config: { access: { permission: 'artifact:register', scope: 'service-name' } },
        schema: {
          tags: ['artifacts'],
          summary: 'Register an immutable build (the same version and digest again is a no-op)',
          body: RegisterArtifact,
          response: withErrors({ 200: Type.Ref('Artifact'), 201: Type.Ref('Artifact') }),
        },
      },
      async (request, reply) => {
        const { created, artifact } = await registry.register(request.body, { actor: requestActor(request), requestId: request.id });
        return reply.status(created ? 201 : 200).send(artifact);
      },
    );
    app.get(
      '/artifacts',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['artifacts'],
          summary: 'Artifacts, newest first',
          querystring: Type.Object({
            service: Type.Optional(Type.String()),
            digest: Type.Optional(Digest),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Artifact')) }) }),
        },
      },
      async (request) => ({ items: await registry.list(request.query, request.query.limit ?? 50, await readableResources(deps.prisma, request)) }),
    );
    app.get(
      '/artifacts/:id',
      {
        config: { access: { permission: 'read', scope: 'artifact-id' } },
        schema: { tags: ['artifacts'], summary: 'One artifact', params: Type.Object({ id: Uuid }), response: withErrors({ 200: Type.Ref('Artifact') }) },
      },
      async (request) => registry.get(request.params.id),
    );
  };
}

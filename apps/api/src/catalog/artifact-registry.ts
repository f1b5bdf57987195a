import { randomUUID } from 'node:crypto';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation } from '../http/problems.ts';
import type { ChangeContext } from './service-catalog.ts';
import type { Readable } from '../identity/route-access.ts';

export interface ArtifactInput {
  service: string;
  version: string;
  digest: string;
  commitSha?: string;
  buildUrl?: string;
  metadata?: Record<string, unknown>;
}

type ArtifactRow = Awaited<ReturnType<PrismaClient['artifact']['findUniqueOrThrow']>>;
export function artifactJson(a: ArtifactRow, serviceName: string) {
  return {
    id: a.id,
    service: serviceName,
    version: a.version,
    digest: a.digest,
    commitSha: a.commitSha,
    buildUrl: a.buildUrl,
    metadata: a.metadata,
    createdAt: a.createdAt.toISOString(),
  };
}

export function createArtifactRegistry(deps: { prisma: PrismaClient; audited: AuditedTransaction }) {
  /** The same version again is fine only with the same digest: artifacts are immutable. */
  function sameOrRefuse(existing: ArtifactRow, input: ArtifactInput) {
    if (existing.digest !== input.digest) {
      throw new AppError(
        'conflict',
        `version ${input.version} of ${input.service} is already registered with digest ${existing.digest}; artifacts are immutable: publish a new version`,
        {
          field: 'body.digest',
          registeredDigest: existing.digest,
        },
      );
    }
    return { created: false, artifact: artifactJson(existing, input.service) };
  }

  return {
    async register(input: ArtifactInput, ctx: ChangeContext): Promise<{ created: boolean; artifact: ReturnType<typeof artifactJson> }> {
      const service = await deps.prisma.service.findUnique({ where: { name: input.service } });
      if (!service) throw new AppError('not_found', `service "${input.service}" does not exist`, { field: 'body.service' });
      const existing = await deps.prisma.artifact.findUnique({ where: { serviceId_version: { serviceId: service.id, version: input.version } } });
      if (existing) return sameOrRefuse(existing, input);
      try {
        return await deps.audited(async (tx, audit) => {
          const artifact = await tx.artifact.create({
            data: {
              id: randomUUID(),
              serviceId: service.id,
              version: input.version,
              digest: input.digest,
              commitSha: input.commitSha,
              buildUrl: input.buildUrl,
              metadata: input.metadata as object | undefined,
            },
          });
          const after = artifactJson(artifact, service.name);
          await audit({
            actor: ctx.actor,
            action: 'artifact.registered',
            subject: { type: 'artifact', id: artifact.id },
            after,
            requestId: ctx.requestId,
            reason: ctx.reason,
          });
          return { created: true, artifact: after };
        });
      } catch (error) {
        // Two pipelines registering the same version at once: the loser sees the winner's row.
        if (!isUniqueViolation(error)) throw error;
        const winner = await deps.prisma.artifact.findUniqueOrThrow({ where: { serviceId_version: { serviceId: service.id, version: input.version } } });
        return sameOrRefuse(winner, input);
      }
    },

    async list(filter: { service?: string; digest?: string }, limit: number, visible: Readable = 'all') {
      const rows = await deps.prisma.artifact.findMany({
        where: {
          service: filter.service ? { name: filter.service } : undefined,
          digest: filter.digest,
          ...(visible === 'all' ? {} : { serviceId: { in: visible.serviceIds } }),
        },
        include: { service: true },
        orderBy: { createdAt: 'desc' },
        take: limit,
      });
      return rows.map((a) => artifactJson(a, a.service.name));
    },

    async get(id: string) {
      const a = await deps.prisma.artifact.findUnique({ where: { id }, include: { service: true } });
      if (!a) throw new AppError('not_found', `artifact ${id} does not exist`);
      return artifactJson(a, a.service.name);
    },
  };
}

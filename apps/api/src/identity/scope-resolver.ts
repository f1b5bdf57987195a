import type { AccessScope } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';
import type { FastifyRequest } from 'fastify';

/**
 * Where a route's resource lives, read from the matched route's own parameters and body
 * (never from the raw URL). `global` and `any` need no lookup; the others name where the
 * identifier is: `service-id` is params.id, `service-name` body.service, `environment-id`
 * params.id, `environment-name` body.service + body.environment, `release-id` and
 * `artifact-id` params.id.
 */
export const SCOPE_KINDS = ['global', 'any', 'service-id', 'service-name', 'environment-id', 'environment-name', 'release-id', 'artifact-id'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface ResolvedScope {
  scope: AccessScope;
  /** How the scope reads in a message: "checkout-api" or "checkout-api/prod". */
  label: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Null when the resource does not exist: the handler then answers 404 as it would for anyone. */
export async function resolveScope(prisma: PrismaClient, kind: ScopeKind, request: FastifyRequest): Promise<ResolvedScope | null> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const id = typeof params.id === 'string' && UUID.test(params.id) ? params.id : undefined;
  switch (kind) {
    case 'global':
      return { scope: { kind: 'global' }, label: 'everything' };
    case 'any':
      return { scope: { kind: 'any' }, label: 'anywhere' };
    case 'service-id':
    case 'service-name': {
      const where = kind === 'service-id' ? (id ? { id } : null) : typeof body.service === 'string' ? { name: body.service } : null;
      const service = where && (await prisma.service.findUnique({ where, select: { id: true, name: true } }));
      return service ? { scope: { kind: 'resource', serviceId: service.id, environmentId: null }, label: service.name } : null;
    }
    case 'environment-id':
    case 'environment-name': {
      let env: { id: string; name: string; serviceId: string; service: { name: string } } | null = null;
      const select = { id: true, name: true, serviceId: true, service: { select: { name: true } } } as const;
      if (kind === 'environment-id') env = id ? await prisma.environment.findUnique({ where: { id }, select }) : null;
      else if (typeof body.service === 'string' && typeof body.environment === 'string')
        env = await prisma.environment.findFirst({ where: { name: body.environment, service: { name: body.service } }, select });
      return env ? { scope: { kind: 'resource', serviceId: env.serviceId, environmentId: env.id }, label: `${env.service.name}/${env.name}` } : null;
    }
    case 'artifact-id': {
      const artifact = id && (await prisma.artifact.findUnique({ where: { id }, select: { serviceId: true, service: { select: { name: true } } } }));
      return artifact ? { scope: { kind: 'resource', serviceId: artifact.serviceId, environmentId: null }, label: artifact.service.name } : null;
    }
    case 'release-id': {
      const release =
        id &&
        (await prisma.release.findUnique({
          where: { id },
          select: { serviceId: true, environmentId: true, service: { select: { name: true } }, environment: { select: { name: true } } },
        }));
      return release
        ? {
            scope: { kind: 'resource', serviceId: release.serviceId, environmentId: release.environmentId },
            label: `${release.service.name}/${release.environment.name}`,
          }
        : null;
    }
  }
}

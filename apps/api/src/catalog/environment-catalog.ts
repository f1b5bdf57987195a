import { randomBytes, randomUUID } from 'node:crypto';
import { validatePolicy } from '@glidepath/core';
import { hashToken, Prisma, type AuditedTransaction, type PrismaClient } from '@glidepath/db';
import type { Egress, MetricRegistry, RouterRegistry, TargetSpec } from '@glidepath/providers';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation, unprocessable } from '../http/problems.ts';
import { refuseDeniedDestinations, type NamedDestination } from './outbound-check.ts';
import type { ChangeContext } from './service-catalog.ts';
import type { Readable } from '../identity/route-access.ts';

export interface EnvironmentInput {
  service: string;
  name: string;
  position: number;
  requireUpstreamSuccess?: boolean;
  target: TargetSpec;
  metrics?: TargetSpec | null;
  smokeBaseUrl?: string | null;
  policy?: unknown;
}

/** Router configs may hold secrets (a webhook target's signing secret): never send them back. */
function redactSecrets(target: unknown): unknown {
  const t = target as { type?: string; config?: Record<string, unknown> } | null;
  if (!t?.config || !('secret' in t.config)) return target;
  return { ...t, config: { ...t.config, secret: '***' } };
}

type EnvironmentRow = Awaited<ReturnType<PrismaClient['environment']['findUniqueOrThrow']>> & { service?: { name: string } };
export function environmentJson(e: EnvironmentRow) {
  return {
    id: e.id,
    serviceId: e.serviceId,
    name: e.name,
    position: e.position,
    requireUpstreamSuccess: e.requireUpstreamSuccess,
    target: redactSecrets(e.target),
    metrics: e.metrics,
    smokeBaseUrl: e.smokeBaseUrl,
    hasIngestKey: e.ingestKeyHash !== null,
    policy: e.policy,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export function createEnvironmentCatalog(deps: {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  routers: RouterRegistry;
  metricSources: MetricRegistry;
  egress: Pick<Egress, 'check'>;
}) {
  /** `current`: what an update leaves as it is, so that the metrics source is checked against the router it will run with. */
  function checkDocuments(input: {
    target?: TargetSpec;
    metrics?: TargetSpec | null;
    policy?: unknown;
    current?: { target: TargetSpec; metrics: TargetSpec | null };
  }) {
    const problems: Array<{ path: string; message: string }> = [];
    // The stored source is checked again only when the router it runs with changes.
    const metrics = input.metrics === undefined ? (input.target ? input.current?.metrics : undefined) : input.metrics;
    if (metrics) {
      // With the router as context: a source that reads HAProxy's own metrics needs an HAProxy router.
      const check = deps.metricSources.validate(metrics, { target: input.target ?? input.current?.target });
      if (!check.ok) problems.push(...check.problems.map((p) => ({ ...p, path: `metrics.${p.path}` })));
    }
    if (input.target) {
      const check = deps.routers.validate(input.target);
      if (!check.ok) problems.push(...check.problems.map((p) => ({ ...p, path: `target.${p.path}` })));
    }
    const policy = validatePolicy(input.policy);
    if (!policy.ok) problems.push(...policy.problems);
    if (problems.length) throw unprocessable('the environment', problems, 'body');
    return policy.ok ? policy.config : undefined;
  }

  /** Where the router, the metrics source and smoke checks would call, against the network policy (a 400 naming the field). */
  async function checkDestinations(input: { target?: TargetSpec; metrics?: TargetSpec | null; smokeBaseUrl?: string | null }) {
    const named = (prefix: string, list: Array<{ path: string; target: NamedDestination['target'] }>) =>
      list.map((d) => ({ field: `${prefix}.${d.path}`, target: d.target }));
    await refuseDeniedDestinations(deps.egress, [
      ...(input.target ? named('body.target', deps.routers.destinations(input.target)) : []),
      ...(input.metrics ? named('body.metrics', deps.metricSources.destinations(input.metrics)) : []),
      ...(input.smokeBaseUrl ? [{ field: 'body.smokeBaseUrl', target: { kind: 'url' as const, url: input.smokeBaseUrl } }] : []),
    ]);
  }

  return {
    async create(input: EnvironmentInput, ctx: ChangeContext) {
      const policy = checkDocuments(input);
      await checkDestinations(input);
      const service = await deps.prisma.service.findUnique({ where: { name: input.service } });
      if (!service) throw new AppError('not_found', `service "${input.service}" does not exist`, { field: 'body.service' });
      try {
        return await deps.audited(async (tx, audit) => {
          const env = await tx.environment.create({
            data: {
              id: randomUUID(),
              serviceId: service.id,
              name: input.name,
              position: input.position,
              // The first stage of a path has nothing upstream; every later one requires it unless told otherwise.
              requireUpstreamSuccess: input.requireUpstreamSuccess ?? true,
              target: input.target as object,
              metrics: (input.metrics ?? undefined) as object | undefined,
              smokeBaseUrl: input.smokeBaseUrl ?? null,
              policy: policy as object,
            },
          });
          const after = environmentJson(env);
          await audit({
            actor: ctx.actor,
            action: 'environment.created',
            subject: { type: 'environment', id: env.id },
            environmentId: env.id,
            after,
            requestId: ctx.requestId,
            reason: ctx.reason,
          });
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'position'))
          throw new AppError('conflict', `service "${input.service}" already has an environment at position ${input.position}`, { field: 'body.position' });
        if (isUniqueViolation(error))
          throw new AppError('conflict', `service "${input.service}" already has an environment named "${input.name}"`, { field: 'body.name' });
        throw error;
      }
    },

    /** A new key for pushing metrics; the old one stops working. Shown once, stored as sha256. */
    async rotateIngestKey(id: string, ctx: ChangeContext) {
      const key = `gpi_${randomBytes(32).toString('base64url')}`;
      await deps.audited(async (tx, audit) => {
        const env = await tx.environment.findUnique({ where: { id } });
        if (!env) throw new AppError('not_found', `environment ${id} does not exist`);
        await tx.environment.update({ where: { id }, data: { ingestKeyHash: hashToken(key), updatedAt: new Date() } });
        await audit({
          actor: ctx.actor,
          action: 'environment.ingest-key-rotated',
          subject: { type: 'environment', id },
          environmentId: id,
          requestId: ctx.requestId,
          reason: ctx.reason,
        });
      });
      return key;
    },

    async list(filter: { service?: string }, visible: Readable = 'all') {
      const rows = await deps.prisma.environment.findMany({
        where: { ...(filter.service ? { service: { name: filter.service } } : {}), ...(visible === 'all' ? {} : { id: { in: visible.environmentIds } }) },
        orderBy: [{ serviceId: 'asc' }, { position: 'asc' }],
      });
      return rows.map(environmentJson);
    },

    async get(id: string) {
      const env = await deps.prisma.environment.findUnique({ where: { id } });
      if (!env) throw new AppError('not_found', `environment ${id} does not exist`);
      return environmentJson(env);
    },

    async update(
      id: string,
      changes: { target?: TargetSpec; metrics?: TargetSpec | null; smokeBaseUrl?: string | null; policy?: unknown; requireUpstreamSuccess?: boolean },
      ctx: ChangeContext,
    ) {
      // Before the transaction: resolving a host name may take a moment.
      await checkDestinations(changes);
      return deps.audited(async (tx, audit) => {
        const current = await tx.environment.findUnique({ where: { id } });
        if (!current) throw new AppError('not_found', `environment ${id} does not exist`);
        const policy = checkDocuments({
          target: changes.target,
          metrics: changes.metrics,
          policy: changes.policy === undefined ? current.policy : changes.policy,
          current: { target: current.target as unknown as TargetSpec, metrics: current.metrics as unknown as TargetSpec | null },
        });
        const updated = await tx.environment.update({
          where: { id },
          data: {
            target: (changes.target ?? undefined) as object | undefined,
            metrics: changes.metrics === undefined ? undefined : changes.metrics === null ? Prisma.DbNull : (changes.metrics as object),
            policy: policy as object,
            requireUpstreamSuccess: changes.requireUpstreamSuccess,
            smokeBaseUrl: changes.smokeBaseUrl,
            updatedAt: new Date(),
          },
        });
        const after = environmentJson(updated);
        await audit({
          actor: ctx.actor,
          action: 'environment.updated',
          subject: { type: 'environment', id },
          environmentId: id,
          before: environmentJson(current),
          after,
          requestId: ctx.requestId,
          reason: ctx.reason,
        });
        return after;
      });
    },
  };
}

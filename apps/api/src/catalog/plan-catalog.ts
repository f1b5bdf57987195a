import { randomUUID } from 'node:crypto';
import { validatePlan, type CompiledPlan } from '@glidepath/core';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { Egress } from '@glidepath/providers';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation, unprocessable } from '../http/problems.ts';
import { refuseDeniedDestinations } from './outbound-check.ts';
import { planDestinations } from './plan-destinations.ts';
import type { ChangeContext } from './service-catalog.ts';

type PlanRow = Awaited<ReturnType<PrismaClient['releasePlan']['findUniqueOrThrow']>>;
export function planJson(p: PlanRow) {
  return {
    id: p.id,
    name: p.name,
    version: p.version,
    spec: p.spec,
    compiled: p.compiled as unknown as CompiledPlan,
    createdBy: p.createdBy,
    createdAt: p.createdAt.toISOString(),
  };
}

/** Plans are immutable: saving a plan always makes a new version, so a release keeps pointing at exactly what it ran. */
export function createPlanCatalog(deps: { prisma: PrismaClient; audited: AuditedTransaction; egress: Pick<Egress, 'check'> }) {
  return {
    async save(name: string, spec: unknown, ctx: ChangeContext, expectNew: boolean) {
      const result = validatePlan(spec);
      if (!result.ok) throw unprocessable('the plan', result.problems, 'body.spec');
      const { destinations, pathProblems } = planDestinations(spec);
      await refuseDeniedDestinations(deps.egress, destinations, pathProblems);
      try {
        return await deps.audited(async (tx, audit) => {
          const latest = await tx.releasePlan.findFirst({ where: { name }, orderBy: { version: 'desc' } });
          if (expectNew && latest)
            throw new AppError('conflict', `a plan named "${name}" already exists (version ${latest.version}); PUT /api/v1/plans/${name} makes a new version`, {
              field: 'body.name',
            });
          if (!expectNew && !latest) throw new AppError('not_found', `plan "${name}" does not exist; POST /api/v1/plans creates it`);
          const plan = await tx.releasePlan.create({
            data: {
              id: randomUUID(),
              name,
              version: (latest?.version ?? 0) + 1,
              spec: spec as object,
              compiled: result.plan as object,
              createdBy: `${ctx.actor.type}:${ctx.actor.id}`,
            },
          });
          const after = planJson(plan);
          await audit({
            actor: ctx.actor,
            action: latest ? 'plan.versioned' : 'plan.created',
            subject: { type: 'plan', id: plan.id },
            after,
            requestId: ctx.requestId,
            reason: ctx.reason,
          });
          // Warnings (an analysis too short for the traffic the plan expects) come with the reply, not the stored plan.
          return result.warnings.length ? { ...after, warnings: result.warnings } : after;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', `plan "${name}" was changed at the same moment; retry`);
        throw error;
      }
    },

    async list() {
      const rows = await deps.prisma.releasePlan.findMany({ orderBy: [{ name: 'asc' }, { version: 'desc' }], distinct: ['name'] });
      return rows.map(planJson);
    },

    async get(name: string, version?: number) {
      const plan = version
        ? await deps.prisma.releasePlan.findUnique({ where: { name_version: { name, version } } })
        : await deps.prisma.releasePlan.findFirst({ where: { name }, orderBy: { version: 'desc' } });
      if (!plan) throw new AppError('not_found', version ? `plan "${name}" has no version ${version}` : `plan "${name}" does not exist`);
      return planJson(plan);
    },

    /** Every version of a plan, newest first: who saved it and when (the specs come from get). */
    async versions(name: string) {
      const rows = await deps.prisma.releasePlan.findMany({
        where: { name },
        orderBy: { version: 'desc' },
        select: { version: true, createdBy: true, createdAt: true },
      });
      if (!rows.length) throw new AppError('not_found', `plan "${name}" does not exist`);
      return rows.map((r) => ({ version: r.version, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() }));
    },
  };
}

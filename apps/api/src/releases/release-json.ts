import type { ReleaseState } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';

type ReleaseRow = Awaited<ReturnType<PrismaClient['release']['findUniqueOrThrow']>> & {
  service: { name: string };
  environment: { name: string };
  artifact: { version: string; digest: string };
  plan: { name: string; version: number };
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The public form of a release: where it stands, each step with its timing and evidence. */
export function releaseJson(r: ReleaseRow) {
  const state = r.state as unknown as ReleaseState;
  return {
    id: r.id,
    service: { id: r.serviceId, name: r.service.name },
    environment: { id: r.environmentId, name: r.environment.name },
    artifact: { id: r.artifactId, version: r.artifact.version, digest: r.artifact.digest },
    plan: { id: r.planId, name: r.plan.name, version: r.plan.version, strategy: state.plan.strategy, automaticRollback: state.plan.rollback.automatic },
    phase: state.phase,
    stepIndex: state.stepIndex,
    canaryWeight: state.canaryWeight,
    reason: state.reason,
    /** Queued: when the environment opens (deploy windows, freezes). */
    opensAt: state.phase === 'queued' ? (state.opensAt ?? null) : null,
    breakGlass: state.breakGlass ?? null,
    slots: state.slots
      ? {
          live: state.slots.live,
          idle: state.slots.idle,
          previousReleaseId: state.slots.previousReleaseId,
          keepPreviousUntil: state.slots.keepPreviousUntil ?? null,
          deployment: state.deployment
            ? { status: state.deployment.status, attempt: state.deployment.attempt, digest: state.deployment.digest, reason: state.deployment.reason }
            : null,
          switchedBack: state.switchedBack ?? null,
        }
      : null,
    undoes: r.undoesReleaseId,
    requestedBy: r.requestedBy,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    steps: state.plan.steps.map((spec, index) => ({ index, ...state.steps[index]!, spec })),
  };
}
export type ReleaseJson = ReturnType<typeof releaseJson>;

export const RELEASE_INCLUDE = { service: true, environment: true, artifact: true, plan: true } as const;

import type { ReleaseState, RollingState } from '@glidepath/core';
import type { PrismaClient } from '@glidepath/db';

type ReleaseRow = Awaited<ReturnType<PrismaClient['release']['findUniqueOrThrow']>> & {
  service: { name: string };
  environment: { name: string };
  artifact: { version: string; digest: string; metadata?: unknown };
  plan: { name: string; version: number };
};

/** The model card is a link people follow: http(s) with a host only, as artifacts' registration checks it. */
const MODEL_CARD = /^https?:\/\/[^\s/?#]+([/?#]\S*)?$/;

/**
 * An ML artifact's model, from its free metadata: model version, data set (or training run) and
 * model card; null when the metadata names none. A value that is not a non-empty string, or a
 * model card that is not an http(s) link, is left out (null). release-read.repository.ts writes
 * the same in SQL.
 */
export function modelOf(metadata: unknown): { modelVersion: string | null; dataset: string | null; modelCard: string | null } | null {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return null;
  const m = metadata as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const card = text(m.modelCard);
  const model = { modelVersion: text(m.modelVersion), dataset: text(m.dataset), modelCard: card !== null && MODEL_CARD.test(card) ? card : null };
  return model.modelVersion !== null || model.dataset !== null || model.modelCard !== null ? model : null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A rolling release's progress: batch x of y, instances on the new digest, each instance, the rollback. release-read.repository.ts writes the same in SQL. */
function rollingJson(r: RollingState) {
  return {
    batch: r.batch + 1,
    batches: r.batches,
    replaced: r.instances.filter((i) => i.digest === r.target.digest).length,
    instances: r.instances.map((i) => ({
      name: i.name,
      batch: i.batch + 1,
      digest: i.digest,
      previousDigest: i.previous?.digest ?? null,
      inRotation: i.inRotation,
      deploy: i.deploy ? { direction: i.deploy.direction, attempt: i.deploy.attempt, status: i.deploy.status, reason: i.deploy.reason } : null,
    })),
    rollback: r.rollback ? { reason: r.rollback.reason, done: r.rollback.group >= r.rollback.groups.length, notRestored: r.rollback.notRestored } : null,
  };
}

/**
 * The public form of a release: where it stands, each step with its timing and evidence.
 * `undoneBy`: the newest release that rolls this one back (release-read.repository.ts reads it).
 */
export function releaseJson(r: ReleaseRow, undoneBy: string | null = null) {
  const state = r.state as unknown as ReleaseState;
  return {
    id: r.id,
    service: { id: r.serviceId, name: r.service.name },
    environment: { id: r.environmentId, name: r.environment.name },
    artifact: { id: r.artifactId, version: r.artifact.version, digest: r.artifact.digest, model: modelOf(r.artifact.metadata) },
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
    rolling: state.rolling ? rollingJson(state.rolling) : null,
    undoes: r.undoesReleaseId,
    undoneBy,
    drill: state.drill?.id ?? null,
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

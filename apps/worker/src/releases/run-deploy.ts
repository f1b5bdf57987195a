import type { ReleaseState } from '@glidepath/core';
import type { JobQueue, PrismaClient } from '@glidepath/db';
import type { DeployerRegistry, TargetSpec } from '@glidepath/providers';
import type { Logger } from 'pino';

export interface DeployDeps {
  prisma: PrismaClient;
  jobs: JobQueue;
  deployers: DeployerRegistry;
  log: Logger;
}

/** The deployer's idempotency key for one deploy attempt of a release: the same for every worker that asks. */
export const deploymentIdOf = (releaseId: string, attempt: number) => `${releaseId}:deploy:${attempt}`;
/** The key of one deploy onto one instance of a rolling release (attempt: that instance's deploy count in the release). */
export const instanceDeploymentIdOf = (releaseId: string, instance: string, attempt: number) => `${releaseId}:instance:${instance}:${attempt}`;

/**
 * Puts a release's artifact on its idle slot, or one instance of a rolling release on the digest it
 * is asked (the release's, or the one it ran before when rolling back), and posts the verdict to
 * the release's inbox. Safe to run twice, from this worker or a replacement: the deployer runs one
 * deployment per deploymentId and answers every call with how it went, and the state machine takes
 * the first verdict of an attempt and ignores the rest.
 */
export async function runDeploy(deps: DeployDeps, payload: { releaseId: string; attempt: number; instance?: string }) {
  const release = await deps.prisma.release.findUnique({ where: { id: payload.releaseId }, include: { environment: true, artifact: true, service: true } });
  if (!release) return null;
  const state = release.state as unknown as ReleaseState;
  const wanted = whatToDeploy(state, payload, release.artifact);
  if (!wanted) return null;
  const deploymentId = payload.instance ? instanceDeploymentIdOf(release.id, payload.instance, payload.attempt) : deploymentIdOf(release.id, payload.attempt);
  const spec = release.environment.deployer as unknown as TargetSpec | null;
  const log = deps.log.child({ releaseId: release.id, deploymentId, slot: wanted.slot });

  let verdict: { outcome: 'ready' | 'failed'; digest: string | null; reason: string | null; evidence: unknown };
  if (!spec) {
    verdict = { outcome: 'failed', digest: null, reason: `environment ${release.environment.name} has no deployer any more`, evidence: null };
  } else {
    let deployer;
    try {
      deployer = deps.deployers.deployerFor(spec);
    } catch (error) {
      // A config this worker refuses (a command outside its allowed directories): as data, not a retry loop.
      deployer = null;
      verdict = { outcome: 'failed', digest: null, reason: (error as Error).message, evidence: { deployer: spec.type } };
    }
    if (deployer) {
      log.info({ digest: wanted.digest }, 'deploying');
      const outcome = await deployer.deploy(
        {
          deploymentId,
          releaseId: release.id,
          environmentId: release.environmentId,
          slot: wanted.slot,
          artifact: {
            service: release.service.name,
            version: wanted.version,
            digest: wanted.digest,
            commitSha: wanted.digest === release.artifact.digest ? release.artifact.commitSha : null,
            buildUrl: wanted.digest === release.artifact.digest ? release.artifact.buildUrl : null,
          },
        },
        { deadline: wanted.deadline ? Date.parse(wanted.deadline) : undefined },
      );
      verdict =
        outcome.state === 'ready'
          ? { outcome: 'ready', digest: outcome.digest, reason: null, evidence: outcome.evidence }
          : { outcome: 'failed', digest: null, reason: outcome.reason, evidence: outcome.evidence };
    }
  }
  const about = payload.instance
    ? { type: 'instance-verdict', instance: payload.instance, attempt: payload.attempt }
    : { type: 'deploy-verdict', attempt: payload.attempt };
  const row = await deps.prisma.releaseInbox.create({
    data: {
      releaseId: release.id,
      event: { ...about, ...verdict!, evidence: (verdict!.evidence ?? null) as object },
      actorType: 'system',
      actorId: `deployer:${spec?.type ?? 'none'}`,
    },
  });
  await deps.jobs.reconcile(release.id, `inbox-${row.id}`);
  log.info({ outcome: verdict!.outcome }, verdict!.reason ?? 'deployed');
  return verdict!;
}

/** The deploy this job is for, if the release still waits for it (a job for an earlier attempt does nothing). */
function whatToDeploy(
  state: ReleaseState,
  payload: { attempt: number; instance?: string },
  artifact: { digest: string; version: string },
): { slot: string; digest: string; version: string; deadline: string | null } | null {
  if (payload.instance) {
    const d = state.rolling?.instances.find((i) => i.name === payload.instance)?.deploy;
    if (!d || d.status !== 'running' || d.attempt !== payload.attempt) return null;
    return { slot: payload.instance, digest: d.digest, version: d.version, deadline: d.deadline };
  }
  const d = state.deployment;
  if (!d || d.status !== 'running' || d.attempt !== payload.attempt || !state.slots) return null;
  return { slot: state.slots.idle, digest: artifact.digest, version: artifact.version, deadline: d.deadline };
}

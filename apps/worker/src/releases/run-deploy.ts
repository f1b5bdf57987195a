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

/**
 * Puts a release's artifact on its idle slot and posts the deploy verdict to the release's inbox.
 * Safe to run twice, from this worker or a replacement: the deployer runs one deployment per
 * deploymentId and answers every call with how it went, and the state machine takes the first
 * verdict of an attempt and ignores the rest.
 */
export async function runDeploy(deps: DeployDeps, payload: { releaseId: string; attempt: number }) {
  const release = await deps.prisma.release.findUnique({ where: { id: payload.releaseId }, include: { environment: true, artifact: true, service: true } });
  if (!release) return null;
  const state = release.state as unknown as ReleaseState;
  const d = state.deployment;
  if (!d || d.status !== 'running' || d.attempt !== payload.attempt || !state.slots) return null;
  const deploymentId = deploymentIdOf(release.id, payload.attempt);
  const spec = release.environment.deployer as unknown as TargetSpec | null;
  const log = deps.log.child({ releaseId: release.id, deploymentId, slot: state.slots.idle });

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
      log.info('deploying');
      const outcome = await deployer.deploy(
        {
          deploymentId,
          releaseId: release.id,
          environmentId: release.environmentId,
          slot: state.slots.idle,
          artifact: {
            service: release.service.name,
            version: release.artifact.version,
            digest: release.artifact.digest,
            commitSha: release.artifact.commitSha,
            buildUrl: release.artifact.buildUrl,
          },
        },
        { deadline: d.deadline ? Date.parse(d.deadline) : undefined },
      );
      verdict =
        outcome.state === 'ready'
          ? { outcome: 'ready', digest: outcome.digest, reason: null, evidence: outcome.evidence }
          : { outcome: 'failed', digest: null, reason: outcome.reason, evidence: outcome.evidence };
    }
  }
  const row = await deps.prisma.releaseInbox.create({
    data: {
      releaseId: release.id,
      event: { type: 'deploy-verdict', attempt: payload.attempt, ...verdict!, evidence: (verdict!.evidence ?? null) as object },
      actorType: 'system',
      actorId: `deployer:${spec?.type ?? 'none'}`,
    },
  });
  await deps.jobs.reconcile(release.id, `inbox-${row.id}`);
  log.info({ outcome: verdict!.outcome }, verdict!.reason ?? 'deployed');
  return verdict!;
}

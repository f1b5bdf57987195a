import { claimExpiredPrevious, expiredPrevious, forgetPrevious, type AuditedTransaction, type PrismaClient } from '@glidepath/db';
import type { Deployer } from '@glidepath/core';
import type { DeployerRegistry, TargetSpec } from '@glidepath/providers';
import type { Logger } from 'pino';

/** How long one removal may take: the slot state stays locked meanwhile, so a release's deploy there waits. */
const REMOVE_BUDGET_MS = 120_000;

/** The removal's idempotency key: one per environment and previous release, whichever worker asks, however often. */
export const removalIdOf = (environmentId: string, previousReleaseId: string) => `${environmentId}:remove:${previousReleaseId}`;

/**
 * Once a succeeded release's previous version has been kept on the idle slot for its time
 * (keepPreviousFor), the deployer takes it off (deployer.remove), so that the idle slot does not
 * run an old version for ever. Each removal runs in one transaction that holds the environment's
 * slot state: no release is under way there when it starts, and one starting meanwhile records
 * its deploy onto that slot only after the removal, so a removal never hits a slot a release
 * uses. The outcome is audited; a removal that fails is not tried again (its key would give the
 * same answer) and the slot is no longer counted as keeping anything.
 */
export function startSlotCleanup(deps: { prisma: PrismaClient; audited: AuditedTransaction; deployers: DeployerRegistry; log: Logger }, everyMs: number) {
  let running = false;
  let stopped = false;
  const round = async () => {
    if (running || stopped) return;
    running = true;
    try {
      for (const candidate of await expiredPrevious(deps.prisma, new Date())) {
        if (stopped) break;
        await removeOne(deps, candidate.environmentId);
      }
    } catch (error) {
      deps.log.warn({ err: error }, 'slot cleanup round failed; the next round tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), everyMs);
  void round();
  return {
    /** No new removal starts; resolves once the one under way ended (close the deployers to cut it short: it is tried again later). */
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

async function removeOne(deps: { audited: AuditedTransaction; deployers: DeployerRegistry; log: Logger }, environmentId: string) {
  await deps.audited(
    async (tx, audit) => {
      const now = new Date();
      const claimed = await claimExpiredPrevious(tx, environmentId, now);
      if (!claimed) return;
      const environment = await tx.environment.findUnique({ where: { id: environmentId }, include: { service: true } });
      const previous = await tx.release.findUnique({ where: { id: claimed.previousReleaseId }, include: { artifact: true } });
      const idle = environment?.slots.find((slot) => slot !== claimed.liveSlot);
      if (!environment?.deployer || !idle) return;
      const removalId = removalIdOf(environmentId, claimed.previousReleaseId);
      const log = deps.log.child({ environmentId, removalId, slot: idle });
      const deployer = deployerOf(deps.deployers, environment.deployer as unknown as TargetSpec);
      // remove() rejects only when the worker shuts down: the transaction is rolled back and a later round asks again, with the same key.
      const outcome: { state: 'removed' | 'failed'; reason?: string; evidence: unknown } =
        typeof deployer === 'string'
          ? { state: 'failed', reason: deployer, evidence: null }
          : await deployer.remove(
              { removalId, releaseId: claimed.previousReleaseId, environmentId, service: environment.service.name, slot: idle },
              { deadline: Date.now() + REMOVE_BUDGET_MS },
            );
      await forgetPrevious(tx, environmentId, claimed.previousReleaseId, new Date());
      const what = {
        slot: idle,
        releaseId: claimed.previousReleaseId,
        version: previous?.artifact.version ?? null,
        removalId,
        evidence: outcome.evidence ?? null,
      };
      if (outcome.state === 'removed') log.info({ version: what.version }, 'previous version removed from the idle slot');
      else log.warn({ reason: outcome.reason }, 'could not remove the previous version from the idle slot');
      await audit({
        actor: { type: 'system', id: `deployer:${(environment.deployer as { type?: string }).type ?? 'unknown'}`, name: null },
        action: outcome.state === 'removed' ? 'environment.previous-removed' : 'environment.previous-remove-failed',
        subject: { type: 'environment', id: environmentId },
        environmentId,
        payload: what,
        reason:
          outcome.state === 'removed'
            ? `kept on slot ${idle} past its time: ${what.version ?? 'the previous version'} removed`
            : `kept on slot ${idle} past its time, but the deployer could not remove it: ${outcome.reason}`,
      });
    },
    { timeout: REMOVE_BUDGET_MS + 30_000, maxWait: 10_000 },
  );
}

/** The environment's deployer, or why this worker refuses its config (a command outside its allowed directories): as data. */
function deployerOf(deployers: DeployerRegistry, spec: TargetSpec): Deployer | string {
  try {
    return deployers.deployerFor(spec);
  } catch (error) {
    return (error as Error).message;
  }
}

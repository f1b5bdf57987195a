import { nextWakeAt, transition, type Effect, type ReleaseEvent, type ReleaseState, type TrafficRouter, type TrafficTarget } from '@glidepath/core';
import type { Actor, AuditedTransaction, AuditInput, EventBus, JobQueue, Prisma } from '@glidepath/db';
import type { RouterRegistry, TargetSpec } from '@glidepath/providers';
import type { Logger } from 'pino';
import { releaseSummary } from './release-summary.ts';

export interface ReconcilerDeps {
  audited: AuditedTransaction;
  routers: RouterRegistry;
  jobs: JobQueue;
  bus: EventBus;
  log: Logger;
  now?: () => number;
}

const INBOX_BATCH = 50;
const SYSTEM: Actor = { type: 'system', id: 'reconciler' };

const ACTION: Record<ReleaseEvent['type'], string> = {
  start: 'release.started',
  timer: 'release.step-advanced',
  'gate-verdict': 'release.gate-verdict',
  pause: 'release.paused',
  resume: 'release.resumed',
  promote: 'release.promoted',
  abort: 'release.aborted',
  rollback: 'release.rolled-back',
  retry: 'release.retried',
  approve: 'release.approved',
};

/**
 * One reconcile of one release: under the release's row lock, feed pending inbox events and
 * the clock to the state machine, apply the effects through the router, and commit the new
 * state, history and audit events together. A crash anywhere before the commit leaves the
 * stored state as it was; the retry re-applies the same absolute effects in the same order.
 */
export async function reconcileRelease(deps: ReconcilerDeps, releaseId: string): Promise<void> {
  for (;;) {
    const outcome = await reconcileOnce(deps, releaseId);
    if (!outcome?.moreWaiting) return;
  }
}

async function reconcileOnce(deps: ReconcilerDeps, releaseId: string) {
  const now = deps.now?.() ?? Date.now();
  const committed = await deps.audited(
    async (tx, audit) => {
      await tx.$executeRaw`SET LOCAL lock_timeout = '5s'`;
      const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM release WHERE id = ${releaseId}::uuid FOR UPDATE`;
      if (locked.length === 0) return null;
      const release = await tx.release.findUniqueOrThrow({ where: { id: releaseId }, include: { environment: true, artifact: true, service: true } });
      const inbox = await tx.releaseInbox.findMany({ where: { releaseId, processedAt: null }, orderBy: { id: 'asc' }, take: INBOX_BATCH });

      let state = release.state as unknown as ReleaseState;
      let version = release.version;
      const gates: Array<Extract<Effect, { type: 'run-gate' }> & { round?: string }> = [];
      const transitions: Prisma.ReleaseTransitionCreateManyInput[] = [];
      const audits: AuditInput[] = [];
      const outcomes: Array<{ id: bigint; outcome: string }> = [];
      let router: TrafficRouter | undefined;
      let target: TrafficTarget | undefined;

      const items: Array<{ event: ReleaseEvent; inbox?: (typeof inbox)[number] }> = [
        ...inbox.map((i) => ({ event: i.event as unknown as ReleaseEvent, inbox: i })),
        { event: { type: 'timer' } },
      ];
      for (const { event, inbox: row } of items) {
        const actor: Actor = row ? { type: row.actorType, id: row.actorId } : SYSTEM;
        const result = transition(state, event, now);
        if (!result.ok) {
          outcomes.push({ id: row!.id, outcome: `refused: ${result.reason}` });
          audits.push({
            actor,
            action: 'release.control-refused',
            subject: { type: 'release', id: releaseId },
            environmentId: release.environmentId,
            payload: { event },
            reason: result.reason,
            requestId: row?.requestId,
          });
          continue;
        }
        if (row) outcomes.push({ id: row.id, outcome: result.changed ? 'applied' : 'ignored' });
        if (!result.changed) continue;

        version += 1;
        for (const [index, effect] of result.effects.entries()) {
          if (effect.type === 'run-gate') {
            // Asked again because its lease ran out: a new job id, or BullMQ would take it for the lost one.
            gates.push(event.type === 'timer' ? { ...effect, round: `lease-${now}` } : effect);
            continue;
          }
          router ??= deps.routers.routerFor(release.environment.target as unknown as TargetSpec);
          target ??= await trafficTarget(tx, release);
          await applyRouterEffect(router, target, effect, `${releaseId}:${version}:${index}`);
        }
        transitions.push({
          releaseId,
          version,
          event: event as object,
          fromPhase: state.phase,
          toPhase: result.state.phase,
          fromStep: state.stepIndex,
          toStep: result.state.stepIndex,
          effects: result.effects as object[],
        });
        const automatic = event.type === 'gate-verdict' && result.state.phase === 'rolled-back';
        audits.push({
          actor,
          action: automatic ? 'release.rolled-back-automatically' : ACTION[event.type],
          subject: { type: 'release', id: releaseId },
          environmentId: release.environmentId,
          before: { phase: state.phase, stepIndex: state.stepIndex, canaryWeight: state.canaryWeight },
          after: { phase: result.state.phase, stepIndex: result.state.stepIndex, canaryWeight: result.state.canaryWeight },
          payload: { event, effects: result.effects, version },
          reason: 'reason' in event && event.reason ? event.reason : result.state.reason,
          requestId: row?.requestId,
        });
        state = result.state;
      }

      for (const { id, outcome } of outcomes) await tx.releaseInbox.update({ where: { id }, data: { processedAt: new Date(now), outcome } });
      if (version !== release.version) {
        const wakeAt = nextWakeAt(state);
        // The row lock makes this check redundant today; it keeps two writers impossible if that ever changes.
        const updated = await tx.release.updateMany({
          where: { id: releaseId, version: release.version },
          data: {
            state: state as object,
            phase: state.phase,
            stepIndex: state.stepIndex,
            version,
            reason: state.reason,
            wakeAt: wakeAt ? new Date(wakeAt) : null,
            startedAt: state.startedAt ? new Date(state.startedAt) : null,
            finishedAt: state.finishedAt ? new Date(state.finishedAt) : null,
            updatedAt: new Date(now),
          },
        });
        if (updated.count !== 1) throw new Error(`release ${releaseId} changed under the row lock (version ${release.version})`);
        await tx.releaseTransition.createMany({ data: transitions });
      }
      // Audit last: the chain lock is then held only for the commit, not for router calls.
      for (const entry of audits) await audit(entry);
      return { release: { ...release, version }, state, gates, changed: version !== release.version, moreWaiting: inbox.length === INBOX_BATCH };
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  if (!committed) return null;

  const { release, state, gates, changed } = committed;
  if (changed) {
    await deps.bus
      .publish({ type: 'release.updated', data: releaseSummary(release, state) })
      .catch((error: Error) => deps.log.warn({ err: error }, 'could not publish release update'));
  }
  for (const gate of gates) await deps.jobs.runGate(releaseId, gate.stepIndex, gate.attempt, gate.round);
  const wakeAt = nextWakeAt(state);
  if (wakeAt) await deps.jobs.reconcile(releaseId, `wake-${Date.parse(wakeAt)}`, Date.parse(wakeAt) - (deps.now?.() ?? Date.now()));
  return committed;
}

async function applyRouterEffect(
  router: TrafficRouter,
  target: TrafficTarget,
  effect: Exclude<Effect, { type: 'run-gate' }>,
  effectKey: string,
): Promise<void> {
  const ctx = { effectKey };
  if (effect.type === 'set-weight') await router.setWeight(target, effect.weight, ctx);
  else if (effect.type === 'promote') await router.promote(target, ctx);
  else await router.rollback(target, ctx);
}

/** The stable version is what last succeeded in this environment. */
async function trafficTarget(
  tx: Prisma.TransactionClient,
  release: { id: string; environmentId: string; service: { name: string }; artifact: { version: string; digest: string } },
): Promise<TrafficTarget> {
  const stable = await tx.release.findFirst({
    where: { environmentId: release.environmentId, phase: 'succeeded', NOT: { id: release.id } },
    orderBy: { finishedAt: 'desc' },
    include: { artifact: true },
  });
  return {
    releaseId: release.id,
    environmentId: release.environmentId,
    service: release.service.name,
    canary: { version: release.artifact.version, digest: release.artifact.digest },
    stable: stable ? { version: stable.artifact.version, digest: stable.artifact.digest } : null,
  };
}

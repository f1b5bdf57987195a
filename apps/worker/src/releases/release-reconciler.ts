import {
  deployGate,
  isJobEffect,
  TERMINAL_PHASES,
  isShadowRelease,
  nextWakeAt,
  storedPolicy,
  transitionOrHalt,
  type JobEffect,
  type ReleaseEvent,
  type ReleaseState,
  type TrafficRouter,
  type RouterEffect,
  type TrafficTarget,
} from '@glidepath/core';
import {
  finishDrill,
  previousOnIdle,
  recordInstanceDigests,
  recordSlotChange,
  type Actor,
  type AuditedTransaction,
  type AuditInput,
  type EventBus,
  type JobQueue,
  type SlotChange,
} from '@glidepath/db';
import type { RouterRegistry, TargetSpec } from '@glidepath/providers';
import type { Logger } from 'pino';
import { lockAndLoadRelease, saveRelease, type LoadedRelease, type TransitionRow } from './release-store.ts';
import { releaseSummary } from './release-summary.ts';
import type { WorkerMetrics } from '../metrics.ts';

export interface ReconcilerDeps {
  audited: AuditedTransaction;
  routers: RouterRegistry;
  jobs: JobQueue;
  bus: EventBus;
  log: Logger;
  metrics?: Pick<WorkerMetrics, 'transitions' | 'rollbacks' | 'routerCalls' | 'drills' | 'drillTimeToRollback'>;
  now?: () => number;
}

/** Why a release rolled back, for operators' alerts. */
const ROLLBACK_CAUSE: Partial<Record<ReleaseEvent['type'], string>> = {
  'gate-verdict': 'verdict',
  'deploy-verdict': 'deploy',
  'instance-verdict': 'deploy',
  rollback: 'command',
  reject: 'rejected',
  timer: 'verdict',
};

const INBOX_BATCH = 50;
const SYSTEM: Actor = { type: 'system', id: 'reconciler' };

const ACTION: Record<ReleaseEvent['type'], string> = {
  start: 'release.started',
  timer: 'release.step-advanced',
  'gate-verdict': 'release.gate-verdict',
  'deploy-verdict': 'release.deploy-verdict',
  'instance-verdict': 'release.instance-verdict',
  pause: 'release.paused',
  resume: 'release.resumed',
  promote: 'release.promoted',
  abort: 'release.aborted',
  rollback: 'release.rolled-back',
  retry: 'release.retried',
  approve: 'release.approved',
  reject: 'release.rejected',
  'break-glass': 'release.break-glass',
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
      const release = await lockAndLoadRelease(tx, releaseId, INBOX_BATCH);
      if (!release) return null;
      const { inbox } = release;

      let state = release.state as ReleaseState;
      // Whether the environment is open now (deploy windows, freezes): one answer for every event of this round.
      // A succeeded release with slots may be switched back only while the other slot still holds the previous version.
      const previous = state.phase === 'succeeded' && state.slots && inbox.length ? await previousOnIdle(tx, releaseId, release.environmentId) : undefined;
      const context = { gate: deployGate(storedPolicy(release.policy), now), previousOnIdle: previous };
      let version = release.version;
      const jobEffects: Array<JobEffect & { round?: string }> = [];
      const transitions: TransitionRow[] = [];
      const audits: AuditInput[] = [];
      const outcomes: Array<{ id: bigint; outcome: string }> = [];
      let router: TrafficRouter | undefined;
      let target: TrafficTarget | undefined;
      let routed = false;
      let deferred = false;
      const drillsEnded: Array<{ action: string; ms: number | null }> = [];

      const items: Array<{ event: ReleaseEvent; inbox?: (typeof inbox)[number] }> = [
        ...inbox.map((i) => ({ event: i.event as unknown as ReleaseEvent, inbox: i })),
        { event: { type: 'timer' } },
      ];
      for (const { event, inbox: row } of items) {
        const actor: Actor = row ? { type: row.actorType, id: row.actorId, name: row.actorName } : SYSTEM;
        // Stored data no check foresaw, or a bug, may make the machine throw: the same event would
        // then throw on every reconcile (and hold back the abort queued behind it), so the release
        // stops here, with why.
        const result = transitionOrHalt(state, event, now, context);
        const halted = result.halted !== undefined;
        if (halted) deps.log.error({ err: result.halted, releaseId, event: event.type }, 'the release state machine threw: stopping the release');
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
        // One router effect per transaction (core keeps one per transition): a crash before the
        // commit then re-applies just that effect. Later events wait for the next round.
        const routes = result.effects.some((effect) => !isJobEffect(effect));
        if (routes && routed) {
          deferred = true;
          break;
        }
        routed ||= routes;
        if (row) outcomes.push({ id: row.id, outcome: halted ? 'halted' : result.changed ? 'applied' : 'ignored' });
        if (!result.changed) continue;

        version += 1;
        for (const [index, effect] of result.effects.entries()) {
          if (isJobEffect(effect)) {
            // Asked again because its lease ran out: a new job id, or BullMQ would take it for the lost one.
            jobEffects.push(event.type === 'timer' ? { ...effect, round: `lease-${now}` } : effect);
            continue;
          }
          router ??= deps.routers.routerFor(release.target as TargetSpec);
          // The slots as the release has them: a switch back after success routes with the slots it succeeded with.
          target ??= trafficTarget(release, result.state);
          await applyRouterEffect(router, target, effect, `${releaseId}:${version}:${index}`, deps.metrics);
        }
        // A drill's release ended: how it went (and how long the router took to have all traffic back) commits with it.
        if (result.state.drill && TERMINAL_PHASES.includes(result.state.phase) && !TERMINAL_PHASES.includes(state.phase)) {
          let routerVerified: boolean | 'unsupported' | null = null;
          if (result.effects.some((e) => e.type === 'rollback')) {
            router ??= deps.routers.routerFor(release.target as TargetSpec);
            target ??= trafficTarget(release, result.state);
            routerVerified = await router.verifyWeight(target, 0).catch((error: Error) => {
              deps.log.warn({ err: error, releaseId }, 'could not ask the router whether the drill rolled back');
              return null;
            });
          }
          const ended = await finishDrill(tx, { state: result.state, environmentId: release.environmentId, confirmedAt: Date.now(), routerVerified });
          audits.push(...ended);
          drillsEnded.push(...ended.map((e) => ({ action: e.action, ms: (e.payload as { timeToRollbackMs?: number | null }).timeToRollbackMs ?? null })));
        }
        const slotChange = slotChangeOf(releaseId, state, result.state, result.effects);
        if (slotChange) await recordSlotChange(tx, release.environmentId, slotChange, new Date(now));
        const deployed = instancesDeployed(state, result.state);
        if (deployed.length) await recordInstanceDigests(tx, release.environmentId, releaseId, deployed, new Date(now));
        transitions.push({
          version,
          event,
          fromPhase: state.phase,
          toPhase: result.state.phase,
          fromStep: state.stepIndex,
          toStep: result.state.stepIndex,
          effects: result.effects,
        });
        const automatic =
          (event.type === 'gate-verdict' ||
            event.type === 'deploy-verdict' ||
            event.type === 'instance-verdict' ||
            (event.type === 'timer' && (state.deployment?.status === 'running' || !!state.rolling))) &&
          result.state.phase === 'rolled-back';
        audits.push({
          actor: halted ? SYSTEM : actor,
          action: halted
            ? 'release.halted'
            : automatic
              ? 'release.rolled-back-automatically'
              : drillEnd(state, result.state)
                ? 'release.rolled-back'
                : ACTION[event.type],
          subject: { type: 'release', id: releaseId },
          environmentId: release.environmentId,
          before: { phase: state.phase, stepIndex: state.stepIndex, canaryWeight: state.canaryWeight },
          after: { phase: result.state.phase, stepIndex: result.state.stepIndex, canaryWeight: result.state.canaryWeight },
          payload: { event, effects: result.effects, version },
          reason: !halted && 'reason' in event && event.reason ? event.reason : result.state.reason,
          requestId: row?.requestId,
        });
        state = result.state;
      }

      for (const { id, outcome } of outcomes) await tx.releaseInbox.update({ where: { id }, data: { processedAt: new Date(now), outcome } });
      if (version !== release.version) await saveRelease(tx, release, state, transitions, now);
      // Audit last: the chain lock is then held only for the commit, not for router calls.
      for (const entry of audits) await audit(entry);
      return {
        release: { ...release, version },
        state,
        jobEffects,
        transitions,
        changed: version !== release.version,
        moreWaiting: deferred || inbox.length === INBOX_BATCH,
        drillsEnded,
      };
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  if (!committed) return null;

  const { release, state, jobEffects, changed, transitions, drillsEnded } = committed;
  for (const d of drillsEnded) {
    deps.metrics?.drills.inc({ outcome: d.action.slice('drill.'.length) });
    if (d.action !== 'drill.slow' && d.ms !== null) deps.metrics?.drillTimeToRollback.observe(d.ms / 1000);
  }
  for (const t of transitions) {
    const event = t.event as ReleaseEvent;
    deps.log.info(
      { releaseId, version: t.version, event: event.type, from: t.fromPhase, to: t.toPhase, fromStep: t.fromStep, toStep: t.toStep },
      `release ${t.fromPhase} → ${t.toPhase}`,
    );
    deps.metrics?.transitions.inc({ event: event.type, to_phase: t.toPhase });
    if (t.toPhase === 'rolled-back' && t.fromPhase !== 'rolled-back')
      deps.metrics?.rollbacks.inc({ cause: state.drill ? 'drill' : (ROLLBACK_CAUSE[event.type] ?? event.type) });
  }
  if (changed) {
    await deps.bus
      .publish({ type: 'release.updated', data: releaseSummary(release, state) })
      .catch((error: Error) => deps.log.warn({ err: error }, 'could not publish release update'));
  }
  for (const job of jobEffects) {
    if (job.type === 'run-gate') await deps.jobs.runGate(releaseId, job.stepIndex, job.attempt, job.round);
    else if (job.type === 'deploy-instance') await deps.jobs.runInstanceDeploy(releaseId, job.instance, job.attempt, job.round);
    else await deps.jobs.runDeploy(releaseId, job.attempt, job.round);
  }
  const wakeAt = nextWakeAt(state);
  if (wakeAt) await deps.jobs.reconcile(releaseId, `wake-${Date.parse(wakeAt)}`, Date.parse(wakeAt) - (deps.now?.() ?? Date.now()));
  return committed;
}

async function applyRouterEffect(
  router: TrafficRouter,
  target: TrafficTarget,
  effect: RouterEffect,
  effectKey: string,
  metrics?: Pick<WorkerMetrics, 'routerCalls'>,
): Promise<void> {
  const ctx = { effectKey };
  const end = metrics?.routerCalls.startTimer({ effect: effect.type });
  try {
    if (effect.type === 'set-weight') await router.setWeight(target, effect.weight, ctx);
    else if (effect.type === 'promote') await router.promote(target, ctx);
    else if (effect.type === 'rollback') await router.rollback(target, ctx);
    else if (router.setInstanceWeights) await router.setInstanceWeights(target, effect.weights, ctx);
    else throw new Error(`the ${router.type} router cannot set the weight of each instance`);
    end?.({ outcome: 'ok' });
  } catch (error) {
    end?.({ outcome: 'error' });
    throw error;
  }
}

function trafficTarget(release: LoadedRelease, state: ReleaseState): TrafficTarget {
  return {
    releaseId: release.id,
    environmentId: release.environmentId,
    service: release.serviceName,
    canary: release.artifact,
    stable: release.stable,
    ...(state.slots ? { slots: { live: state.slots.live, idle: state.slots.idle } } : {}),
  };
}

/** What a transition did to the environment's slots: recorded in its transaction, so the live slot is never in doubt. */
function slotChangeOf(releaseId: string, before: ReleaseState, after: ReleaseState, effects: readonly { type: string }[]): SlotChange | null {
  const slots = after.slots;
  if (!slots) return null;
  if (after.switchedBack && !before.switchedBack) return { kind: 'switched-back', liveSlot: slots.live, releaseId: slots.previousReleaseId };
  // A shadow that passed served nothing: the live slot stays live.
  if (after.phase === 'succeeded' && before.phase !== 'succeeded' && !isShadowRelease(after))
    return { kind: 'live', liveSlot: slots.idle, releaseId, previousReleaseId: slots.previousReleaseId, keptUntil: slots.keepPreviousUntil ?? null };
  if (effects.some((e) => e.type === 'deploy')) return { kind: 'deploying', liveSlot: slots.live };
  return null;
}

/** Instances a transition saw ready with a new deploy (forward or back): what they run now, for the environment's record. */
function instancesDeployed(before: ReleaseState, after: ReleaseState): Array<{ name: string; digest: string; version: string }> {
  if (!after.rolling) return [];
  return after.rolling.instances.flatMap((i) => {
    const d = i.deploy;
    const was = before.rolling?.instances.find((b) => b.name === i.name)?.deploy;
    if (d?.status !== 'ready' || (was?.status === 'ready' && was.attempt === d.attempt)) return [];
    return [{ name: i.name, digest: d.digest, version: d.version }];
  });
}

/** A drill's own end (its hold over, all traffic back): audited as the rollback it is, not as a step advancing. */
function drillEnd(before: ReleaseState, after: ReleaseState): boolean {
  return Boolean(after.drill?.rollbackDecidedAt) && after.phase === 'rolled-back' && before.phase !== 'rolled-back';
}

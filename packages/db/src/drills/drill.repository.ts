import { randomUUID } from 'node:crypto';
import {
  ACTIVE_PHASES,
  DEFAULT_DRILL_HOLD_MS,
  DEFAULT_DRILL_OBJECTIVE_MS,
  DEFAULT_KEEP_PREVIOUS_FOR_MS,
  deployGate,
  drillBlocker,
  drillOutcome,
  drillReleaseState,
  DRILL_WEIGHT,
  storedPolicy,
  type DrillSchedule,
  type Phase,
  type ReleaseState,
} from '@glidepath/core';
import type { Drill, Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Actor, AuditInput } from '../audit/audit-log.ts';
import type { AuditedTransaction } from '../audit/audited-transaction.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { readSlotState } from '../releases/environment-slots.repository.ts';

/** The owner of the drill table. A drill's release is created here too, as the release service creates others. */

/** The built-in plan a drill's release names (inserted by its migration); users cannot name a plan so. */
export const DRILL_PLAN = 'glidepath:drill';
const SYSTEM: Actor = { type: 'system', id: 'drill' };

export type DrillRequest =
  | { trigger: 'manual'; environmentId: string; actor: Actor; requestId?: string | null; reason?: string | null }
  /** A scheduled drill for `dueAt`; it waits (with why) until it can start, and is skipped once `nextDueAt` comes. */
  | { trigger: 'schedule'; environmentId: string; dueAt: Date; nextDueAt: Date };

export type DrillStart = { ok: true; drill: Drill } | { ok: false; reason: string; drill?: Drill };

/** The schedule an environment stores, or null (drills on demand only). */
export function storedDrillSchedule(value: unknown): DrillSchedule | null {
  const v = value as Partial<DrillSchedule> | null;
  if (!v || typeof v.everyMs !== 'number' || typeof v.objectiveMs !== 'number' || typeof v.since !== 'string') return null;
  return { everyMs: v.everyMs, objectiveMs: v.objectiveMs, holdMs: typeof v.holdMs === 'number' ? v.holdMs : DEFAULT_DRILL_HOLD_MS, since: v.since };
}

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === 'P2002' || /unique constraint/i.test(String((error as Error)?.message));

/**
 * Starts a drill if the environment allows one now (core's drillBlocker): in one transaction, under
 * the environment's row lock, the drill, its release (the live version, to the idle slot) with its
 * `start` event, and their audit events. A manual drill that cannot start changes nothing and says
 * why; a scheduled one is recorded as waiting with why, and tried again on the next sweep.
 */
export async function startDrill(deps: { audited: AuditedTransaction; jobs: JobQueue }, request: DrillRequest, now = Date.now()): Promise<DrillStart> {
  let started: { drill: Drill; releaseId: string; inboxId: bigint } | null = null;
  let result: DrillStart;
  try {
    result = await deps.audited(async (tx, audit) => {
      const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM environment WHERE id = ${request.environmentId}::uuid FOR UPDATE`;
      if (!locked.length) return { ok: false as const, reason: `environment ${request.environmentId} does not exist` };
      const env = await tx.environment.findUniqueOrThrow({ where: { id: request.environmentId }, include: { service: true } });
      const schedule = storedDrillSchedule(env.drills);
      const open = await tx.drill.findFirst({ where: { environmentId: env.id, status: { in: ['waiting', 'running'] } } });
      let waiting: Drill | null = null;
      if (open?.status === 'running') return { ok: false as const, reason: `drill ${open.id} is under way in ${env.name}` };
      if (request.trigger === 'schedule') {
        const done = await tx.drill.findUnique({ where: { environmentId_dueAt: { environmentId: env.id, dueAt: request.dueAt } } });
        if (done && done.status !== 'waiting') return { ok: false as const, reason: 'already drilled for this time', drill: done };
        if (open && open.id === done?.id) waiting = open;
      }
      // A drill still waiting when another is asked for (on demand, or the next scheduled time) gives way, said so.
      if (open?.status === 'waiting' && open.id !== waiting?.id) {
        const why = request.trigger === 'manual' ? 'superseded by a drill run on demand' : `its time passed while it waited (${open.reason})`;
        await tx.drill.update({ where: { id: open.id }, data: { status: 'skipped', reason: why, finishedAt: new Date(now) } });
        await audit({ actor: SYSTEM, action: 'drill.skipped', subject: { type: 'drill', id: open.id }, environmentId: env.id, reason: why });
      }

      const slotState = await readSlotState(tx, env.id);
      const [first, second] = env.slots as [string?, string?];
      const live = slotState && env.slots.includes(slotState.liveSlot) ? slotState.liveSlot : first;
      const slots = env.deployer && first && second && live ? { live, idle: live === first ? second : first } : null;
      const liveRelease = slotState?.liveReleaseId
        ? await tx.release.findUnique({ where: { id: slotState.liveReleaseId }, include: { artifact: true } })
        : null;
      const active = await tx.release.findFirst({ where: { environmentId: env.id, phase: { in: [...ACTIVE_PHASES] } }, include: { drill: true } });
      const blocker = drillBlocker({
        environment: env.name,
        hasDeployer: Boolean(env.deployer),
        slots,
        liveRelease: liveRelease ? { id: liveRelease.id, version: liveRelease.artifact.version, digest: liveRelease.artifact.digest } : null,
        activeRelease: active ? { id: active.id, phase: active.phase as Phase, drill: active.drill !== null } : null,
        gate: deployGate(storedPolicy(env.policy), now),
        kept: { releaseId: slotState?.previousReleaseId ?? null, until: slotState?.previousKeptUntil?.toISOString() ?? null },
        now,
      });
      const holdMs = schedule?.holdMs ?? DEFAULT_DRILL_HOLD_MS;
      const objectiveMs = schedule?.objectiveMs ?? DEFAULT_DRILL_OBJECTIVE_MS;
      if (blocker) {
        if (request.trigger === 'manual') return { ok: false as const, reason: blocker };
        if (waiting) {
          const drill = waiting.reason === blocker ? waiting : await tx.drill.update({ where: { id: waiting.id }, data: { reason: blocker } });
          return { ok: false as const, reason: blocker, drill };
        }
        const drill = await tx.drill.create({
          data: {
            id: randomUUID(),
            environmentId: env.id,
            trigger: 'schedule',
            dueAt: request.dueAt,
            requestedBy: 'system:drill',
            status: 'waiting',
            reason: blocker,
            weight: DRILL_WEIGHT,
            holdMs,
            objectiveMs,
          },
        });
        await audit({
          actor: SYSTEM,
          action: 'drill.waiting',
          subject: { type: 'drill', id: drill.id },
          environmentId: env.id,
          payload: { dueAt: request.dueAt.toISOString(), until: request.nextDueAt.toISOString() },
          reason: blocker,
        });
        return { ok: false as const, reason: blocker, drill };
      }

      const plan = await tx.releasePlan.findFirstOrThrow({ where: { name: DRILL_PLAN }, orderBy: { version: 'desc' } });
      const actor = request.trigger === 'manual' ? request.actor : SYSTEM;
      const actorId = `${actor.type}:${actor.id}`;
      const drillId = waiting?.id ?? randomUUID();
      const state = drillReleaseState({
        drillId,
        holdMs,
        requestedBy: actorId,
        environmentId: env.id,
        planVersion: plan.version,
        liveRelease: { id: liveRelease!.id, digest: liveRelease!.artifact.digest },
        slots: slots!,
        keepPreviousForMs: env.keepPreviousForMs ?? DEFAULT_KEEP_PREVIOUS_FOR_MS,
      });
      const why =
        request.trigger === 'manual'
          ? `rollback drill on demand${request.reason ? `: ${request.reason}` : ''}`
          : `scheduled rollback drill (due ${request.dueAt.toISOString()})`;
      const release = await tx.release.create({
        data: {
          id: randomUUID(),
          serviceId: env.serviceId,
          environmentId: env.id,
          artifactId: liveRelease!.artifactId,
          planId: plan.id,
          phase: state.phase,
          stepIndex: 0,
          state: state as object,
          version: 0,
          requestedBy: actorId,
          reason: why,
        },
      });
      const requestId = request.trigger === 'manual' ? (request.requestId ?? null) : null;
      const inbox = await tx.releaseInbox.create({
        data: { releaseId: release.id, event: { type: 'start' }, actorType: actor.type, actorId: actor.id, actorName: actor.name ?? null, requestId },
      });
      const fields = {
        releaseId: release.id,
        status: 'running',
        reason: null,
        digest: liveRelease!.artifact.digest,
        version: liveRelease!.artifact.version,
        slot: slots!.idle,
        startedAt: new Date(now),
      };
      const drill = waiting
        ? await tx.drill.update({ where: { id: waiting.id }, data: fields })
        : await tx.drill.create({
            data: {
              id: drillId,
              environmentId: env.id,
              trigger: request.trigger,
              dueAt: request.trigger === 'schedule' ? request.dueAt : null,
              requestedBy: actorId,
              weight: DRILL_WEIGHT,
              holdMs,
              objectiveMs,
              ...fields,
            },
          });
      await audit({
        actor,
        action: 'drill.started',
        subject: { type: 'drill', id: drill.id },
        environmentId: env.id,
        payload: {
          trigger: drill.trigger,
          dueAt: drill.dueAt?.toISOString() ?? null,
          releaseId: release.id,
          version: drill.version,
          digest: drill.digest,
          slot: drill.slot,
          weight: drill.weight,
          holdMs,
          objectiveMs,
        },
        reason: why,
        requestId,
      });
      await audit({
        actor,
        action: 'release.created',
        subject: { type: 'release', id: release.id },
        environmentId: env.id,
        after: {
          service: env.service.name,
          environment: env.name,
          version: liveRelease!.artifact.version,
          digest: liveRelease!.artifact.digest,
          plan: { name: plan.name, version: plan.version },
          drill: drill.id,
        },
        reason: why,
        requestId,
      });
      started = { drill, releaseId: release.id, inboxId: inbox.id };
      return { ok: true as const, drill };
    });
  } catch (error) {
    // A release (or another drill) started in the environment between the checks and the insert.
    if (isUniqueViolation(error)) return { ok: false, reason: 'a release or another drill started in the environment at the same moment' };
    throw error;
  }
  const s = started as { drill: Drill; releaseId: string; inboxId: bigint } | null;
  if (s) await deps.jobs.startRelease(s.releaseId, `inbox-${s.inboxId}`);
  return result;
}

/**
 * Records how a drill went, in the transaction of the transition that ended its release, and
 * returns the audit events that say so (drill.succeeded or drill.failed, and drill.slow above its
 * objective): webhook subscribers hear of a drill that failed or got slow from those.
 */
export async function finishDrill(
  tx: Prisma.TransactionClient,
  input: { state: ReleaseState; environmentId: string; confirmedAt: number; routerVerified: boolean | 'unsupported' | null },
): Promise<AuditInput[]> {
  const id = input.state.drill?.id;
  if (!id) return [];
  const drill = await tx.drill.findUnique({ where: { id } });
  if (!drill || drill.status !== 'running') return [];
  const outcome = drillOutcome(input.state, { confirmedAt: input.confirmedAt, routerVerified: input.routerVerified }, drill.objectiveMs);
  const decided = input.state.drill?.rollbackDecidedAt ?? null;
  await tx.drill.update({
    where: { id },
    data: {
      status: outcome.status,
      reason: outcome.reason,
      timeToRollbackMs: outcome.timeToRollbackMs,
      slow: outcome.slow,
      routerVerified: input.routerVerified === null ? null : String(input.routerVerified),
      rollbackDecidedAt: decided ? new Date(decided) : null,
      rolledBackAt: outcome.timeToRollbackMs === null ? null : new Date(input.confirmedAt),
      finishedAt: new Date(input.confirmedAt),
    },
  });
  const payload = {
    releaseId: drill.releaseId,
    trigger: drill.trigger,
    version: drill.version,
    digest: drill.digest,
    slot: drill.slot,
    timeToRollbackMs: outcome.timeToRollbackMs,
    objectiveMs: drill.objectiveMs,
    routerVerified: input.routerVerified,
  };
  const subject = { type: 'drill', id };
  const events: AuditInput[] = [
    { actor: SYSTEM, action: `drill.${outcome.status}`, subject, environmentId: input.environmentId, payload, reason: outcome.reason },
  ];
  if (outcome.slow) events.push({ actor: SYSTEM, action: 'drill.slow', subject, environmentId: input.environmentId, payload, reason: outcome.reason });
  return events;
}

/** An environment's drills, newest first. */
export async function listDrills(db: PrismaClient | Prisma.TransactionClient, environmentId: string, limit = 50): Promise<Drill[]> {
  return db.drill.findMany({ where: { environmentId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
}

/** Environments with a drill schedule (and a deployer), for the scheduler. */
export async function scheduledDrillEnvironments(db: PrismaClient): Promise<Array<{ id: string; schedule: DrillSchedule }>> {
  const rows = await db.$queryRaw<Array<{ id: string; drills: unknown }>>`
    SELECT id::text, drills FROM environment WHERE drills IS NOT NULL AND drills <> 'null'::jsonb AND deployer IS NOT NULL`;
  return rows.flatMap((r) => {
    const schedule = storedDrillSchedule(r.drills);
    return schedule ? [{ id: r.id, schedule }] : [];
  });
}

/** Whether the scheduled drill for `dueAt` is already settled (ran, failed or was skipped): nothing to do for it. */
export async function scheduledDrillSettled(db: PrismaClient, environmentId: string, dueAt: Date): Promise<boolean> {
  const row = await db.drill.findUnique({ where: { environmentId_dueAt: { environmentId, dueAt } }, select: { status: true } });
  return row !== null && row.status !== 'waiting';
}

/** The drill JSON the API shows. */
export function drillJson(d: Drill) {
  return {
    id: d.id,
    environmentId: d.environmentId,
    releaseId: d.releaseId,
    trigger: d.trigger,
    dueAt: d.dueAt?.toISOString() ?? null,
    requestedBy: d.requestedBy,
    status: d.status,
    reason: d.reason,
    version: d.version,
    digest: d.digest,
    slot: d.slot,
    weight: d.weight,
    holdMs: d.holdMs,
    objectiveMs: d.objectiveMs,
    timeToRollbackMs: d.timeToRollbackMs,
    slow: d.slow,
    routerVerified: d.routerVerified,
    createdAt: d.createdAt.toISOString(),
    startedAt: d.startedAt?.toISOString() ?? null,
    rollbackDecidedAt: d.rollbackDecidedAt?.toISOString() ?? null,
    rolledBackAt: d.rolledBackAt?.toISOString() ?? null,
    finishedAt: d.finishedAt?.toISOString() ?? null,
  };
}
export type DrillJson = ReturnType<typeof drillJson>;

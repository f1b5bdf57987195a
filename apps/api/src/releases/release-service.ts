import { createHash, randomUUID } from 'node:crypto';
import {
  ACTIVE_PHASES,
  approvalExpiryMs,
  DEFAULT_KEEP_PREVIOUS_FOR_MS,
  deployGate,
  initialReleaseState,
  initialRollingState,
  isGate,
  isShadowRelease,
  mayBreakGlass,
  pendingDeployment,
  planRunProblem,
  storedPolicy,
  transitionOrHalt,
  validatePlan,
  type BreakGlass,
  type CompiledPlan,
  type Grant,
  type ReleaseEvent,
  type ReleaseState,
} from '@glidepath/core';
import {
  readControlSnapshot,
  readRelease,
  readReleaseDetail,
  readReleasePage,
  readSlotState,
  readInstanceRecords,
  previousOnIdle,
  sqlPool,
  type Actor,
  type AuditedTransaction,
  type EventBus,
  type JobQueue,
  type PrismaClient,
} from '@glidepath/db';
import { prometheusMeasuresRatio, prometheusReadsLatency } from '@glidepath/providers';
import canonicalize from 'canonicalize';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation } from '../http/problems.ts';
import { RELEASE_INCLUDE, releaseJson, type ReleaseJson } from './release-json.ts';
import type { ReadScopes } from '../identity/route-access.ts';
import { NOT_SHADOW } from './shadow-releases.ts';

export interface CreateReleaseInput {
  service: string;
  environment: string;
  version: string;
  plan: string;
  planVersion?: number;
  reason?: string;
  /** Start now whatever the deploy windows and freezes say, and skip approvals: a written reason, people with the right only. */
  breakGlass?: { reason: string };
  /** Set by rollback only: the succeeded release this one undoes by deploying the version before it again. */
  undoes?: string;
}

/** The plan a rollback runs when it has to deploy the previous version again: all traffic at once. Users cannot name a plan so. */
export const ROLLBACK_PLAN = 'glidepath:rollback';
/** The same on an environment with instances: every instance but one, then the last (a rolling plan, checked by each deploy's health). */
export const ROLLING_ROLLBACK_PLAN = 'glidepath:rollback-rolling';
const ROLLBACK_SPECS: Record<string, unknown> = {
  [ROLLBACK_PLAN]: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] },
  [ROLLING_ROLLBACK_PLAN]: { strategy: 'rolling', batches: [50, 100] },
};

export interface RequestContext {
  actor: Actor;
  requestId: string;
  /** The person behind the request (core's personKeyOf): recorded as the requester of a new release. */
  personKey?: string;
  /** Who is asking, for break-glass: a person, with their grants. */
  caller?: { kind: 'user' | 'token'; display: string; grants: readonly Grant[] };
}

export type Control = Exclude<ReleaseEvent['type'], 'start' | 'timer' | 'gate-verdict' | 'deploy-verdict' | 'instance-verdict'>;

export function createReleaseService(deps: { prisma: PrismaClient; audited: AuditedTransaction; jobs: JobQueue; bus?: EventBus; now?: () => number }) {
  const now = () => deps.now?.() ?? Date.now();
  // Reads that build the reply in one statement go to the pool Prisma runs on.
  const pool = sqlPool(deps.prisma);

  /** Break-glass is announced on the event bus on its own, for notifications (chat, incident tools). */
  async function announceBreakGlass(release: { id: string; serviceId: string; environmentId: string }, breakGlass: BreakGlass) {
    await deps.bus
      ?.publish({
        type: 'release.break-glass',
        data: { releaseId: release.id, serviceId: release.serviceId, environmentId: release.environmentId, ...breakGlass },
      })
      .catch(() => {});
  }

  function requireBreakGlass(ctx: RequestContext, environment: { id: string; serviceId: string; policy: unknown }, reason: string) {
    if (!ctx.caller) throw new AppError('forbidden', 'break-glass needs a signed-in person');
    const decision = mayBreakGlass(
      ctx.caller,
      { policy: storedPolicy(environment.policy), serviceId: environment.serviceId, environmentId: environment.id },
      reason,
    );
    if (!decision.allowed) throw new AppError('forbidden', decision.reason, { field: 'body.breakGlass' });
  }

  /** The release as the API shows it (Release). */
  async function releaseReply(id: string): Promise<ReleaseJson> {
    const json = await readRelease(pool, id);
    if (json === null) throw new AppError('not_found', `release ${id} does not exist`);
    return JSON.parse(json) as ReleaseJson;
  }

  /**
   * With a deployer, the release deploys to the slot that is not live and keeps the live one (and
   * the release whose version it serves) for a switch back. Creation is one release per environment
   * at a time, so the live slot cannot change before the release starts.
   */
  async function slotsFor(
    environment: { id: string; name: string; deployer: unknown; slots: string[]; instances: string[]; keepPreviousForMs: number | null },
    compiled: CompiledPlan,
    artifact: { digest: string; version: string },
  ) {
    if (environment.deployer && environment.instances.length) return rollingFor(environment, compiled, artifact);
    if (!environment.deployer || environment.slots.length !== 2) return {};
    const recorded = await readSlotState(deps.prisma, environment.id);
    const [first, second] = environment.slots as [string, string];
    const live = recorded && environment.slots.includes(recorded.liveSlot) ? recorded.liveSlot : first;
    const previous = recorded?.liveReleaseId
      ? await deps.prisma.release.findUnique({ where: { id: recorded.liveReleaseId }, select: { id: true, artifact: { select: { digest: true } } } })
      : null;
    return {
      slots: {
        live,
        idle: live === first ? second : first,
        previousReleaseId: previous?.id ?? null,
        previousDigest: previous?.artifact.digest ?? null,
        keepPreviousForMs: environment.keepPreviousForMs ?? DEFAULT_KEEP_PREVIOUS_FOR_MS,
      },
      deployment: pendingDeployment(),
    };
  }

  /**
   * Instances replaced in place: each with what it runs now, as recorded by the deploys onto it, or
   * else the version that last succeeded here (what CI or an earlier plan left on it); nothing when
   * no release ever succeeded here, and a rollback then cannot put that instance back.
   */
  async function rollingFor(
    environment: { id: string; name: string; instances: string[] },
    compiled: CompiledPlan,
    artifact: { digest: string; version: string },
  ) {
    const records = new Map((await readInstanceRecords(deps.prisma, environment.id)).map((r) => [r.name, r]));
    const stable = await deps.prisma.release.findFirst({
      where: { environmentId: environment.id, phase: 'succeeded', ...NOT_SHADOW },
      orderBy: { finishedAt: 'desc' },
      select: { artifact: { select: { digest: true, version: true } } },
    });
    const made = initialRollingState(
      compiled,
      artifact,
      environment.instances.map((name) => {
        const record = records.get(name);
        return { name, previous: record ? { digest: record.digest, version: record.version } : (stable?.artifact ?? null) };
      }),
    );
    if (!made.ok) throw new AppError('conflict', `environment ${environment.name} cannot run this plan: ${made.problem}`, { field: 'body.plan' });
    return { rolling: made.rolling };
  }

  /** A built-in rollback plan, created the first time a rollback needs it. */
  async function rollbackPlan(name: string) {
    const existing = await deps.prisma.releasePlan.findFirst({ where: { name }, orderBy: { version: 'desc' } });
    if (existing) return existing;
    const spec = ROLLBACK_SPECS[name];
    const compiled = validatePlan(spec);
    if (!compiled.ok) throw new Error('the rollback plan does not validate');
    try {
      return await deps.audited(async (tx, audit) => {
        const plan = await tx.releasePlan.create({
          data: { id: randomUUID(), name, version: 1, spec: spec as object, compiled: compiled.plan as object, createdBy: 'system:rollback' },
        });
        await audit({
          actor: { type: 'system', id: 'rollback' },
          action: 'plan.created',
          subject: { type: 'plan', id: plan.id },
          after: { name: plan.name, spec },
        });
        return plan;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return deps.prisma.releasePlan.findFirstOrThrow({ where: { name } });
      throw error;
    }
  }

  /**
   * Rollback of a succeeded release that can no longer switch back at once (the previous version is
   * not kept on the other slot any more, or the environment has no slots): a new release of the
   * version that succeeded before it, with the rollback plan, naming the release it undoes.
   */
  async function rollForward(id: string, why: string, event: { reason?: string | null }, ctx: RequestContext, self: CreateService) {
    const undone = await deps.prisma.release.findUniqueOrThrow({ where: { id }, include: { service: true, environment: true } });
    const later = await deps.prisma.release.findFirst({
      where: { environmentId: undone.environmentId, phase: 'succeeded', finishedAt: { gt: undone.finishedAt ?? new Date(0) }, ...NOT_SHADOW },
      orderBy: { finishedAt: 'desc' },
    });
    if (later) throw new AppError('conflict', `a later release (${later.id}) succeeded in ${undone.environment.name} since: roll that one back instead`);
    const previous = await deps.prisma.release.findFirst({
      where: { environmentId: undone.environmentId, phase: 'succeeded', id: { not: id }, finishedAt: { lt: undone.finishedAt ?? new Date() }, ...NOT_SHADOW },
      orderBy: { finishedAt: 'desc' },
      include: { artifact: true },
    });
    if (!previous)
      throw new AppError('conflict', `${why}; and no release succeeded in ${undone.environment.name} before this one, so there is no version to go back to`);
    const plan = await rollbackPlan(undone.environment.instances.length ? ROLLING_ROLLBACK_PLAN : ROLLBACK_PLAN);
    const reason = `rollback of ${id}${event.reason ? `: ${event.reason}` : ''} (${why})`;
    const started = await self.create(
      { service: undone.service.name, environment: undone.environment.name, version: previous.artifact.version, plan: plan.name, reason, undoes: id },
      ctx,
    );
    await deps.audited(async (_tx, audit) => {
      await audit({
        actor: ctx.actor,
        action: 'release.rollback-started',
        subject: { type: 'release', id },
        environmentId: undone.environmentId,
        payload: { rollbackRelease: started.release.id, version: previous.artifact.version, digest: previous.artifact.digest },
        reason,
        requestId: ctx.requestId,
      });
    });
    const auditEvents = await deps.prisma.auditEvent.findMany({
      where: { requestId: ctx.requestId },
      orderBy: { seq: 'asc' },
      select: { seq: true, id: true, action: true },
      take: 20,
    });
    return {
      accepted: true,
      release: await releaseReply(id),
      requestId: ctx.requestId,
      auditEvents: auditEvents.map((e) => ({ ...e, seq: e.seq.toString() })),
      rollbackRelease: started.release,
    };
  }

  /** Refuses a release the rules of PRODUCT.md forbid; returns the plan the release will run. */
  async function admit(input: CreateReleaseInput) {
    const service = await deps.prisma.service.findUnique({ where: { name: input.service } });
    if (!service) throw new AppError('not_found', `service "${input.service}" does not exist`, { field: 'body.service' });
    const environment = await deps.prisma.environment.findUnique({ where: { serviceId_name: { serviceId: service.id, name: input.environment } } });
    if (!environment) throw new AppError('not_found', `service "${input.service}" has no environment "${input.environment}"`, { field: 'body.environment' });
    const artifact = await deps.prisma.artifact.findUnique({ where: { serviceId_version: { serviceId: service.id, version: input.version } } });
    if (!artifact)
      throw new AppError('not_found', `version ${input.version} of "${input.service}" is not registered; POST /api/v1/artifacts first`, {
        field: 'body.version',
      });
    const plan = input.planVersion
      ? await deps.prisma.releasePlan.findUnique({ where: { name_version: { name: input.plan, version: input.planVersion } } })
      : await deps.prisma.releasePlan.findFirst({ where: { name: input.plan }, orderBy: { version: 'desc' } });
    if (!plan)
      throw new AppError('not_found', `plan "${input.plan}"${input.planVersion ? ` version ${input.planVersion}` : ''} does not exist`, { field: 'body.plan' });

    // A freeze or a closed deploy window does not refuse the release: it is queued (core's transition) and starts when the environment opens.
    const policy = storedPolicy(environment.policy);

    if (environment.requireUpstreamSuccess) {
      const upstream = await deps.prisma.environment.findFirst({
        where: { serviceId: service.id, position: { lt: environment.position } },
        orderBy: { position: 'desc' },
      });
      if (upstream) {
        const proven = await deps.prisma.release.findFirst({
          where: { environmentId: upstream.id, phase: 'succeeded', artifact: { digest: artifact.digest }, ...NOT_SHADOW },
        });
        if (!proven) {
          throw new AppError(
            'conflict',
            `${artifact.digest} (version ${artifact.version}) has no succeeded release in ${upstream.name}, which must come before ${environment.name}`,
            {
              missingUpstream: { environment: upstream.name, digest: artifact.digest },
            },
          );
        }
      }
    }

    const compiled = plan.compiled as unknown as CompiledPlan;
    // Instances are replaced in place, batch by batch: a canary or blue-green plan has nothing to shift traffic between there.
    if (environment.deployer && environment.instances.length && compiled.strategy !== 'rolling')
      throw new AppError(
        'conflict',
        `plan "${plan.name}" is a ${compiled.strategy} plan: environment ${environment.name} replaces its ${environment.instances.length} instances in place, where only a rolling plan runs`,
        { field: 'body.plan' },
      );
    // A ratio metric the environment's source has no numerator and denominator for would stay inconclusive
    // until maxDuration, every time. Pushed metrics carry any named ratio; Prometheus needs ratios.<name> queries.
    const unmeasured = compiled.steps
      .flatMap((s) => (s.type === 'analysis' ? s.metrics : []))
      .find((m) => m.kind === 'ratio' && environment.metrics && !ratioMeasured(environment.metrics, m.name));
    if (unmeasured)
      throw new AppError(
        'conflict',
        `plan "${plan.name}" judges the ratio metric "${unmeasured.name}", which environment ${environment.name} never measures: ${ratioMissing(environment.metrics, unmeasured.name)}`,
      );
    // A latency metric against a source that never reads latency (Prometheus with an empty latencyBuckets
    // query, or HAProxy's own metrics, which have no histogram) would stay inconclusive until maxDuration,
    // every time: it can never be measured there.
    const source = environment.metrics as { type?: string; config?: { preset?: string; queries?: { latencyBuckets?: string } } } | null;
    const latency = compiled.steps.find((s) => s.type === 'analysis' && s.metrics.some((m) => m.kind === 'latency'));
    if (latency && source?.type === 'prometheus' && !prometheusReadsLatency(source.config))
      throw new AppError(
        'conflict',
        `plan "${plan.name}" judges latency, which environment ${environment.name} never measures: ${
          source.config?.preset === 'haproxy' && source.config.queries?.latencyBuckets === undefined
            ? "its metrics source reads HAProxy's own metrics, which have no latency histogram (add a latencyBuckets query, or judge errors only)"
            : 'its metrics source has no latencyBuckets query'
        }`,
      );
    // A plan saved before plans were bounded may wait longer than a date can hold: refused here rather than aborted at its start.
    const cannot = planRunProblem(compiled);
    if (cannot) throw new AppError('conflict', `plan "${plan.name}" version ${plan.version} cannot run: ${cannot}; save a new version within the limits`);
    const needs = {
      analysis: environment.metrics ? null : 'it has no metrics source',
      smoke: environment.smokeBaseUrl ? null : 'it has no smokeBaseUrl',
      webhook: null,
      // The shadow version runs on the idle slot, which only an environment with a deployer (and its slots) has.
      shadow: environment.deployer && environment.slots.length === 2 ? null : 'it has no deployer with slots (the shadow version runs on the idle slot)',
    };
    const unsupported = compiled.steps.filter(isGate).find((s) => needs[s.type]);
    if (unsupported)
      throw new AppError(
        'conflict',
        `plan "${plan.name}" has a ${unsupported.type} step, which environment ${environment.name} cannot run: ${needs[unsupported.type]}`,
      );
    // A protected environment's approvals come first, whatever the plan says; except in a rollback release, which
    // puts back the version that ran live here before the release it undoes (approved then, if approvals were needed):
    // a rollback waiting for approvers at 3 a.m. is the outage going on. Asking for it needs release:control there.
    const steps =
      policy.requiredApprovals > 0 && !input.undoes
        ? [
            { type: 'approval' as const, group: policy.approverGroup, count: policy.requiredApprovals, expiresAfterMs: approvalExpiryMs(policy) },
            ...compiled.steps,
          ]
        : compiled.steps;
    return { service, environment, artifact, plan, compiled: { ...compiled, steps } };
  }

  const service = {
    /** Returns `created: false` when an Idempotency-Key replays an earlier identical request. */
    async create(input: CreateReleaseInput, ctx: RequestContext, idempotencyKey?: string) {
      const requestHash = createHash('sha256')
        .update(canonicalize(input) ?? '')
        .digest('hex');
      if (idempotencyKey) {
        const earlier = await deps.prisma.release.findUnique({ where: { idempotencyKey }, include: RELEASE_INCLUDE });
        if (earlier) return await replay(earlier, requestHash);
      }
      const admitted = await admit(input);
      if (input.breakGlass) requireBreakGlass(ctx, admitted.environment, input.breakGlass.reason);
      const actorId = `${ctx.actor.type}:${ctx.actor.id}`;
      const breakGlass: BreakGlass | null = input.breakGlass
        ? { by: ctx.personKey ?? actorId, display: ctx.caller?.display ?? actorId, reason: input.breakGlass.reason, at: new Date(now()).toISOString() }
        : null;
      const state: ReleaseState = {
        ...initialReleaseState(admitted.compiled, actorId),
        requesterKey: ctx.personKey ?? actorId,
        subject: { digest: admitted.artifact.digest, environmentId: admitted.environment.id, planVersion: admitted.plan.version },
        breakGlass,
        ...(await slotsFor(admitted.environment, admitted.compiled, admitted.artifact)),
      };
      try {
        const { release, inboxId } = await deps.audited(async (tx, audit) => {
          const release = await tx.release.create({
            data: {
              id: randomUUID(),
              serviceId: admitted.service.id,
              environmentId: admitted.environment.id,
              artifactId: admitted.artifact.id,
              planId: admitted.plan.id,
              phase: state.phase,
              strategy: state.plan.strategy,
              stepIndex: 0,
              state: state as object,
              version: 0,
              requestedBy: actorId,
              reason: input.reason,
              idempotencyKey,
              requestHash,
              undoesReleaseId: input.undoes ?? null,
            },
          });
          const inbox = await tx.releaseInbox.create({
            data: {
              releaseId: release.id,
              event: { type: 'start' },
              actorType: ctx.actor.type,
              actorId: ctx.actor.id,
              actorName: ctx.actor.name ?? null,
              requestId: ctx.requestId,
            },
          });
          await audit({
            actor: ctx.actor,
            action: 'release.created',
            subject: { type: 'release', id: release.id },
            environmentId: release.environmentId,
            after: {
              service: input.service,
              environment: input.environment,
              version: input.version,
              digest: admitted.artifact.digest,
              plan: { name: admitted.plan.name, version: admitted.plan.version },
            },
            reason: input.reason,
            requestId: ctx.requestId,
          });
          if (breakGlass)
            await audit({
              actor: ctx.actor,
              action: 'release.break-glass',
              subject: { type: 'release', id: release.id },
              environmentId: release.environmentId,
              payload: { breakGlass },
              reason: breakGlass.reason,
              requestId: ctx.requestId,
            });
          return { release, inboxId: inbox.id };
        });
        if (breakGlass) await announceBreakGlass(release, breakGlass);
        await deps.jobs.startRelease(release.id, `inbox-${inboxId}`);
        // What the release names was read by admit: no include (nor its parallel queries) inside the transaction.
        const { service, environment, artifact, plan } = admitted;
        return { created: true, release: releaseJson({ ...release, service, environment, artifact, plan }) };
      } catch (error) {
        if (idempotencyKey && isUniqueViolation(error, 'idempotency_key')) {
          return await replay(await deps.prisma.release.findUniqueOrThrow({ where: { idempotencyKey }, include: RELEASE_INCLUDE }), requestHash);
        }
        if (isUniqueViolation(error)) {
          const active = await deps.prisma.release.findFirst({
            where: { environmentId: admitted.environment.id, phase: { in: [...ACTIVE_PHASES] } },
          });
          throw new AppError(
            'conflict',
            `environment ${input.environment} of ${input.service} already has an active release${active ? ` (${active.id}, ${active.phase})` : ''}; wait for it, or abort it`,
            {
              activeRelease: active?.id,
            },
          );
        }
        throw error;
      }

      async function replay(earlier: Parameters<typeof releaseJson>[0], hash: string) {
        if (earlier.requestHash !== hash)
          throw new AppError('unprocessable', 'this Idempotency-Key was already used with a different request body', { field: 'header.idempotency-key' });
        // Asked again later, the release may have been rolled back by another since.
        const undoneBy = await deps.prisma.release.findFirst({
          where: { undoesReleaseId: earlier.id },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          select: { id: true },
        });
        return { created: false, release: releaseJson(earlier, undoneBy?.id ?? null) };
      }
    },

    /** The release with its measurements and history (ReleaseDetail), as JSON text written by PostgreSQL. */
    async detailJson(id: string): Promise<string> {
      const json = await readReleaseDetail(pool, id);
      if (json === null) throw new AppError('not_found', `release ${id} does not exist`);
      return json;
    },

    /** A page of releases, newest first, as the JSON text of `{ items, nextCursor }` written by PostgreSQL. */
    async listJson(filter: { service?: string; environment?: string; phase?: string; cursor?: string }, limit: number, visible: ReadScopes = 'all') {
      const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
      return readReleasePage(
        pool,
        { service: filter.service, environment: filter.environment, phase: filter.phase, after, visible: visible === 'all' ? undefined : visible },
        limit,
      );
    },

    /**
     * Checks the control against the current state (409 with the reason when it cannot
     * apply), then hands it to the reconciler, which applies it under the release's lock.
     * Waits up to `waitMs` for that, so a caller usually gets the outcome in one request.
     */
    async control(id: string, event: Extract<ReleaseEvent, { type: Control }>, ctx: RequestContext, waitMs: number) {
      // Judge the control against the state the worker will see: after the events already queued
      // (a just-created release has its `start` queued, and its traffic may already be shifting).
      // One snapshot for both reads, or a reconcile committing between them would hide the event
      // it just applied from both: one statement is one snapshot.
      const release = await readControlSnapshot(pool, id);
      if (!release) throw new AppError('not_found', `release ${id} does not exist`);
      const { queued } = release;
      const environment = { id: release.environmentId, serviceId: release.serviceId, policy: release.policy };
      if (event.type === 'break-glass') requireBreakGlass(ctx, environment, event.reason);
      // The same view of the world the worker will have: is the environment open now?
      // A switch back after success needs the previous version still on the other slot: judged as the worker will.
      const switchBack = event.type === 'rollback' && release.phase === 'succeeded';
      const context = {
        gate: deployGate(storedPolicy(release.policy), now()),
        previousOnIdle: switchBack ? await previousOnIdle(deps.prisma, id, release.environmentId) : undefined,
      };
      let expected = release.state as unknown as ReleaseState;
      for (const row of queued) {
        // As the worker applies them: an event that makes the machine throw stops the release (never a 500 here).
        const result = transitionOrHalt(expected, row.event as unknown as ReleaseEvent, now(), context);
        if (result.ok) expected = result.state;
      }
      // Abort is idempotent: a release that is aborted, or will be once its queued events apply
      // (a stuck plan's start ends it so), is where the caller wants it; nothing to refuse.
      if (event.type === 'abort' && expected.phase === 'aborted')
        return { accepted: queued.length > 0, release: await releaseReply(id), requestId: ctx.requestId, auditEvents: [] };
      const check = transitionOrHalt(expected, event, now(), context);
      // A succeeded release that cannot switch back at once is rolled back by deploying the version before it again.
      // A shadow served nothing: there is nothing to roll back to, and the refusal says so.
      if (!check.ok && event.type === 'rollback' && expected.phase === 'succeeded' && queued.length === 0 && !isShadowRelease(expected))
        return rollForward(id, check.reason, event, ctx, service);
      if (!check.ok) {
        const pending = queued.length ? ` (once the ${queued.length} event(s) already queued for it are applied)` : '';
        throw new AppError('conflict', `${check.reason}${pending}`, { phase: release.phase, expectedPhase: expected.phase });
      }
      const inbox = await deps.prisma.releaseInbox.create({
        data: {
          releaseId: id,
          event: event as object,
          actorType: ctx.actor.type,
          actorId: ctx.actor.id,
          actorName: ctx.actor.name ?? null,
          requestId: ctx.requestId,
        },
      });
      await deps.jobs.reconcile(id, `inbox-${inbox.id}`);
      const deadline = Date.now() + waitMs;
      let processed = null;
      while (Date.now() < deadline) {
        processed = await deps.prisma.releaseInbox.findUnique({ where: { id: inbox.id }, select: { processedAt: true, outcome: true } });
        if (processed?.processedAt) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (processed?.outcome?.startsWith('refused: '))
        throw new AppError('conflict', processed.outcome.slice('refused: '.length), { phase: (await releaseReply(id)).phase });
      if (event.type === 'break-glass')
        await announceBreakGlass(release, { by: event.actorId, display: event.display, reason: event.reason, at: new Date(now()).toISOString() });
      const auditEvents = await deps.prisma.auditEvent.findMany({
        where: { requestId: ctx.requestId },
        orderBy: { seq: 'asc' },
        select: { seq: true, id: true, action: true },
        take: 20,
      });
      return {
        accepted: !processed?.processedAt,
        release: await releaseReply(id),
        requestId: ctx.requestId,
        auditEvents: auditEvents.map((e) => ({ ...e, seq: e.seq.toString() })),
      };
    },
  };
  return service;
}

type CreateService = { create: (input: CreateReleaseInput, ctx: RequestContext) => Promise<{ release: { id: string } }> };

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  const year = createdAt.getUTCFullYear();
  if (!id || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) || Number.isNaN(year) || year < 1000 || year > 9999)
    throw new AppError('validation_failed', 'querystring.cursor: is not a cursor this API gave out', [
      { field: 'querystring.cursor', problem: 'is not a cursor this API gave out' },
    ]);
  return { createdAt, id };
}

/** Whether an environment's metrics source ({ type, config }) has counts for the ratio metric so named. */
function ratioMeasured(source: unknown, name: string): boolean {
  const s = source as { type?: string; config?: unknown } | null;
  return s?.type === 'pushed' || (s?.type === 'prometheus' && prometheusMeasuresRatio(s.config, name));
}

function ratioMissing(source: unknown, name: string): string {
  const type = (source as { type?: string } | null)?.type;
  return type === 'prometheus'
    ? `its Prometheus source has no ratios.${JSON.stringify(name).slice(1, -1)} queries (a numerator and a denominator)`
    : `its metrics source (${type}) reads no ratios; push them, or give Prometheus ratios.<name> queries`;
}

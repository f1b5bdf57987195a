import { randomBytes, randomUUID } from 'node:crypto';
import {
  ACTIVE_PHASES,
  drillDueAt,
  DRILL_LIMITS,
  DEFAULT_DRILL_HOLD_MS,
  formatDuration,
  parseDuration,
  validatePolicy,
  type DrillSchedule,
} from '@glidepath/core';
import { hashToken, Prisma, readSlotsNow, storedDrillSchedule, type AuditedTransaction, type PrismaClient, type SlotsNow } from '@glidepath/db';
import type { DeployerRegistry, Egress, MetricRegistry, RouterRegistry, TargetSpec } from '@glidepath/providers';
import { createApiDeployers } from '../providers.ts';
import { AppError } from '../http/app-error.ts';
import { isUniqueViolation, unprocessable } from '../http/problems.ts';
import { refuseDeniedDestinations, type NamedDestination } from './outbound-check.ts';
import type { ChangeContext } from './service-catalog.ts';
import type { Readable } from '../identity/route-access.ts';

export interface EnvironmentInput {
  service: string;
  name: string;
  position: number;
  requireUpstreamSuccess?: boolean;
  target: TargetSpec;
  metrics?: TargetSpec | null;
  smokeBaseUrl?: string | null;
  deployer?: TargetSpec | null;
  slots?: string[];
  instances?: string[];
  keepPreviousFor?: string;
  drills?: DrillsInput | null;
  policy?: unknown;
}

/** How often a rollback is rehearsed here, and how fast it must be (durations as plans write them). */
export interface DrillsInput {
  every: string;
  objective: string;
  hold?: string;
}

/** The schedule as stored; `since` stays when the interval does, so a changed objective does not move the next drill. */
function checkDrills(input: DrillsInput, current: DrillSchedule | null, problems: Array<{ path: string; message: string }>, now: number): DrillSchedule | null {
  const every = parseDuration(input.every);
  const objective = parseDuration(input.objective);
  const hold = input.hold === undefined ? DEFAULT_DRILL_HOLD_MS : parseDuration(input.hold);
  if (every === null || every < DRILL_LIMITS.minEveryMs || every > DRILL_LIMITS.maxEveryMs)
    problems.push({ path: 'drills.every', message: 'must be a duration from 1m to 2160h (90 days), such as 168h' });
  if (objective === null || objective < 1 || objective > DRILL_LIMITS.maxObjectiveMs)
    problems.push({ path: 'drills.objective', message: 'must be a duration from 1ms to 1h, such as 30s' });
  if (hold === null || hold > DRILL_LIMITS.maxHoldMs) problems.push({ path: 'drills.hold', message: 'must be a duration up to 10m, such as 10s' });
  if (every === null || objective === null || hold === null || problems.some((p) => p.path.startsWith('drills.'))) return null;
  const since = current && current.everyMs === every ? current.since : new Date(now).toISOString();
  return { everyMs: every, objectiveMs: objective, holdMs: hold, since };
}

/** The schedule as the API shows it, with when the next drill is due. */
function drillsJson(value: unknown) {
  const s = storedDrillSchedule(value);
  if (!s) return null;
  const last = drillDueAt(s, Date.now()) ?? Date.parse(s.since);
  return {
    every: formatDuration(s.everyMs),
    objective: formatDuration(s.objectiveMs),
    hold: formatDuration(s.holdMs),
    since: s.since,
    nextDueAt: new Date(last + s.everyMs).toISOString(),
  };
}

/** The longest the previous version may be kept on the other slot: a month is already long for a rollback. */
const MAX_KEEP_PREVIOUS_MS = 720 * 3_600_000;

/** With a deployer and no slots named: the HAProxy router's two servers (stable live first), or blue and green. */
function defaultSlots(target: TargetSpec): string[] {
  const config = target.config as { stableServer?: unknown; canaryServer?: unknown };
  if (target.type === 'haproxy' && typeof config.stableServer === 'string' && typeof config.canaryServer === 'string')
    return [config.stableServer, config.canaryServer];
  return ['blue', 'green'];
}

/** Router configs may hold secrets (a webhook target's signing secret): never send them back. */
export function redactSecrets(target: unknown): unknown {
  const t = target as { type?: string; config?: Record<string, unknown> } | null;
  if (!t?.config || !('secret' in t.config || 'env' in t.config)) return target;
  const config = { ...t.config };
  if ('secret' in config) config.secret = '***';
  // A command deployer's environment is where its secrets go (README of the deployers).
  if (config.env && typeof config.env === 'object') config.env = Object.fromEntries(Object.keys(config.env).map((k) => [k, '***']));
  return { ...t, config };
}

type EnvironmentRow = Awaited<ReturnType<PrismaClient['environment']['findUniqueOrThrow']>> & { service?: { name: string } };
/** `now`: the recorded slot state; before any release with a deployer, the first slot is live and nothing is kept. */
export function environmentJson(e: EnvironmentRow, now?: SlotsNow) {
  const live = e.slots.length ? (now && e.slots.includes(now.liveSlot) ? now.liveSlot : e.slots[0]!) : null;
  const idle = e.slots.find((slot) => slot !== live);
  const holder = (h: { releaseId: string; version: string } | null | undefined) => (h ? { id: h.releaseId, version: h.version } : null);
  return {
    id: e.id,
    serviceId: e.serviceId,
    name: e.name,
    position: e.position,
    requireUpstreamSuccess: e.requireUpstreamSuccess,
    target: redactSecrets(e.target),
    metrics: e.metrics,
    smokeBaseUrl: e.smokeBaseUrl,
    deployer: redactSecrets(e.deployer) ?? null,
    slots: e.slots,
    instances: e.instances,
    liveSlot: live,
    slotsNow:
      live && idle
        ? {
            live: { slot: live, release: live === now?.liveSlot ? holder(now.live) : null },
            idle: { slot: idle, release: live === now?.liveSlot ? holder(now.previous) : null, keptUntil: now?.previous?.keptUntil ?? null },
          }
        : null,
    keepPreviousFor: e.keepPreviousForMs === null ? null : formatDuration(e.keepPreviousForMs),
    drills: drillsJson(e.drills),
    hasIngestKey: e.ingestKeyHash !== null,
    policy: e.policy,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export function createEnvironmentCatalog(deps: {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  routers: RouterRegistry;
  metricSources: MetricRegistry;
  deployers?: DeployerRegistry;
  egress: Pick<Egress, 'check'>;
}) {
  // Validation only: no deployer is ever created here.
  const deployers = deps.deployers ?? createApiDeployers(deps.egress as Egress, []);

  /** The deployer, slots and keep time of a new or changed environment, checked; problems are pushed. */
  function checkSlots(
    input: {
      deployer?: TargetSpec | null;
      hasDeployer?: boolean;
      slots?: string[];
      instances?: string[];
      keepPreviousFor?: string;
      target?: TargetSpec;
      currentTarget?: TargetSpec;
    },
    problems: Array<{ path: string; message: string }>,
  ) {
    checkInstances(input, problems);
    if (input.deployer) {
      const check = deployers.validate(input.deployer);
      if (!check.ok) problems.push(...check.problems.map((p) => ({ ...p, path: `deployer.${p.path}` })));
    }
    if (input.slots) {
      if (!(input.deployer ?? input.hasDeployer))
        problems.push({ path: 'slots', message: 'slots alternate only with a deployer: name one (none when CI deploys to the idle slot)' });
      else if (input.slots[0] === input.slots[1]) problems.push({ path: 'slots', message: 'must name two different slots' });
    }
    let keepPreviousForMs: number | undefined;
    if (input.keepPreviousFor !== undefined) {
      const ms = parseDuration(input.keepPreviousFor);
      if (ms === null || ms > MAX_KEEP_PREVIOUS_MS) problems.push({ path: 'keepPreviousFor', message: 'must be a duration such as 30m or 1h, at most 720h' });
      else keepPreviousForMs = ms;
    }
    return { keepPreviousForMs };
  }

  /** Instances: at least two, each once, with a deployer, instead of slots, behind a router that sets each one's weight. */
  function checkInstances(
    input: { deployer?: TargetSpec | null; hasDeployer?: boolean; slots?: string[]; instances?: string[]; target?: TargetSpec; currentTarget?: TargetSpec },
    problems: Array<{ path: string; message: string }>,
  ) {
    const target = input.target ?? input.currentTarget;
    const config = (target?.config ?? {}) as { stableServer?: unknown };
    if (target?.type === 'haproxy' && config.stableServer === undefined && !input.instances?.length && !input.slots?.length && input.target)
      problems.push({
        path: 'target.config.stableServer',
        message: 'name stableServer and canaryServer: without instances the router shifts traffic between them',
      });
    const instances = input.instances;
    if (!instances?.length) return;
    if (instances.length < 2) problems.push({ path: 'instances', message: 'must name at least 2 instances (or none)' });
    instances.forEach((name, i) => {
      if (instances.indexOf(name) !== i) problems.push({ path: `instances[${i}]`, message: `duplicates instance "${name}"` });
    });
    if (!(input.deployer ?? input.hasDeployer))
      problems.push({ path: 'instances', message: 'instances are replaced through a deployer: name one (none when CI deploys to each instance)' });
    if (input.slots?.length) problems.push({ path: 'slots', message: 'an environment has instances replaced in place or two slots that alternate, not both' });
    if (target && !deps.routers.setsInstanceWeights(target))
      problems.push({ path: 'instances', message: `the ${target.type} router cannot take instances in and out of rotation one by one (haproxy can)` });
  }

  /** `current`: what an update leaves as it is, so that the metrics source is checked against the router it will run with. */
  function checkDocuments(input: {
    target?: TargetSpec;
    metrics?: TargetSpec | null;
    policy?: unknown;
    current?: { target: TargetSpec; metrics: TargetSpec | null };
    deployer?: TargetSpec | null;
    hasDeployer?: boolean;
    slots?: string[];
    instances?: string[];
    keepPreviousFor?: string;
    drills?: DrillsInput | null;
    currentDrills?: unknown;
    /** The environment's instances as the change leaves them (an update may name none and keep the stored ones). */
    instancesAfter?: readonly string[];
  }) {
    const problems: Array<{ path: string; message: string }> = [];
    const { keepPreviousForMs } = checkSlots({ ...input, currentTarget: input.current?.target }, problems);
    let drills: DrillSchedule | null | undefined = input.drills === null ? null : undefined;
    if (input.drills) {
      if (!(input.deployer ?? input.hasDeployer))
        problems.push({ path: 'drills', message: 'drills deploy to the idle slot: they need a deployer and slots that alternate' });
      else if ((input.instancesAfter ?? input.instances)?.length)
        problems.push({
          path: 'drills',
          message: 'drills deploy to the idle slot: an environment with instances replaced in place has no slots that alternate',
        });
      drills = checkDrills(input.drills, storedDrillSchedule(input.currentDrills), problems, Date.now());
    }
    // The stored source is checked again only when the router it runs with changes.
    const metrics = input.metrics === undefined ? (input.target ? input.current?.metrics : undefined) : input.metrics;
    if (metrics) {
      // With the router as context: a source that reads HAProxy's own metrics needs an HAProxy router.
      const check = deps.metricSources.validate(metrics, { target: input.target ?? input.current?.target });
      if (!check.ok) problems.push(...check.problems.map((p) => ({ ...p, path: `metrics.${p.path}` })));
    }
    if (input.target) {
      const check = deps.routers.validate(input.target);
      if (!check.ok) problems.push(...check.problems.map((p) => ({ ...p, path: `target.${p.path}` })));
    }
    const policy = validatePolicy(input.policy);
    if (!policy.ok) problems.push(...policy.problems);
    if (problems.length) throw unprocessable('the environment', problems, 'body');
    return { policy: policy.ok ? policy.config : undefined, keepPreviousForMs, drills };
  }

  /** Where the router, the metrics source and smoke checks would call, against the network policy (a 400 naming the field). */
  async function checkDestinations(input: { target?: TargetSpec; metrics?: TargetSpec | null; smokeBaseUrl?: string | null; deployer?: TargetSpec | null }) {
    const named = (prefix: string, list: Array<{ path: string; target: NamedDestination['target'] }>) =>
      list.map((d) => ({ field: `${prefix}.${d.path}`, target: d.target }));
    await refuseDeniedDestinations(deps.egress, [
      ...(input.target ? named('body.target', deps.routers.destinations(input.target)) : []),
      ...(input.metrics ? named('body.metrics', deps.metricSources.destinations(input.metrics)) : []),
      ...(input.deployer ? named('body.deployer', deployers.destinations(input.deployer)) : []),
      ...(input.smokeBaseUrl ? [{ field: 'body.smokeBaseUrl', target: { kind: 'url' as const, url: input.smokeBaseUrl } }] : []),
    ]);
  }

  /** Instances or slots (the router's servers) the router does not know, where it can tell: a 422 naming each (instances[i], slots[i]). */
  async function checkServersExist(target: TargetSpec, names: readonly string[] | undefined, field: 'instances' | 'slots') {
    if (!names?.length) return;
    const unknown = await deps.routers.unknownInstances(target, names);
    if (unknown.length)
      throw unprocessable(
        'the environment',
        unknown.map((u) => ({ path: `${field}[${names.indexOf(u.name)}]`, message: u.reason })),
        'body',
      );
  }

  return {
    async create(input: EnvironmentInput, ctx: ChangeContext) {
      const { policy, keepPreviousForMs, drills } = checkDocuments(input);
      await checkDestinations(input);
      await checkServersExist(input.target, input.instances, 'instances');
      // Slots are the router's servers too (HAProxy: a release sets their weights by name).
      if (input.deployer && !input.instances?.length) await checkServersExist(input.target, input.slots ?? defaultSlots(input.target), 'slots');
      const service = await deps.prisma.service.findUnique({ where: { name: input.service } });
      if (!service) throw new AppError('not_found', `service "${input.service}" does not exist`, { field: 'body.service' });
      try {
        return await deps.audited(async (tx, audit) => {
          const env = await tx.environment.create({
            data: {
              id: randomUUID(),
              serviceId: service.id,
              name: input.name,
              position: input.position,
              // The first stage of a path has nothing upstream; every later one requires it unless told otherwise.
              requireUpstreamSuccess: input.requireUpstreamSuccess ?? true,
              target: input.target as object,
              metrics: (input.metrics ?? undefined) as object | undefined,
              smokeBaseUrl: input.smokeBaseUrl ?? null,
              deployer: (input.deployer ?? undefined) as object | undefined,
              // Instances are replaced in place: no slots alternate beside them.
              slots: input.deployer && !input.instances?.length ? (input.slots ?? defaultSlots(input.target)) : [],
              instances: input.instances ?? [],
              keepPreviousForMs: keepPreviousForMs ?? null,
              drills: drills ? (drills as object) : undefined,
              policy: policy as object,
            },
          });
          const after = environmentJson(env);
          await audit({
            actor: ctx.actor,
            action: 'environment.created',
            subject: { type: 'environment', id: env.id },
            environmentId: env.id,
            after,
            requestId: ctx.requestId,
            reason: ctx.reason,
          });
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error, 'position'))
          throw new AppError('conflict', `service "${input.service}" already has an environment at position ${input.position}`, { field: 'body.position' });
        if (isUniqueViolation(error))
          throw new AppError('conflict', `service "${input.service}" already has an environment named "${input.name}"`, { field: 'body.name' });
        throw error;
      }
    },

    /** A new key for pushing metrics; the old one stops working. Shown once, stored as sha256. */
    async rotateIngestKey(id: string, ctx: ChangeContext) {
      const key = `gpi_${randomBytes(32).toString('base64url')}`;
      await deps.audited(async (tx, audit) => {
        const env = await tx.environment.findUnique({ where: { id } });
        if (!env) throw new AppError('not_found', `environment ${id} does not exist`);
        await tx.environment.update({ where: { id }, data: { ingestKeyHash: hashToken(key), updatedAt: new Date() } });
        await audit({
          actor: ctx.actor,
          action: 'environment.ingest-key-rotated',
          subject: { type: 'environment', id },
          environmentId: id,
          requestId: ctx.requestId,
          reason: ctx.reason,
        });
      });
      return key;
    },

    async list(filter: { service?: string }, visible: Readable = 'all') {
      const rows = await deps.prisma.environment.findMany({
        where: { ...(filter.service ? { service: { name: filter.service } } : {}), ...(visible === 'all' ? {} : { id: { in: visible.environmentIds } }) },
        orderBy: [{ serviceId: 'asc' }, { position: 'asc' }],
      });
      const now = await readSlotsNow(
        deps.prisma,
        rows.filter((r) => r.slots.length).map((r) => r.id),
      );
      return rows.map((r) => environmentJson(r, now.get(r.id)));
    },

    async get(id: string) {
      const env = await deps.prisma.environment.findUnique({ where: { id } });
      if (!env) throw new AppError('not_found', `environment ${id} does not exist`);
      return environmentJson(env, (await readSlotsNow(deps.prisma, [id])).get(id));
    },

    async update(
      id: string,
      changes: {
        target?: TargetSpec;
        metrics?: TargetSpec | null;
        smokeBaseUrl?: string | null;
        policy?: unknown;
        requireUpstreamSuccess?: boolean;
        deployer?: TargetSpec | null;
        slots?: string[];
        instances?: string[];
        keepPreviousFor?: string;
        drills?: DrillsInput | null;
      },
      ctx: ChangeContext,
    ) {
      // Before the transaction: resolving a host name, or asking the router about instances, may take a moment.
      await checkDestinations(changes);
      if (changes.instances?.length || (changes.target && changes.instances === undefined)) {
        const now = await deps.prisma.environment.findUnique({ where: { id }, select: { target: true, instances: true } });
        if (now) await checkServersExist(changes.target ?? (now.target as unknown as TargetSpec), changes.instances ?? now.instances, 'instances');
      }
      if (changes.slots?.length || changes.target || changes.deployer) {
        const was = await deps.prisma.environment.findUnique({ where: { id }, select: { target: true, deployer: true, slots: true, instances: true } });
        if (was) {
          const target = changes.target ?? (was.target as unknown as TargetSpec);
          const withDeployer = changes.deployer === undefined ? was.deployer !== null : changes.deployer !== null;
          const instances = changes.instances ?? (changes.slots ? [] : was.instances);
          if (withDeployer && !instances.length)
            await checkServersExist(target, changes.slots ?? (was.slots.length ? was.slots : defaultSlots(target)), 'slots');
        }
      }
      return deps.audited(async (tx, audit) => {
        const current = await tx.environment.findUnique({ where: { id } });
        if (!current) throw new AppError('not_found', `environment ${id} does not exist`);
        const deployer = changes.deployer === undefined ? (current.deployer as unknown as TargetSpec | null) : changes.deployer;
        const now = (await readSlotsNow(tx, [id])).get(id);
        const live = now?.liveSlot;
        // Without a deployer nothing alternates; a deployer added keeps the slots named, or takes the router's.
        // Instances go with the deployer too; naming instances ends the slots, naming slots ends the instances.
        const instances = !deployer ? [] : (changes.instances ?? (changes.slots ? [] : current.instances));
        // A release under way holds its instances by name: the router's weights and the deploys follow them.
        if (instances.join('\n') !== current.instances.join('\n')) {
          const running = await tx.release.findFirst({ where: { environmentId: id, phase: { in: [...ACTIVE_PHASES] } }, select: { id: true } });
          if (running)
            throw new AppError('conflict', `release ${running.id} is under way here: change the instances once it has ended`, { field: 'body.instances' });
        }
        const slots =
          !deployer || instances.length
            ? []
            : (changes.slots ?? (current.slots.length ? current.slots : defaultSlots(changes.target ?? (current.target as unknown as TargetSpec))));
        if (live && deployer && !instances.length && !slots.includes(live))
          throw new AppError('conflict', `slot ${live} is live: the slots must keep it (a release moves traffic off it, not a rename)`, {
            field: 'body.slots',
          });
        const { policy, keepPreviousForMs, drills } = checkDocuments({
          drills: changes.drills,
          currentDrills: current.drills,
          instancesAfter: instances,
          deployer: changes.deployer,
          hasDeployer: Boolean(deployer),
          slots: changes.slots,
          instances: changes.instances ?? (changes.target && instances.length ? instances : undefined),
          keepPreviousFor: changes.keepPreviousFor,
          target: changes.target,
          metrics: changes.metrics,
          policy: changes.policy === undefined ? current.policy : changes.policy,
          current: { target: current.target as unknown as TargetSpec, metrics: current.metrics as unknown as TargetSpec | null },
        });
        const updated = await tx.environment.update({
          where: { id },
          data: {
            target: (changes.target ?? undefined) as object | undefined,
            metrics: changes.metrics === undefined ? undefined : changes.metrics === null ? Prisma.DbNull : (changes.metrics as object),
            policy: policy as object,
            requireUpstreamSuccess: changes.requireUpstreamSuccess,
            smokeBaseUrl: changes.smokeBaseUrl,
            keepPreviousForMs,
            // Without a deployer a drill has nowhere to deploy: giving up the deployer gives up the schedule.
            drills: !deployer || instances.length || drills === null ? Prisma.DbNull : drills === undefined ? undefined : (drills as object),
            deployer: changes.deployer === undefined ? undefined : changes.deployer === null ? Prisma.DbNull : (changes.deployer as object),
            slots,
            instances,
            updatedAt: new Date(),
          },
        });
        const after = environmentJson(updated, now);
        await audit({
          actor: ctx.actor,
          action: 'environment.updated',
          subject: { type: 'environment', id },
          environmentId: id,
          before: environmentJson(current, now),
          after,
          requestId: ctx.requestId,
          reason: ctx.reason,
        });
        return after;
      });
    },
  };
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { hashToken, type AuditedTransaction, type JobQueue, type PrismaClient } from '@glidepath/db';
import type { DeployerRegistry, Egress, MetricRegistry, RouterRegistry } from '@glidepath/providers';
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../http/app-error.ts';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createEnvironmentCatalog } from '../catalog/environment-catalog.ts';
import { readableResources } from '../identity/route-access.ts';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';
import { documentedAs } from '../openapi/document-schemas.ts';

const ProviderSpec = Type.Object({ type: Type.String({ minLength: 1 }), config: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false });
const SlotName = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: "a slot as the router names it (an HAProxy server's name)" });
const Slots = Type.Array(SlotName, {
  minItems: 2,
  maxItems: 2,
  description: "the two slots that alternate; default the HAProxy router's stableServer and canaryServer (live first), else blue and green",
});
// No ':' in an instance name: it goes into job ids and deployment keys.
const InstanceName = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: "an instance as the router names it (an HAProxy server's name)" });
const Instances = Type.Array(InstanceName, {
  maxItems: 100,
  description: 'at least 2 instances a rolling plan replaces in place, batch by batch, through the deployer (instead of slots that alternate); [] for none',
});
const KeepPreviousFor = Type.String({
  pattern: '^\\d+(ms|s|m|h)$',
  maxLength: 20,
  description: 'how long a succeeded release keeps the previous version on the other slot for an instant switch back (default 1h, at most 720h)',
});
const drillDuration = (description: string) => Type.String({ pattern: '^\\d+(ms|s|m|h)$', maxLength: 20, description });
const DrillsInput = Type.Union(
  [
    Type.Object(
      {
        every: drillDuration('how often a rollback is rehearsed here (1m to 2160h), such as 168h for weekly'),
        objective: drillDuration('the longest a rollback may take, from the decision to all traffic back, such as 30s'),
        hold: Type.Optional(drillDuration('how long the idle slot takes its small weight before the rollback (default 10s, at most 10m)')),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'rollback drills on a schedule (needs a deployer); null: on demand only' },
);
const SlotRelease = Type.Object({ id: Type.String(), version: Type.String() });
const SmokeUrl = Type.String({ pattern: '^https?://\\S+$', description: 'base URL that smoke steps send their checks to' });
const Environment = Type.Object(
  {
    id: Type.String(),
    serviceId: Type.String(),
    name: Type.String(),
    position: Type.Integer(),
    requireUpstreamSuccess: Type.Boolean(),
    target: ProviderSpec,
    metrics: Type.Union([ProviderSpec, Type.Null()]),
    policy: documentedAs('EnvironmentPolicy'),
    smokeBaseUrl: Type.Union([Type.String(), Type.Null()]),
    deployer: Type.Union([ProviderSpec, Type.Null()], { description: 'what puts an artifact on a slot; null when CI deploys by itself' }),
    slots: Type.Array(Type.String(), { description: 'the two slots that alternate (empty without a deployer)' }),
    liveSlot: Type.Union([Type.String(), Type.Null()], { description: 'the slot serving traffic now; the other one is idle' }),
    instances: Type.Array(Type.String(), { description: 'instances replaced in place by rolling plans (empty: none)' }),
    slotsNow: Type.Union(
      [
        Type.Object({
          live: Type.Object({
            slot: Type.String(),
            release: Type.Union([SlotRelease, Type.Null()], { description: 'the release it serves; null before the first that succeeded here' }),
          }),
          idle: Type.Object({
            slot: Type.String(),
            release: Type.Union([SlotRelease, Type.Null()], {
              description: 'the previous version, kept for an instant rollback; null when nothing is kept (first release, deployed to again, or switched back)',
            }),
            keptUntil: Type.Union([Type.String(), Type.Null()], { description: 'until when rollback switches back to it at once' }),
          }),
        }),
        Type.Null(),
      ],
      { description: 'what each slot holds, as recorded by the releases; null without a deployer' },
    ),
    keepPreviousFor: Type.Union([Type.String(), Type.Null()]),
    drills: Type.Union(
      [
        Type.Object({
          every: Type.String(),
          objective: Type.String(),
          hold: Type.String(),
          since: Type.String({ description: 'when the schedule was set; drills are due every interval from then' }),
          nextDueAt: Type.String(),
        }),
        Type.Null(),
      ],
      { description: 'the rollback drill schedule; null: drills on demand only' },
    ),
    hasIngestKey: Type.Boolean(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Environment' },
);
const CreateEnvironment = Type.Object(
  {
    service: Type.String({ minLength: 1, description: 'service name' }),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    position: Type.Integer({ minimum: 0, maximum: 1000, description: 'place in the promotion path; lower comes first' }),
    requireUpstreamSuccess: Type.Optional(Type.Boolean({ description: 'the same digest must have succeeded in the environment before (default true)' })),
    target: ProviderSpec,
    metrics: Type.Optional(Type.Union([ProviderSpec, Type.Null()])),
    smokeBaseUrl: Type.Optional(Type.Union([SmokeUrl, Type.Null()])),
    deployer: Type.Optional(Type.Union([ProviderSpec, Type.Null()], { description: 'none, webhook or command: releases then deploy to the idle slot first' })),
    slots: Type.Optional(Slots),
    instances: Type.Optional(Instances),
    keepPreviousFor: Type.Optional(KeepPreviousFor),
    drills: Type.Optional(DrillsInput),
    policy: Type.Optional(documentedAs('EnvironmentPolicy', 'who must approve, deploy windows, freezes, break-glass')),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const UpdateEnvironment = Type.Object(
  {
    requireUpstreamSuccess: Type.Optional(Type.Boolean()),
    target: Type.Optional(ProviderSpec),
    metrics: Type.Optional(Type.Union([ProviderSpec, Type.Null()])),
    smokeBaseUrl: Type.Optional(Type.Union([SmokeUrl, Type.Null()])),
    deployer: Type.Optional(
      Type.Union([ProviderSpec, Type.Null()], { description: 'null: CI deploys by itself again, and slots no longer alternate for new releases' }),
    ),
    slots: Type.Optional(Slots),
    instances: Type.Optional(Instances),
    keepPreviousFor: Type.Optional(KeepPreviousFor),
    drills: Type.Optional(DrillsInput),
    policy: Type.Optional(documentedAs('EnvironmentPolicy')),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A bound no real interval reaches and JSON numbers hold exactly (sums over a day of samples stay below 2^53). */
const MAX_RATIO_COUNT = 1_000_000_000_000;
const Sample = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 128 }),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    requests: Type.Integer({ minimum: 0 }),
    errors: Type.Integer({ minimum: 0 }),
    latencyBuckets: Type.Optional(
      Type.Array(
        Type.Object(
          { le: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { description: 'ms; null for +Inf' }), count: Type.Integer({ minimum: 0 }) },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 64,
          description: 'cumulative, ascending le, the last with le null counting every request',
        },
      ),
    ),
    ratios: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1, maxLength: 64 }),
        Type.Object(
          { numerator: Type.Integer({ minimum: 0, maximum: MAX_RATIO_COUNT }), denominator: Type.Integer({ minimum: 0, maximum: MAX_RATIO_COUNT }) },
          { additionalProperties: false },
        ),
        {
          maxProperties: 10,
          description:
            "counts for ratio metrics in this interval, by the plan's metric name (at most 64 characters): numerator ≤ denominator, e.g. { accuracy: { numerator: 91, denominator: 100 } } for correct predictions out of labelled ones",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const MetricsBody = Type.Object({ samples: Type.Array(Sample, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });

/** Checks what a schema cannot: counts that add up. Returns problems with their paths. */
function sampleProblems(
  samples: Array<{
    from: string;
    to: string;
    requests: number;
    errors: number;
    latencyBuckets?: Array<{ le: number | null; count: number }>;
    ratios?: Record<string, { numerator: number; denominator: number }>;
  }>,
) {
  const problems: Array<{ field: string; problem: string }> = [];
  samples.forEach((s, i) => {
    const at = `body.samples[${i}]`;
    if (Date.parse(s.to) <= Date.parse(s.from)) problems.push({ field: `${at}.to`, problem: 'must be after from' });
    if (s.errors > s.requests) problems.push({ field: `${at}.errors`, problem: 'must not exceed requests' });
    for (const [name, r] of Object.entries(s.ratios ?? {})) {
      if (name.length < 1 || name.length > 64) problems.push({ field: `${at}.ratios`, problem: 'a ratio name has 1 to 64 characters' });
      if (r.numerator > r.denominator) problems.push({ field: `${at}.ratios.${name}.numerator`, problem: 'must not exceed denominator' });
    }
    const buckets = s.latencyBuckets;
    if (!buckets) return;
    buckets.forEach((b, j) => {
      const prev = buckets[j - 1];
      if (prev && (prev.le === null || (b.le !== null && b.le <= prev.le)))
        problems.push({ field: `${at}.latencyBuckets[${j}].le`, problem: 'must ascend, with null (+Inf) last' });
      if (prev && b.count < prev.count)
        problems.push({ field: `${at}.latencyBuckets[${j}].count`, problem: 'must not be below the bucket before (buckets are cumulative)' });
    });
    const last = buckets.at(-1)!;
    if (last.le !== null || last.count !== s.requests) problems.push({ field: `${at}.latencyBuckets`, problem: 'must end with { le: null, count: requests }' });
  });
  return problems;
}

export function environmentsRoutes(deps: {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  jobs: JobQueue;
  routers: RouterRegistry;
  metricSources: MetricRegistry;
  deployers?: DeployerRegistry;
  egress: Pick<Egress, 'check'>;
}) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const catalog = createEnvironmentCatalog(deps);
    app.addSchema(Environment);

    app.post(
      '/environments',
      {
        config: { access: { permission: 'environment:write', scope: 'service-name' } },
        schema: {
          tags: ['environments'],
          summary: 'Register an environment of a service',
          body: CreateEnvironment,
          response: withErrors({ 201: Type.Ref('Environment') }),
        },
      },
      async (request, reply) => {
        const { reason, ...input } = request.body;
        return reply.status(201).send(await catalog.create(input, { actor: requestActor(request), requestId: request.id, reason }));
      },
    );
    app.get(
      '/environments',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['environments'],
          summary: 'Environments, by service and promotion order',
          querystring: Type.Object({ service: Type.Optional(Type.String()) }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Environment')) }) }),
        },
      },
      async (request) => ({ items: await catalog.list(request.query, await readableResources(deps.prisma, request)) }),
    );
    app.get(
      '/environments/:id',
      {
        config: { access: { permission: 'read', scope: 'environment-id' } },
        schema: {
          tags: ['environments'],
          summary: 'One environment',
          params: Type.Object({ id: Uuid }),
          response: withErrors({ 200: Type.Ref('Environment') }),
        },
      },
      async (request) => catalog.get(request.params.id),
    );
    app.post(
      '/environments/:id/ingest-key',
      {
        config: { access: { permission: 'environment:write', scope: 'environment-id' } },
        schema: {
          tags: ['environments'],
          summary: 'Create or rotate the key an agent uses to push metrics (shown once)',
          params: Type.Object({ id: Uuid }),
          response: withErrors({ 201: Type.Object({ key: Type.String() }) }),
        },
      },
      async (request, reply) =>
        reply.status(201).send({ key: await catalog.rotateIngestKey(request.params.id, { actor: requestActor(request), requestId: request.id }) }),
    );
    app.post(
      '/environments/:id/metrics',
      {
        config: { access: 'ingest-key' },
        schema: {
          tags: ['environments'],
          summary: 'Push per-version counts for intervals (header x-glidepath-ingest-key)',
          params: Type.Object({ id: Uuid }),
          headers: Type.Object({ 'x-glidepath-ingest-key': Type.String({ minLength: 1, maxLength: 200 }) }),
          body: MetricsBody,
          response: withErrors({ 202: Type.Object({ accepted: Type.Integer() }) }),
        },
      },
      async (request, reply) => {
        const env = await deps.prisma.environment.findUnique({ where: { id: request.params.id }, select: { ingestKeyHash: true } });
        const given = Buffer.from(hashToken(request.headers['x-glidepath-ingest-key']));
        // The same answer for "no such environment" and "wrong key": nothing to learn by probing.
        if (!env?.ingestKeyHash || !timingSafeEqual(given, Buffer.from(env.ingestKeyHash))) {
          throw new AppError('unauthorized', 'header.x-glidepath-ingest-key: not the ingest key of this environment');
        }
        const problems = sampleProblems(request.body.samples);
        if (problems.length) throw new AppError('unprocessable', problems.map((p) => `${p.field}: ${p.problem}`).join('; '), problems);
        await deps.prisma.metricSample.createMany({
          data: request.body.samples.map((s) => ({
            environmentId: request.params.id,
            version: s.version,
            intervalStart: new Date(s.from),
            intervalEnd: new Date(s.to),
            requests: BigInt(s.requests),
            errors: BigInt(s.errors),
            latencyBuckets: s.latencyBuckets,
            ratios: s.ratios,
          })),
        });
        return reply.status(202).send({ accepted: request.body.samples.length });
      },
    );
    app.patch(
      '/environments/:id',
      {
        config: { access: { permission: 'environment:write', scope: 'environment-id' } },
        schema: {
          tags: ['environments'],
          summary: 'Change target, metrics or policy',
          params: Type.Object({ id: Uuid }),
          body: UpdateEnvironment,
          response: withErrors({ 200: Type.Ref('Environment') }),
        },
      },
      async (request) => {
        const { reason, ...changes } = request.body;
        const updated = await catalog.update(request.params.id, changes, { actor: requestActor(request), requestId: request.id, reason });
        // A changed policy may open the environment: queued releases look again now rather than at their next wake-up.
        if (changes.policy !== undefined) {
          const queued = await deps.prisma.release.findMany({ where: { environmentId: request.params.id, phase: 'queued' }, select: { id: true } });
          for (const { id } of queued) await deps.jobs.reconcile(id, `policy-${Date.now()}`);
        }
        return updated;
      },
    );
  };
}

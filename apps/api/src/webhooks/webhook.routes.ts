import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  deleteSubscription,
  deliveryJson,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  listWebhookDeliveries,
  requeueWebhookDelivery,
  rotateSubscriptionSecret,
  subscriptionJson,
  updateSubscription,
  type AuditedTransaction,
  type PrismaClient,
  type SecretBox,
} from '@glidepath/db';
import type { Egress } from '@glidepath/providers';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { requestActor } from '../http/actor.ts';
import { refuseDeniedDestinations } from '../catalog/outbound-check.ts';
import { AppError } from '../http/app-error.ts';
import { seqCursor, Uuid, withErrors } from '../http/schemas.ts';

const EventPattern = Type.String({
  pattern: '^(\\*|[a-z][a-z-]*\\.(\\*|[a-z][a-z-]*))$',
  description: 'an event type ("release.rolled-back"), a family ("release.*") or "*"; event types are the audit actions',
});
const WebhookUrl = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'http(s) URL that receives the events' });
const Subscription = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    serviceId: Type.Union([Type.String(), Type.Null()]),
    environmentId: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    active: Type.Boolean(),
    previousSecretExpiresAt: Type.Union([Type.String(), Type.Null()], { description: 'until then the previous secret signs too' }),
    createdBy: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'WebhookSubscription' },
);
const CreateBody = Type.Object(
  {
    url: WebhookUrl,
    events: Type.Array(EventPattern, { minItems: 1, maxItems: 50 }),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'only events of this service' })),
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'only events of this environment of the service' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 50 })),
    active: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const Secret = Type.String({ description: 'whsec_…: the signing secret, in this reply only' });
const Delivery = Type.Object({
  id: Type.String({ description: 'also the webhook-id header: receivers de-duplicate by it' }),
  subscriptionId: Type.String(),
  auditSeq: Type.String(),
  eventType: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  log: Type.Array(
    Type.Object({
      at: Type.String(),
      statusCode: Type.Union([Type.Integer(), Type.Null()]),
      latencyMs: Type.Integer(),
      error: Type.Union([Type.String(), Type.Null()]),
      manual: Type.Boolean(),
    }),
  ),
});
const IdParams = Type.Object({ id: Uuid });
const ADMIN = { access: { permission: 'webhook:admin', scope: 'global' } } as const;

const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Outbound event webhooks: who hears what. Signing secrets are shown once, sealed at rest
 * (GLIDEPATH_SECRETS_KEY) and rotated with an overlap; the worker sends (apps/worker/src/webhooks).
 */
export function webhookRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; secrets: SecretBox; egress: Pick<Egress, 'check'> }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    app.addSchema(Subscription);

    async function scope(body: Static<typeof CreateBody>) {
      if (body.environment && !body.service)
        throw new AppError('validation_failed', 'body.environment: name the service too', [{ field: 'body.environment', problem: 'needs body.service' }]);
      if (!body.service) return { serviceId: null, environmentId: null };
      const service = await deps.prisma.service.findUnique({ where: { name: body.service }, include: { environments: true } });
      if (!service) throw new AppError('not_found', `body.service: service "${body.service}" does not exist`, { field: 'body.service' });
      const environment = body.environment ? service.environments.find((e) => e.name === body.environment) : undefined;
      if (body.environment && !environment)
        throw new AppError('not_found', `body.environment: ${body.service} has no environment "${body.environment}"`, { field: 'body.environment' });
      return { serviceId: service.id, environmentId: environment?.id ?? null };
    }
    async function existing(id: string) {
      const found = await findSubscription(deps.prisma, id);
      if (!found) throw new AppError('not_found', `webhook subscription ${id} does not exist`);
      return found;
    }

    app.post(
      '/webhooks',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'Subscribe a URL to events; the reply holds its signing secret, once',
          body: CreateBody,
          response: withErrors({ 201: Type.Object({ subscription: Type.Ref('WebhookSubscription'), secret: Secret }) }),
        },
      },
      async (request, reply) => {
        const where = await scope(request.body);
        await refuseDeniedDestinations(deps.egress, [{ field: 'body.url', target: { kind: 'url', url: request.body.url } }]);
        const secret = newSigningSecret();
        const actor = requestActor(request);
        const created = await deps.audited(async (tx, audit) => {
          const row = await insertSubscription(
            tx,
            { url: request.body.url, events: request.body.events, description: request.body.description ?? null, ...where },
            deps.secrets.seal(secret),
            `${actor.type}:${actor.id}`,
          );
          await audit({ actor, action: 'webhook.created', subject: { type: 'webhook', id: row.id }, after: subscriptionJson(row), requestId: request.id });
          return row;
        });
        return reply.status(201).send({ subscription: subscriptionJson(created), secret });
      },
    );
    app.get(
      '/webhooks',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'Webhook subscriptions (never their secrets)',
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('WebhookSubscription')) }) }),
        },
      },
      async () => ({ items: (await listSubscriptions(deps.prisma)).map(subscriptionJson) }),
    );
    app.get(
      '/webhooks/:id',
      {
        config: ADMIN,
        schema: { tags: ['webhooks'], summary: 'One webhook subscription', params: IdParams, response: withErrors({ 200: Type.Ref('WebhookSubscription') }) },
      },
      async (request) => subscriptionJson(await existing(request.params.id)),
    );
    app.patch(
      '/webhooks/:id',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'Change, pause (active: false) or resume a subscription',
          params: IdParams,
          body: UpdateBody,
          response: withErrors({ 200: Type.Ref('WebhookSubscription') }),
        },
      },
      async (request) => {
        const before = await existing(request.params.id);
        if (request.body.url) await refuseDeniedDestinations(deps.egress, [{ field: 'body.url', target: { kind: 'url', url: request.body.url } }]);
        const actor = requestActor(request);
        const after = await deps.audited(async (tx, audit) => {
          const row = await updateSubscription(tx, before.id, request.body);
          await audit({
            actor,
            action: 'webhook.updated',
            subject: { type: 'webhook', id: row.id },
            before: subscriptionJson(before),
            after: subscriptionJson(row),
            requestId: request.id,
          });
          return row;
        });
        return subscriptionJson(after);
      },
    );
    app.delete(
      '/webhooks/:id',
      {
        config: ADMIN,
        schema: { tags: ['webhooks'], summary: 'Delete a subscription and its delivery log', params: IdParams, response: withErrors({ 204: Type.Null() }) },
      },
      async (request, reply) => {
        const before = await existing(request.params.id);
        await deps.audited(async (tx, audit) => {
          await deleteSubscription(tx, before.id);
          await audit({
            actor: requestActor(request),
            action: 'webhook.deleted',
            subject: { type: 'webhook', id: before.id },
            before: subscriptionJson(before),
            requestId: request.id,
          });
        });
        return reply.status(204).send(null);
      },
    );
    app.post(
      '/webhooks/:id/rotate-secret',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'A new signing secret (in this reply only); the old one keeps signing beside it for overlapMinutes',
          params: IdParams,
          body: Type.Object({ overlapMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080, default: 1440 })) }, { additionalProperties: false }),
          response: withErrors({ 200: Type.Object({ subscription: Type.Ref('WebhookSubscription'), secret: Secret }) }),
        },
      },
      async (request) => {
        const before = await existing(request.params.id);
        const secret = newSigningSecret();
        const overlapMs = (request.body.overlapMinutes ?? 1440) * 60_000;
        const after = await deps.audited(async (tx, audit) => {
          const row = await rotateSubscriptionSecret(tx, before, deps.secrets.seal(secret), new Date(Date.now() + overlapMs));
          await audit({
            actor: requestActor(request),
            action: 'webhook.secret-rotated',
            subject: { type: 'webhook', id: row.id },
            after: subscriptionJson(row),
            requestId: request.id,
          });
          return row;
        });
        return { subscription: subscriptionJson(after), secret };
      },
    );
    app.get(
      '/webhooks/:id/deliveries',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'The delivery log: each event sent to this subscription, newest first, with every attempt',
          params: IdParams,
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'nextCursor of the previous page' })),
          }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Delivery), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
        },
      },
      async (request) => {
        await existing(request.params.id);
        const limit = request.query.limit ?? 50;
        const rows = await listWebhookDeliveries(deps.prisma, request.params.id, limit + 1, seqCursor(request.query.cursor));
        const page = rows.slice(0, limit);
        return { items: page.map(deliveryJson), nextCursor: rows.length > limit ? page.at(-1)!.auditSeq.toString() : null };
      },
    );
    app.post(
      '/webhooks/deliveries/:id/redeliver',
      {
        config: ADMIN,
        schema: {
          tags: ['webhooks'],
          summary: 'Send a delivery again now (same webhook-id), whatever became of it',
          params: IdParams,
          response: withErrors({ 202: Type.Object({ id: Type.String(), status: Type.String() }) }),
        },
      },
      async (request, reply) => {
        const delivery = await deps.prisma.webhookDelivery.findUnique({ where: { id: request.params.id } });
        if (!delivery) throw new AppError('not_found', `webhook delivery ${request.params.id} does not exist`);
        await deps.audited(async (tx, audit) => {
          await requeueWebhookDelivery(tx, delivery.id);
          await audit({
            actor: requestActor(request),
            action: 'webhook.redelivery-requested',
            subject: { type: 'webhook', id: delivery.subscriptionId },
            payload: { deliveryId: delivery.id, auditSeq: delivery.auditSeq.toString() },
            requestId: request.id,
          });
        });
        return reply.status(202).send({ id: delivery.id, status: 'pending' });
      },
    );
  };
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PHASES } from '@glidepath/core';
import type { AuditedTransaction, JobQueue, PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { personKeyOf } from '@glidepath/core';
import { requestActor } from '../http/actor.ts';
import { Uuid, withErrors } from '../http/schemas.ts';
import { createReleaseService, type Control } from '../releases/release-service.ts';
import { readScopes } from '../identity/route-access.ts';
import { sendJsonText } from '../http/json-text-reply.ts';
import { approvalRoutes } from '../approvals/approval.routes.ts';
import { ControlQuery, ControlReply, Release, ReleaseDetail } from '../releases/release.schemas.ts';

const CreateRelease = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    environment: Type.String({ minLength: 1 }),
    version: Type.String({ minLength: 1, description: 'a registered artifact version of the service' }),
    plan: Type.String({ minLength: 1 }),
    planVersion: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'default: the latest' })),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
    breakGlass: Type.Optional(
      Type.Object(
        { reason: Type.String({ minLength: 10, maxLength: 2000, description: 'why this cannot wait: written down in the release and the audit log' }) },
        {
          additionalProperties: false,
          description: 'start now despite deploy windows and freezes, and skip approvals (people with the admin role, where the policy allows)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const ControlBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export function releasesRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; jobs: JobQueue; approvalMaxAuthAgeMs: number }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const releases = createReleaseService(deps);
    app.addSchema(Release);
    app.addSchema(ReleaseDetail);
    await app.register(approvalRoutes({ prisma: deps.prisma, releases, maxAuthAgeMs: deps.approvalMaxAuthAgeMs }));

    app.post(
      '/releases',
      {
        config: { access: { permission: 'release:start', scope: 'environment-name' } },
        schema: {
          tags: ['releases'],
          summary: 'Start a release of an artifact into an environment with a plan',
          description: 'Honours an Idempotency-Key header: the same key and body give the same release; the same key with another body is refused (422).',
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
          body: CreateRelease,
          response: withErrors({ 200: Type.Ref('Release'), 201: Type.Ref('Release') }),
        },
      },
      async (request, reply) => {
        const { created, release } = await releases.create(
          request.body,
          {
            actor: requestActor(request),
            requestId: request.id,
            personKey: personKeyOf(request.identity!),
            caller: { kind: request.identity!.kind, display: request.identity!.name, grants: request.identity!.grants },
          },
          request.headers['idempotency-key'],
        );
        return reply.status(created ? 201 : 200).send(release);
      },
    );
    app.get(
      '/releases',
      {
        config: { access: { permission: 'read', scope: 'any' } },
        schema: {
          tags: ['releases'],
          summary: 'Releases, newest first',
          querystring: Type.Object({
            service: Type.Optional(Type.String()),
            environment: Type.Optional(Type.String()),
            phase: Type.Optional(Type.Union(PHASES.map((p) => Type.Literal(p)))),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Type.String()),
          }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('Release')), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
        },
      },
      // One statement writes the page's JSON (packages/db release-read.repository.ts), filtered by the caller's grants.
      async (request, reply) => {
        const { limit = 50, ...filter } = request.query;
        return sendJsonText(reply, await releases.listJson(filter, limit, readScopes(request)));
      },
    );
    app.get(
      '/releases/:id',
      {
        config: { access: { permission: 'read', scope: 'release-id' } },
        schema: {
          tags: ['releases'],
          summary: 'A release with its steps, timings, evidence and history',
          params: Type.Object({ id: Uuid }),
          response: withErrors({ 200: Type.Ref('ReleaseDetail') }),
        },
      },
      async (request, reply) => sendJsonText(reply, await releases.detailJson(request.params.id)),
    );

    const controls: Array<[Exclude<Control, 'retry' | 'approve' | 'reject' | 'break-glass'>, string]> = [
      ['pause', 'Pause a progressing release'],
      ['resume', 'Resume a paused release'],
      ['promote', 'Skip the remaining steps and promote to 100%'],
      ['abort', 'Stop the release and send all traffic to stable'],
      ['rollback', 'Send all traffic back to stable now'],
    ];
    for (const [control, summary] of controls) {
      app.post(
        `/releases/:id/${control}`,
        {
          config: { access: { permission: 'release:control', scope: 'release-id' } },
          schema: {
            tags: ['releases'],
            summary,
            params: Type.Object({ id: Uuid }),
            querystring: ControlQuery,
            body: Type.Optional(ControlBody),
            response: withErrors({ 200: ControlReply, 202: ControlReply }),
          },
        },
        async (request, reply) => {
          const actor = requestActor(request);
          const result = await releases.control(
            request.params.id,
            { type: control, actorId: `${actor.type}:${actor.id}`, reason: request.body?.reason },
            { actor, requestId: request.id },
            request.query.wait ?? 5000,
          );
          return reply.status(result.accepted ? 202 : 200).send(result);
        },
      );
    }
    app.post(
      '/releases/:id/break-glass',
      {
        config: { access: { permission: 'release:break-glass', scope: 'release-id', peopleOnly: true } },
        schema: {
          tags: ['releases'],
          summary: 'Break glass: start a queued release now, or skip its approval, with a written reason (marked in the release and the audit log)',
          params: Type.Object({ id: Uuid }),
          querystring: ControlQuery,
          body: Type.Object({ reason: Type.String({ minLength: 10, maxLength: 2000 }) }, { additionalProperties: false }),
          response: withErrors({ 200: ControlReply, 202: ControlReply }),
        },
      },
      async (request, reply) => {
        const who = request.identity!;
        const result = await releases.control(
          request.params.id,
          { type: 'break-glass', actorId: personKeyOf(who), display: who.name, reason: request.body.reason },
          { actor: requestActor(request), requestId: request.id, caller: { kind: who.kind, display: who.name, grants: who.grants } },
          request.query.wait ?? 5000,
        );
        return reply.status(result.accepted ? 202 : 200).send(result);
      },
    );
    app.post(
      '/releases/:id/retry',
      {
        config: { access: { permission: 'release:control', scope: 'release-id' } },
        schema: {
          tags: ['releases'],
          summary: 'Run a failed, rolled-back or aborted release again from a step',
          params: Type.Object({ id: Uuid }),
          querystring: ControlQuery,
          body: Type.Object(
            { fromStep: Type.Integer({ minimum: 0 }), reason: Type.Optional(Type.String({ maxLength: 2000 })) },
            { additionalProperties: false },
          ),
          response: withErrors({ 200: ControlReply, 202: ControlReply }),
        },
      },
      async (request, reply) => {
        const actor = requestActor(request);
        const result = await releases.control(
          request.params.id,
          { type: 'retry', fromStep: request.body.fromStep, actorId: `${actor.type}:${actor.id}`, reason: request.body.reason },
          { actor, requestId: request.id },
          request.query.wait ?? 5000,
        );
        return reply.status(result.accepted ? 202 : 200).send(result);
      },
    );
  };
}

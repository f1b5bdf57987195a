import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { sendJsonText } from '../http/json-text-reply.ts';
import { Uuid, withErrors } from '../http/schemas.ts';
import type { createReleaseService } from '../releases/release-service.ts';
import { ControlQuery, ControlReply } from '../releases/release.schemas.ts';
import { createApprovalService } from './approval.service.ts';

const APPROVE = { access: { permission: 'release:approve', scope: 'release-id' } } as const;

const InboxItem = Type.Object({
  release: Type.Object({
    id: Type.String(),
    service: Type.String(),
    environment: Type.String(),
    version: Type.String(),
    digest: Type.String(),
    plan: Type.Object({ name: Type.String(), version: Type.Integer() }),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  requestedBy: Type.String({ description: "the requester's email, or the token's name" }),
  stepIndex: Type.Integer(),
  requiredApprovals: Type.Integer(),
  group: Type.Union([Type.String(), Type.Null()]),
  approvals: Type.Array(Type.Object({ by: Type.String(), comment: Type.Union([Type.String(), Type.Null()]), at: Type.String() })),
  waitingSince: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()], { description: 'when the wait (and every approval given) expires' }),
  evidence: Type.Array(
    Type.Object({ stepIndex: Type.Integer(), type: Type.String(), status: Type.String(), summary: Type.Union([Type.String(), Type.Null()]) }),
    { description: 'the steps before this one, as the approver sees them' },
  ),
  needsReauthentication: Type.Boolean({ description: 'the caller must sign in again (a recent sign-in) before approving' }),
});

/**
 * The approvals inbox, approve and reject. Registered inside the releases routes, whose
 * Release schema the replies use.
 */
export function approvalRoutes(deps: { prisma: PrismaClient; releases: ReturnType<typeof createReleaseService>; maxAuthAgeMs: number }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const approvals = createApprovalService(deps);

    app.get(
      '/approvals',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['approvals'],
          summary: 'The releases waiting for an approval the caller may give, with what they would approve',
          response: withErrors({ 200: Type.Object({ items: Type.Array(InboxItem) }) }),
        },
      },
      // Written by the route's own serialiser, then sent as text: a scan for credentials in URLs
      // instead of the preSerialization hook's walk over every object (a fifth of the read).
      async (request, reply) => sendJsonText(reply, reply.serialize({ items: await approvals.inbox(request.identity!) }) as string),
    );
    app.post(
      '/releases/:id/approve',
      {
        config: APPROVE,
        schema: {
          tags: ['approvals'],
          summary: 'Approve the current approval step: a person with the approver role here or in the approver group, never the requester',
          description:
            'In a protected environment only signed-in people approve (or service accounts the policy names), with a sign-in from the last 15 minutes (401 reauthentication_required says where to sign in again).',
          params: Type.Object({ id: Uuid }),
          querystring: ControlQuery,
          body: Type.Optional(Type.Object({ comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false })),
          response: withErrors({ 200: ControlReply, 202: ControlReply }),
        },
      },
      async (request, reply) => {
        const result = await approvals.approve(request.params.id, request.identity!, request.body?.comment ?? null, request.id, request.query.wait ?? 5000);
        return reply.status(result.accepted ? 202 : 200).send(result);
      },
    );
    app.post(
      '/releases/:id/reject',
      {
        config: APPROVE,
        schema: {
          tags: ['approvals'],
          summary: 'Reject the release at its approval step, saying why: the step fails (and the release rolls back when the plan says so)',
          params: Type.Object({ id: Uuid }),
          querystring: ControlQuery,
          body: Type.Object({ comment: Type.String({ minLength: 1, maxLength: 2000, description: 'why' }) }, { additionalProperties: false }),
          response: withErrors({ 200: ControlReply, 202: ControlReply }),
        },
      },
      async (request, reply) => {
        const result = await approvals.reject(request.params.id, request.identity!, request.body.comment, request.id, request.query.wait ?? 5000);
        return reply.status(result.accepted ? 202 : 200).send(result);
      },
    );
  };
}

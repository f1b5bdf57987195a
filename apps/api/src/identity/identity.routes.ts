import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuditedTransaction, PrismaClient } from '@glidepath/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requestActor } from '../http/actor.ts';
import { AppError } from '../http/app-error.ts';
import { Uuid, withErrors } from '../http/schemas.ts';
import { ApiTokenJson, GroupName, Reason, RoleBinding, ScopedRole, ScopedRoleJson, User } from './identity.schemas.ts';
import { createIdentityService } from './identity.service.ts';

const ADMIN = { access: { permission: 'identity:admin', scope: 'global' } } as const;
const IdParams = Type.Object({ id: Uuid });
const SubjectType = Type.Union([Type.Literal('user'), Type.Literal('group'), Type.Literal('token')]);

/** Who am I; users and groups; role bindings; service-account tokens. */
export function identityRoutes(deps: { prisma: PrismaClient; audited: AuditedTransaction; onIdentityChange: () => void }) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const identity = createIdentityService(deps);
    app.addSchema(User);
    app.addSchema(RoleBinding);
    app.addSchema(ApiTokenJson);
    const context = (request: { id: string; body?: unknown }) => ({
      actor: requestActor(request as never),
      requestId: request.id,
      reason: (request.body as { reason?: string } | undefined)?.reason,
    });

    app.get(
      '/me',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['identity'],
          summary: 'Who is calling, with their groups and roles (and, for a browser session, its CSRF token)',
          response: withErrors({
            200: Type.Object({
              kind: Type.Union([Type.Literal('user'), Type.Literal('token')]),
              id: Type.String(),
              name: Type.String(),
              groups: Type.Array(Type.String()),
              roles: Type.Array(ScopedRoleJson),
              session: Type.Union([
                Type.Object({ csrfToken: Type.String({ description: 'send it as x-csrf-token on every state-changing request' }), authTime: Type.String() }),
                Type.Null(),
              ]),
            }),
          }),
        },
      },
      async (request) => {
        const who = request.identity!;
        return {
          kind: who.kind,
          id: who.id,
          name: who.name,
          groups: who.groups,
          roles: await identity.describeGrants(who.grants),
          session: who.session ? { csrfToken: who.session.csrfToken, authTime: who.session.authTime.toISOString() } : null,
        };
      },
    );
    app.post(
      '/me/sign-out-everywhere',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['identity'],
          summary: 'End every session of the signed-in person, in every browser',
          response: withErrors({ 200: Type.Object({ sessionsEnded: Type.Integer() }) }),
        },
      },
      async (request) => {
        const who = request.identity!;
        if (who.kind !== 'user') throw new AppError('conflict', 'a token has no sessions; revoke the token instead');
        return { sessionsEnded: await identity.revokeAllSessions(who.id, context(request)) };
      },
    );

    app.get(
      '/users',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Everyone who has signed in',
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('User')) }) }),
        },
      },
      async () => ({ items: await identity.listUsers() }),
    );
    app.get(
      '/users/:id',
      { config: ADMIN, schema: { tags: ['identity'], summary: 'One user', params: IdParams, response: withErrors({ 200: Type.Ref('User') }) } },
      async (request) => identity.getUser(request.params.id),
    );
    for (const [action, active] of [
      ['deactivate', false],
      ['activate', true],
    ] as const) {
      app.post(
        `/users/:id/${action}`,
        {
          config: ADMIN,
          schema: {
            tags: ['identity'],
            summary: active ? 'Let a deactivated user sign in again' : 'Deactivate a user: their sessions and tokens stop at once',
            params: IdParams,
            body: Type.Optional(Reason),
            response: withErrors({ 200: Type.Ref('User') }),
          },
        },
        async (request) => identity.setActive(request.params.id, active, context(request)),
      );
    }

    app.get(
      '/groups',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Groups and their members, from the identity provider and assigned here',
          response: withErrors({
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  name: Type.String(),
                  members: Type.Array(Type.Object({ userId: Type.String(), source: Type.Union([Type.Literal('idp'), Type.Literal('glidepath')]) })),
                }),
              ),
            }),
          }),
        },
      },
      async () => ({ items: await identity.listGroups() }),
    );
    const MemberParams = Type.Object({ name: GroupName, userId: Uuid });
    app.put(
      '/groups/:name/members/:userId',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Add a user to a group',
          params: MemberParams,
          body: Type.Optional(Reason),
          response: withErrors({ 200: Type.Ref('User') }),
        },
      },
      async (request) => identity.setGroupMember(request.params.name, request.params.userId, true, context(request)),
    );
    app.delete(
      '/groups/:name/members/:userId',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Remove a user from a group assigned in Glidepath (the provider’s groups come back at the next sign-in)',
          params: MemberParams,
          response: withErrors({ 200: Type.Ref('User') }),
        },
      },
      async (request) => identity.setGroupMember(request.params.name, request.params.userId, false, context(request)),
    );

    app.get(
      '/role-bindings',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Who holds which role where',
          querystring: Type.Object({
            subjectType: Type.Optional(SubjectType),
            subjectId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            service: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
          }),
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('RoleBinding')) }) }),
        },
      },
      async (request) => ({ items: await identity.listBindings(request.query) }),
    );
    app.post(
      '/role-bindings',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Grant a role to a user, a group or a token: everywhere, for a service, or for one environment of it',
          body: Type.Object(
            {
              subject: Type.Object(
                { type: SubjectType, id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }) },
                { additionalProperties: false },
              ),
              ...ScopedRole.properties,
              reason: Type.Optional(Type.String({ maxLength: 2000 })),
            },
            { additionalProperties: false },
          ),
          response: withErrors({ 201: Type.Ref('RoleBinding') }),
        },
      },
      async (request, reply) => reply.status(201).send(await identity.grant(request.body, context(request))),
    );
    app.delete(
      '/role-bindings/:id',
      { config: ADMIN, schema: { tags: ['identity'], summary: 'Take a role away', params: IdParams, response: withErrors({ 200: Type.Ref('RoleBinding') }) } },
      async (request) => identity.revokeBinding(request.params.id, context(request)),
    );

    app.get(
      '/tokens',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Service-account tokens (never their secrets)',
          response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Ref('ApiToken')) }) }),
        },
      },
      async () => ({ items: await identity.listTokens() }),
    );
    app.post(
      '/tokens',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Create a service-account token; its secret is in this reply only',
          body: Type.Object(
            {
              name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
              roles: Type.Array(ScopedRole, { minItems: 1, maxItems: 20 }),
              expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'default: never' })),
              reason: Type.Optional(Type.String({ maxLength: 2000 })),
            },
            { additionalProperties: false },
          ),
          response: withErrors({ 201: Type.Object({ ...ApiTokenJson.properties, token: Type.String({ description: 'the secret: shown once' }) }) }),
        },
      },
      async (request, reply) => {
        const who = request.identity!;
        const created = await identity.createToken(request.body, { ...context(request), ownerUserId: who.kind === 'user' ? who.id : null });
        return reply.status(201).send(created);
      },
    );
    app.post(
      '/tokens/:id/revoke',
      {
        config: ADMIN,
        schema: {
          tags: ['identity'],
          summary: 'Revoke a token: it stops at once',
          params: IdParams,
          body: Type.Optional(Reason),
          response: withErrors({ 200: Type.Ref('ApiToken') }),
        },
      },
      async (request) => identity.revokeToken(request.params.id, context(request)),
    );
  };
}

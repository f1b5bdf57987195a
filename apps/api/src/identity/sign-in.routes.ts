import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  checkSession,
  createSession,
  newSecret,
  revokeSession,
  savePendingLogin,
  takePendingLogin,
  upsertUserFromSignIn,
  type AuditedTransaction,
  type PrismaClient,
  type SessionLimits,
} from '@glidepath/db';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { sameSecret, SESSION_COOKIE } from './authenticate.ts';
import type { OidcClient } from './oidc-client.ts';

const LOGIN_COOKIE = 'glidepath_login';
/** A person has this long between leaving for the provider and coming back. */
const LOGIN_MAX_AGE_MS = 10 * 60_000;
export const SIGN_IN_RATE_LIMIT = { max: 30, timeWindow: '1 minute' };

/** Codes the dashboard's sign-in page turns into words. */
export type SignInError =
  'sso_not_configured' | 'issuer_unreachable' | 'sign_in_expired' | 'state_mismatch' | 'provider_refused' | 'sign_in_failed' | 'account_deactivated';

/** Only a path on this site: never an open redirect to somewhere else. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !/^\/(?![/\\])[^\s\\]*$/.test(value) || value.startsWith('/auth/')) return '/';
  return value;
}

export function signInRoutes(deps: {
  prisma: PrismaClient;
  audited: AuditedTransaction;
  oidc: OidcClient | undefined;
  sessions: SessionLimits;
  secureCookies: boolean;
  /** Empties the identity cache of this process, so a sign-out holds at once. */
  onIdentityChange: () => void;
}) {
  const cookieBase = { httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies };
  const toLoginPage = (reply: FastifyReply, error: SignInError) => reply.redirect(`/login?error=${error}`);

  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/auth/status',
      {
        config: { access: 'public' },
        schema: {
          tags: ['sign-in'],
          summary: 'Whether single sign-on is configured and its issuer answers (for the sign-in page)',
          response: {
            200: Type.Object({
              sso: Type.Union([Type.Literal('not-configured'), Type.Literal('available'), Type.Literal('unreachable')]),
              issuer: Type.Union([Type.String(), Type.Null()]),
              problem: Type.Union([Type.String(), Type.Null()]),
            }),
          },
        },
      },
      async () => {
        if (!deps.oidc) return { sso: 'not-configured' as const, issuer: null, problem: null };
        const problem = await deps.oidc.problem();
        return { sso: problem ? ('unreachable' as const) : ('available' as const), issuer: deps.oidc.issuer, problem };
      },
    );

    app.get(
      '/auth/login',
      {
        config: { access: 'public', rateLimit: SIGN_IN_RATE_LIMIT },
        schema: {
          tags: ['sign-in'],
          summary: 'Start single sign-on: redirects to the OpenID provider',
          querystring: Type.Object({
            returnTo: Type.Optional(Type.String({ maxLength: 2000, description: 'a path of the dashboard to come back to' })),
            maxAge: Type.Optional(
              Type.Integer({ minimum: 0, maximum: 86_400, description: 'seconds: sign in again unless the last sign-in at the provider is this recent' }),
            ),
          }),
        },
      },
      async (request, reply) => {
        if (!deps.oidc) return toLoginPage(reply, 'sso_not_configured');
        let authorization;
        try {
          const problem = await deps.oidc.problem();
          if (problem) throw new Error(problem);
          authorization = await deps.oidc.authorizationRequest({ maxAgeSeconds: request.query.maxAge });
        } catch (error) {
          request.log.warn({ err: error }, 'the OpenID provider did not answer');
          return toLoginPage(reply, 'issuer_unreachable');
        }
        // The pending sign-in is bound to this browser by a cookie only it holds (against login CSRF).
        const browserSecret = newSecret('');
        const { state, nonce, codeVerifier } = authorization;
        await savePendingLogin(
          deps.prisma,
          browserSecret,
          { state, nonce, codeVerifier, returnTo: safeReturnTo(request.query.returnTo), maxAge: request.query.maxAge ?? null },
          LOGIN_MAX_AGE_MS,
        );
        reply.setCookie(LOGIN_COOKIE, browserSecret, { ...cookieBase, path: '/auth', maxAge: LOGIN_MAX_AGE_MS / 1000 });
        return reply.redirect(authorization.url.toString());
      },
    );

    app.get(
      '/auth/callback',
      {
        config: { access: 'public', rateLimit: SIGN_IN_RATE_LIMIT },
        schema: { tags: ['sign-in'], summary: 'Where the OpenID provider sends the browser back; starts a session', hide: true },
      },
      async (request, reply) => {
        const browserSecret = request.cookies[LOGIN_COOKIE];
        reply.clearCookie(LOGIN_COOKIE, { ...cookieBase, path: '/auth' });
        if (!deps.oidc) return toLoginPage(reply, 'sso_not_configured');
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        const params = new URLSearchParams(query);
        // Taken (and so deleted) before anything else: a replayed callback finds nothing.
        const login = browserSecret ? await takePendingLogin(deps.prisma, browserSecret, LOGIN_MAX_AGE_MS) : null;
        if (!login) return toLoginPage(reply, 'sign_in_expired');
        if (params.get('state') !== login.state) return toLoginPage(reply, 'state_mismatch');
        if (params.has('error')) {
          request.log.warn({ error: params.get('error'), description: params.get('error_description') }, 'the OpenID provider refused the sign-in');
          return toLoginPage(reply, 'provider_refused');
        }
        let person;
        try {
          person = await deps.oidc.complete(query, login);
        } catch (error) {
          request.log.warn({ err: error }, 'sign-in failed at the code exchange or ID token validation');
          return toLoginPage(reply, (await deps.oidc.problem()) ? 'issuer_unreachable' : 'sign_in_failed');
        }
        const secret = await deps.audited(async (tx, audit) => {
          const { user, created } = await upsertUserFromSignIn(tx, person);
          const actor = { type: 'user' as const, id: user.id, name: user.email ?? user.name ?? user.subject };
          const context = { subject: { type: 'user', id: user.id }, requestId: request.id };
          if (!user.active) {
            await audit({ actor, action: 'user.sign-in-refused', ...context, reason: 'the account is deactivated' });
            return null;
          }
          if (created)
            await audit({
              actor,
              action: 'user.created',
              ...context,
              after: { issuer: user.issuer, subject: user.subject, email: user.email, name: user.name },
            });
          const { session, secret } = await createSession(tx, {
            userId: user.id,
            authTime: person.authTime,
            userAgent: request.headers['user-agent'],
            absoluteMs: deps.sessions.absoluteMs,
          });
          await audit({
            actor,
            action: 'user.signed-in',
            ...context,
            payload: { sessionId: session.id, groups: person.groups, authTime: person.authTime.toISOString() },
          });
          return secret;
        });
        if (!secret) return toLoginPage(reply, 'account_deactivated');
        reply.setCookie(SESSION_COOKIE, secret, { ...cookieBase, path: '/', maxAge: deps.sessions.absoluteMs / 1000 });
        return reply.redirect(login.returnTo);
      },
    );

    app.post(
      '/auth/logout',
      {
        config: { access: 'public' },
        schema: {
          tags: ['sign-in'],
          summary: 'Sign out: ends this browser session (send x-csrf-token)',
          response: { 200: Type.Object({ signedOut: Type.Boolean() }), 403: Type.Ref('ErrorReply') },
        },
      },
      async (request, reply) => {
        const cookie = request.cookies[SESSION_COOKIE];
        const check = cookie ? await checkSession(deps.prisma, cookie, deps.sessions) : null;
        if (check?.ok) {
          // Only the dashboard may end its session: a page elsewhere cannot sign people out.
          const csrf = request.headers['x-csrf-token'];
          if (typeof csrf !== 'string' || !sameSecret(csrf, check.session.csrfToken))
            return reply
              .status(403)
              .send({ error: { code: 'forbidden', message: 'header.x-csrf-token: sign-out needs the csrfToken from GET /api/v1/me', requestId: request.id } });
          const { user, session } = check;
          await deps.audited(async (tx, audit) => {
            await revokeSession(tx, session.id, 'signed out');
            await audit({
              actor: { type: 'user', id: user.id, name: user.email ?? user.name ?? user.subject },
              action: 'user.signed-out',
              subject: { type: 'user', id: user.id },
              payload: { sessionId: session.id },
              requestId: request.id,
            });
          });
          deps.onIdentityChange();
        }
        reply.clearCookie(SESSION_COOKIE, { ...cookieBase, path: '/' });
        return { signedOut: Boolean(check?.ok) };
      },
    );
  };
}

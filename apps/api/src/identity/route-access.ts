import { authorize, visibleScopes, type Permission } from '@glidepath/core';
import type { PrismaClient, SessionLimits } from '@glidepath/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../http/app-error.ts';
import { bearerSecret, createAuthenticator, sameSecret, type Found, type KnownCredential } from './authenticate.ts';
import type { IdentityCache } from './identity-cache.ts';
import type { RequestIdentity } from './request-identity.ts';
import { resolveScope, type ScopeKind } from './scope-resolver.ts';

/**
 * What a route needs, declared on the route itself and checked on the route that matched:
 * - `public`: nothing (health probes, the sign-in endpoints);
 * - `ingest-key`: the environment's metrics ingest key, which the handler checks;
 * - `signed-in`: any identity, no role (who am I, sign out everywhere);
 * - `metrics`: the scrape token, or an identity with audit:read globally;
 * - a permission at a scope (see scope-resolver.ts); `peopleOnly` refuses tokens whatever they hold.
 * A route under /api, /auth or /metrics that declares nothing makes the API refuse to start.
 */
export type RouteAccess = 'public' | 'ingest-key' | 'signed-in' | 'metrics' | { permission: Permission; scope: ScopeKind; peopleOnly?: boolean };

declare module 'fastify' {
  interface FastifyRequest {
    identity?: RequestIdentity;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const METRICS_ACCESS = { permission: 'audit:read', scope: 'global' } as const;

function needsDeclaration(url: string): boolean {
  return url.startsWith('/api') || url.startsWith('/auth') || url === '/metrics' || url === '/livez' || url === '/readyz';
}

export interface AccessControlOptions {
  prisma: PrismaClient;
  sessions: SessionLimits;
  publicUrl: string;
  metricsToken?: string;
  publicApiDocs: boolean;
  cache: IdentityCache<KnownCredential>;
}

export function installAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  const authenticate = createAuthenticator(options);
  const publicOrigin = new URL(options.publicUrl).origin;

  app.addHook('onRoute', (route) => {
    route.config ??= {};
    const config = route.config as { access?: RouteAccess };
    // Swagger UI's own routes (/api/docs/*) serve the OpenAPI document too.
    if (!config.access && (route.url.startsWith('/api/docs') || route.url === '/api/openapi.json'))
      config.access = options.publicApiDocs ? 'public' : { permission: 'read', scope: 'any' };
    const access = config.access;
    if (!access) {
      if (needsDeclaration(route.url)) throw new Error(`${String(route.method)} ${route.url} declares no config.access: say who may call it`);
      return; // the dashboard's static files: public, they hold no data
    }
    if (route.schema && !route.schema.hide) {
      const schema = route.schema as Record<string, unknown>;
      schema['x-glidepath-access'] = typeof access === 'string' ? { kind: access } : { kind: 'permission', ...access };
      schema.security = access === 'public' || access === 'ingest-key' ? [] : [{ bearerAuth: [] }, { sessionCookie: [] }];
    }
  });

  /** A cookie rides along on any request a browser makes: prove this one came from the dashboard. */
  function checkCookieRequest(request: FastifyRequest, identity: RequestIdentity) {
    const origin = request.headers.origin;
    const ownOrigin = `${request.protocol}://${request.host}`;
    const isWebsocket = request.headers.upgrade?.toLowerCase() === 'websocket';
    if (origin !== undefined && origin !== publicOrigin && origin !== ownOrigin)
      throw new AppError(
        'forbidden',
        `header.origin: ${origin} is not this Glidepath's origin (${publicOrigin}); cookie-authenticated requests must come from the dashboard`,
      );
    if (isWebsocket && origin === undefined) throw new AppError('forbidden', 'header.origin: a websocket opened with a session cookie must say its origin');
    if (SAFE_METHODS.has(request.method)) return;
    const given = request.headers['x-csrf-token'];
    if (typeof given !== 'string' || !sameSecret(given, identity.session!.csrfToken))
      throw new AppError(
        'forbidden',
        'header.x-csrf-token: a request that changes state with a session cookie must send the csrfToken from GET /api/v1/me in x-csrf-token',
      );
  }

  function forbidden(identity: RequestIdentity, permission: Permission, where: string | null, roles: string[]): AppError {
    const who = identity.kind === 'user' ? `${identity.name}` : `token "${identity.name}"`;
    const scope = where === null ? 'granted globally' : `for ${where} (granted globally, for its service or for its environment)`;
    return new AppError('forbidden', `${who} may not ${permission}: that needs the ${roles.join(' or ')} role ${scope}`, {
      permission,
      roles,
      scope: where ?? 'global',
    });
  }

  /** Who the request is and whether the route lets them in at all (throws the refusal). */
  function admit(request: FastifyRequest, access: Exclude<RouteAccess, 'public' | 'ingest-key'>, identity: RequestIdentity | undefined): void {
    if (!identity) throw new AppError('unauthorized', 'sign in (session cookie), or send "Authorization: Bearer <token>"', { signIn: '/login' });
    request.identity = identity;
    if (identity.via === 'session') checkCookieRequest(request, identity);
    if (access === 'signed-in') return;
    const needed = access === 'metrics' ? METRICS_ACCESS : access;
    if ('peopleOnly' in needed && needed.peopleOnly && identity.kind !== 'user')
      throw new AppError('forbidden', `token "${identity.name}" may not ${needed.permission}: only a signed-in person with the role may, never a token`, {
        permission: needed.permission,
        people: true,
      });
    // Who may approve also depends on the environment's policy (its approverGroup) and the step: the approvals service decides.
    if (needed.permission === 'release:approve') return;
    // Held nowhere means refused before the body is even validated; where exactly is decided once the route's resource is known.
    const scope = needed.scope === 'global' ? ({ kind: 'global' } as const) : ({ kind: 'any' } as const);
    const decision = authorize(identity.grants, needed.permission, scope);
    if (!decision.allowed) throw forbidden(identity, needed.permission, null, decision.rolesThatWould);
  }

  // Callback hooks: a remembered credential is decided without a promise (every read passes here).
  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public' || access === 'ingest-key') return done();
    if (access === 'metrics' && options.metricsToken) {
      const bearer = bearerSecret(request.headers.authorization);
      if (bearer && sameSecret(bearer, options.metricsToken)) return done();
    }
    let found: Found<RequestIdentity | undefined>;
    try {
      found = authenticate(request, reply);
      if (!(found instanceof Promise)) admit(request, access, found);
    } catch (error) {
      return done(error as Error);
    }
    if (found instanceof Promise) found.then((identity) => admit(request, access, identity)).then(() => done(), done);
    else done();
  });

  app.addHook('preHandler', (request, _reply, done) => {
    const access = request.routeOptions.config.access;
    const identity = request.identity;
    if (!identity || typeof access !== 'object' || access.scope === 'global' || access.scope === 'any') return done();
    if (access.permission === 'release:approve') return done(); // decided by the approvals service (core's mayApprove)
    // A global grant covers every resource: no need to look up where this one lives (a missing one is the handler's 404).
    if (authorize(identity.grants, access.permission, { kind: 'global' }).allowed) return done();
    resolveScope(options.prisma, access.scope, request)
      .then((resolved) => {
        if (!resolved) return; // no such resource: the handler answers 404 as it would for anyone allowed somewhere
        const decision = authorize(identity.grants, access.permission, resolved.scope);
        if (!decision.allowed) throw forbidden(identity, access.permission, resolved.label, decision.rolesThatWould);
      })
      .then(() => done(), done);
  });
}

/** What a caller may read, for filtering lists: everything, or these services and environments. */
export type Readable = 'all' | { serviceIds: string[]; environmentIds: string[] };

/** Where a caller may read, as their grants say: everywhere, or these services (all their environments) and these environments. */
export type ReadScopes = 'all' | { serviceIds: string[]; environmentIds: string[] };

/** The caller's read grants, for filtering a list in the same statement that reads it (no look-up of its own). */
export function readScopes(request: FastifyRequest): ReadScopes {
  if (!request.identity) return { serviceIds: [], environmentIds: [] };
  const scopes = visibleScopes(request.identity.grants, 'read');
  return scopes === 'all' ? 'all' : { serviceIds: [...scopes.serviceIds], environmentIds: [...scopes.environmentIds] };
}

/** A grant for a service covers its environments; a grant for an environment shows its service too. */
export async function readableResources(prisma: PrismaClient, request: FastifyRequest): Promise<Readable> {
  if (!request.identity) return { serviceIds: [], environmentIds: [] };
  const scopes = visibleScopes(request.identity.grants, 'read');
  if (scopes === 'all') return 'all';
  const envs = await prisma.environment.findMany({
    where: { OR: [{ serviceId: { in: [...scopes.serviceIds] } }, { id: { in: [...scopes.environmentIds] } }] },
    select: { id: true, serviceId: true },
  });
  return { serviceIds: [...new Set([...scopes.serviceIds, ...envs.map((e) => e.serviceId)])], environmentIds: envs.map((e) => e.id) };
}

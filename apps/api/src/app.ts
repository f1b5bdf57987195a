import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import AjvCompiler from '@fastify/ajv-compiler';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { redactUrlCredentials } from '@glidepath/core';
import {
  createSecretBox,
  DEVELOPMENT_SECRETS_KEY,
  type AuditedTransaction,
  type EventBus,
  type JobQueue,
  type PrismaClient,
  type SecretBox,
} from '@glidepath/db';
import type { DeployerRegistry, Egress, MetricRegistry, RouterRegistry } from '@glidepath/providers';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from './http/app-error.ts';
import { installErrorHandling } from './http/error-handler.ts';
import { ErrorReply } from './http/schemas.ts';
import { createApiMetrics } from './metrics.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { servicesRoutes } from './routes/services.routes.ts';
import { artifactsRoutes } from './routes/artifacts.routes.ts';
import { environmentsRoutes } from './routes/environments.routes.ts';
import { plansRoutes } from './routes/plans.routes.ts';
import { releasesRoutes } from './routes/releases.routes.ts';
import { streamRoutes } from './routes/stream.routes.ts';
import { identityRoutes } from './identity/identity.routes.ts';
import type { OidcClient } from './identity/oidc-client.ts';
import { installAccessControl } from './identity/route-access.ts';
import type { KnownCredential } from './identity/authenticate.ts';
import { createIdentityCache, isIdentityChange } from './identity/identity-cache.ts';
import { signInRoutes } from './identity/sign-in.routes.ts';
import { doraRoutes } from './dora/dora.routes.ts';
import { drillsRoutes } from './drills/drills.routes.ts';
import { boardRoutes } from './board/board.routes.ts';
import { webhookRoutes } from './webhooks/webhook.routes.ts';
import { withDocumentSchemas } from './openapi/document-schemas.ts';
import { installInputGuard } from './http/input-guard.ts';
import { installSecurityHeaders } from './http/security-headers.ts';
import { installBodyParsers } from './http/body-parsers.ts';
import { clientErrorHandler, frameworkErrors } from './http/framework-errors.ts';

export interface AppDeps {
  prisma: PrismaClient;
  redis: Redis;
  bus: EventBus;
  audited: AuditedTransaction;
  jobs: JobQueue;
  /** Validates environment targets; the API never drives a router itself. */
  routers: RouterRegistry;
  metricSources: MetricRegistry;
  /** Validates environment deployers (none without a command directory allowed when absent). */
  deployers?: DeployerRegistry;
  webDist?: string;
  access: AccessDeps;
  /** Seals webhook signing secrets; the development key when absent (config.ts requires a real one in production). */
  secrets?: SecretBox;
  /** The network policy: registration refuses URLs and sockets it would refuse at call time. */
  egress: Egress;
}

export interface AccessDeps {
  /** Single sign-on; absent when only API tokens are used. */
  oidc?: OidcClient;
  sessions: { idleMs: number; absoluteMs: number };
  /** Where people reach Glidepath: its origin is the one cookie-authenticated requests must come from. */
  publicUrl: string;
  metricsToken?: string;
  publicApiDocs?: boolean;
  /** Redis key prefix for the rate limiter's counters. */
  rateLimitPrefix?: string;
  /** How long a valid credential is remembered (default 10 s); tests that edit sessions in the database set 0. */
  identityCacheTtlMs?: number;
  /** How recent an approver's sign-in must be in a protected environment (default 15 minutes). */
  approvalMaxAuthAgeMs?: number;
}

export interface AppOptions {
  logLevel?: string;
  logger?: FastifyBaseLogger;
}

export type App = FastifyInstance;

/**
 * Query strings and headers are text, so their numbers and lists are converted; a JSON body says
 * what it means, so it is validated as sent: {"name": true} is a wrong type, not a service "true".
 */
function strictBodies(externalSchemas: Record<string, unknown>, options: { customOptions?: Record<string, unknown> }) {
  const converting = buildAjvValidator(externalSchemas as never, options as never);
  const strict = buildAjvValidator(externalSchemas as never, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } } as never);
  return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : converting)(route as never);
}
const buildAjvValidator = AjvCompiler();

export async function buildApp(deps: AppDeps, options: AppOptions = {}) {
  const app = Fastify({
    ...(options.logger
      ? { loggerInstance: options.logger }
      : { logger: { level: options.logLevel ?? 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] } }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // Fastify's and Node's own refusals (a bad URL, headers too large) in the error model too.
    frameworkErrors: frameworkErrors as never,
    clientErrorHandler,
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', keywords: ['x-document-as'] },
      plugins: [(await import('ajv-formats')).default as never],
    },
    schemaController: { compilersFactory: { buildValidator: strictBodies as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = createApiMetrics();
  // Credentials inside stored URLs (https://user:pass@…) are used, never shown: not in any reply.
  app.addHook('preSerialization', async (_request, _reply, payload) => redactUrlCredentials(payload));
  // Callback hooks, not async ones: every reply runs them, and a promise each is measurable on a hot read.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  installErrorHandling(app);
  installInputGuard(app);
  const { access } = deps;
  await app.register(fastifyCookie);
  // Before the access hook: its own onRequest marks upgrades, so a refused one gets its socket closed.
  await app.register(fastifyWebsocket);
  await installSecurityHeaders(app, {
    // The dashboard loads only its own scripts; Recharts and React set inline styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  // Counters in Redis so that several API instances share one limit; a Redis outage lets requests through.
  await app.register(fastifyRateLimit, {
    global: false,
    hook: 'preHandler',
    redis: deps.redis,
    nameSpace: `${access.rateLimitPrefix ?? 'glidepath'}:rate-limit:`,
    skipOnError: true,
    keyGenerator: (request) => (request.identity ? `${request.identity.kind}:${request.identity.id}` : request.ip),
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `too many requests: at most ${context.max} per ${context.after}; try again in ${Math.ceil(context.ttl / 1000)} s`),
  });
  // Valid credentials are remembered briefly; any change to people, tokens or roles empties the cache.
  const identityCache = createIdentityCache<KnownCredential>({ ttlMs: access.identityCacheTtlMs });
  const unsubscribeIdentity = await deps.bus.subscribe((event) => isIdentityChange(event) && identityCache.clear());
  app.addHook('onClose', unsubscribeIdentity);
  installAccessControl(app, {
    cache: identityCache,
    prisma: deps.prisma,
    sessions: access.sessions,
    publicUrl: access.publicUrl,
    metricsToken: access.metricsToken,
    publicApiDocs: access.publicApiDocs ?? false,
  });
  installBodyParsers(app);
  app.addSchema(ErrorReply);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Glidepath API', version: '0.1.0', description: 'Deployment control plane: artifacts, releases, audit log.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'a service-account token (POST /api/v1/tokens, or pnpm token:create)' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'glidepath_session',
            description: 'the dashboard session after single sign-on (/auth/login); state-changing requests also need x-csrf-token',
          },
        },
      },
      security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    },
    // Shared schemas keep their $id (Release, AuditEvent…) as their component name, for the generated client.
    transformObject: withDocumentSchemas as never,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  await app.register(healthRoutes({ ...deps, metrics }));
  await app.register(
    signInRoutes({
      prisma: deps.prisma,
      audited: deps.audited,
      oidc: access.oidc,
      sessions: access.sessions,
      secureCookies: access.publicUrl.startsWith('https:'),
      onIdentityChange: identityCache.clear,
    }),
  );
  await app.register(identityRoutes({ ...deps, onIdentityChange: identityCache.clear }), { prefix: '/api/v1' });
  await app.register(auditRoutes(deps), { prefix: '/api/v1' });
  await app.register(servicesRoutes(deps), { prefix: '/api/v1' });
  await app.register(environmentsRoutes(deps), { prefix: '/api/v1' });
  await app.register(artifactsRoutes(deps), { prefix: '/api/v1' });
  await app.register(plansRoutes(deps), { prefix: '/api/v1' });
  await app.register(releasesRoutes({ ...deps, approvalMaxAuthAgeMs: access.approvalMaxAuthAgeMs ?? 15 * 60_000 }), { prefix: '/api/v1' });
  await app.register(doraRoutes(deps), { prefix: '/api/v1' });
  await app.register(drillsRoutes(deps), { prefix: '/api/v1' });
  await app.register(boardRoutes(deps), { prefix: '/api/v1' });
  await app.register(webhookRoutes({ ...deps, secrets: deps.secrets ?? createSecretBox(DEVELOPMENT_SECRETS_KEY) }), { prefix: '/api/v1' });
  await app.register(streamRoutes({ bus: deps.bus, metrics, prisma: deps.prisma, sessions: access.sessions }), { prefix: '/api/v1' });
  // Who may read it is decided with the docs' own routes (route-access.ts: GLIDEPATH_PUBLIC_API_DOCS).
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const serveDashboard = Boolean(deps.webDist && existsSync(deps.webDist));
  if (serveDashboard) await app.register(fastifyStatic, { root: deps.webDist!, wildcard: false });
  app.setNotFoundHandler((request, reply) => {
    // Client-side routes of the dashboard: any unknown GET outside the API gets its index.html.
    if (serveDashboard && request.method === 'GET' && !request.url.startsWith('/api/')) return reply.sendFile('index.html');
    return reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}`, requestId: request.id } });
  });
  return app;
}

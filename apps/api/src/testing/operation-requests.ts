import { upsertUserFromSignIn } from '@glidepath/db';
import type { Permission } from '@glidepath/core';
import type { createTestApp } from './test-app.ts';

/**
 * The operations of the API's own OpenAPI document, with one valid request for each against a
 * small seeded catalog: what the RBAC matrix and the bad-input campaign call. A new route
 * without a request here fails both, so none can be left out.
 */
type TestApp = Awaited<ReturnType<typeof createTestApp>>;

export type Access = { kind: 'public' | 'ingest-key' | 'signed-in' } | { kind: 'permission'; permission: Permission; scope: string; peopleOnly?: boolean };

export interface Operation {
  method: string;
  path: string;
  access?: Access;
  security?: unknown[];
  responses: Record<string, unknown>;
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; schema?: Record<string, unknown> }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> };
}

export interface Call {
  url: string;
  payload?: unknown;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path' | 'access'> & { 'x-glidepath-access'?: Access }>>;
  components?: { schemas?: Record<string, unknown> };
}

export async function documentOperations(t: TestApp): Promise<{ doc: OpenApiDocument; operations: Operation[] }> {
  const doc = (await t.app.inject({ url: '/api/openapi.json', headers: t.admin })).json() as OpenApiDocument;
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({ ...op, method: method.toUpperCase(), path, access: op['x-glidepath-access'] })),
  );
  return { doc, operations };
}

/** Services alpha and beta, environments, an artifact, a plan, a release, a user, a token, a role binding, a webhook and a delivery. */
export async function seedOperationFixtures(t: TestApp): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const admin = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
    const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string };
  };
  ids.alpha = (await admin('POST', '/services', { name: 'alpha' })).id;
  ids.beta = (await admin('POST', '/services', { name: 'beta' })).id;
  ids.alphaDev = (await admin('POST', '/environments', { service: 'alpha', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'd' } } })).id;
  ids.alphaProd = (
    await admin('POST', '/environments', {
      service: 'alpha',
      name: 'prod',
      position: 1,
      requireUpstreamSuccess: false,
      target: { type: 'recording', config: { key: 'p' } },
    })
  ).id;
  await admin('POST', '/environments', { service: 'beta', name: 'dev', position: 0, target: { type: 'recording', config: { key: 'b' } } });
  ids.artifact = (await admin('POST', '/artifacts', { service: 'alpha', version: '1.0.0', digest: digest('a') })).id;
  await admin('POST', '/plans', { name: 'quick', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } });
  ids.release = (await admin('POST', '/releases', { service: 'alpha', environment: 'prod', version: '1.0.0', plan: 'quick' })).id;
  ids.user = (
    await t.audited(async (tx) => upsertUserFromSignIn(tx, { issuer: 'https://idp.test', subject: 'u1', email: 'u1@x.test', name: 'U', groups: [] }))
  ).user.id;
  ids.token = (await admin('POST', '/tokens', { name: 'victim', roles: [{ role: 'viewer' }] })).id;
  ids.binding = (await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'ops' }, role: 'viewer' })).id;
  ids.webhook = (
    (await admin('POST', '/webhooks', { url: 'https://hooks.example.com/in', events: ['*'] })) as unknown as { subscription: { id: string } }
  ).subscription.id;
  ids.delivery = (
    await t.prisma.webhookDelivery.create({
      data: {
        id: '11111111-1111-4111-8111-111111111111',
        subscriptionId: ids.webhook,
        auditSeq: 1n,
        eventType: 'service.created',
        orderingKey: 'global',
        payload: {},
      },
    })
  ).id;
  return ids;
}

export const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** One valid request per operation, against the fixtures of seedOperationFixtures. */
export function requestFor(op: Pick<Operation, 'method' | 'path'>, ids: Record<string, string>): Call | undefined {
  const rid = ids.release!;
  const calls: Record<string, () => Call> = {
    'GET /livez': () => ({ url: '/livez' }),
    'GET /readyz': () => ({ url: '/readyz' }),
    'GET /auth/status': () => ({ url: '/auth/status' }),
    'GET /auth/login': () => ({ url: '/auth/login' }),
    'POST /auth/logout': () => ({ url: '/auth/logout' }),
    'GET /api/v1/me': () => ({ url: '/api/v1/me' }),
    'POST /api/v1/me/sign-out-everywhere': () => ({ url: '/api/v1/me/sign-out-everywhere' }),
    'GET /api/v1/users': () => ({ url: '/api/v1/users' }),
    'GET /api/v1/users/{id}': () => ({ url: `/api/v1/users/${ids.user}` }),
    'POST /api/v1/users/{id}/deactivate': () => ({ url: `/api/v1/users/${ids.user}/deactivate`, payload: {} }),
    'POST /api/v1/users/{id}/activate': () => ({ url: `/api/v1/users/${ids.user}/activate`, payload: {} }),
    'GET /api/v1/groups': () => ({ url: '/api/v1/groups' }),
    'PUT /api/v1/groups/{name}/members/{userId}': () => ({ url: `/api/v1/groups/ops/members/${ids.user}`, payload: {} }),
    'DELETE /api/v1/groups/{name}/members/{userId}': () => ({ url: `/api/v1/groups/ops/members/${ids.user}` }),
    'GET /api/v1/role-bindings': () => ({ url: '/api/v1/role-bindings' }),
    'POST /api/v1/role-bindings': () => ({
      url: '/api/v1/role-bindings',
      payload: { subject: { type: 'group', id: 'ops' }, role: 'viewer', service: 'alpha' },
    }),
    'DELETE /api/v1/role-bindings/{id}': () => ({ url: `/api/v1/role-bindings/${ids.binding}` }),
    'GET /api/v1/tokens': () => ({ url: '/api/v1/tokens' }),
    'POST /api/v1/tokens': () => ({ url: '/api/v1/tokens', payload: { name: `made-${Math.random().toString(36).slice(2, 8)}`, roles: [{ role: 'viewer' }] } }),
    'POST /api/v1/tokens/{id}/revoke': () => ({ url: `/api/v1/tokens/${ids.token}/revoke`, payload: {} }),
    'GET /api/v1/audit': () => ({ url: '/api/v1/audit' }),
    'GET /api/v1/board': () => ({ url: '/api/v1/board' }),
    'POST /api/v1/webhooks': () => ({ url: '/api/v1/webhooks', payload: { url: 'https://hooks.example.com/in', events: ['release.*'] } }),
    'GET /api/v1/webhooks': () => ({ url: '/api/v1/webhooks' }),
    'GET /api/v1/webhooks/{id}': () => ({ url: `/api/v1/webhooks/${ids.webhook}` }),
    'PATCH /api/v1/webhooks/{id}': () => ({ url: `/api/v1/webhooks/${ids.webhook}`, payload: { description: 'matrix' } }),
    'DELETE /api/v1/webhooks/{id}': () => ({ url: '/api/v1/webhooks/00000000-0000-4000-8000-000000000000' }),
    'POST /api/v1/webhooks/{id}/rotate-secret': () => ({ url: `/api/v1/webhooks/${ids.webhook}/rotate-secret`, payload: {} }),
    'GET /api/v1/webhooks/{id}/deliveries': () => ({ url: `/api/v1/webhooks/${ids.webhook}/deliveries` }),
    'POST /api/v1/webhooks/deliveries/{id}/redeliver': () => ({ url: `/api/v1/webhooks/deliveries/${ids.delivery}/redeliver`, payload: {} }),
    'GET /api/v1/plans/{name}/versions': () => ({ url: '/api/v1/plans/quick/versions' }),
    'GET /api/v1/audit/verify': () => ({ url: '/api/v1/audit/verify' }),
    'GET /api/v1/audit/export': () => ({ url: '/api/v1/audit/export' }),
    'POST /api/v1/services': () => ({ url: '/api/v1/services', payload: { name: `svc-${Math.random().toString(36).slice(2, 8)}` } }),
    'GET /api/v1/services': () => ({ url: '/api/v1/services' }),
    'GET /api/v1/services/{id}': () => ({ url: `/api/v1/services/${ids.alpha}` }),
    'PATCH /api/v1/services/{id}': () => ({ url: `/api/v1/services/${ids.alpha}`, payload: { description: 'changed' } }),
    'POST /api/v1/environments': () => ({
      url: '/api/v1/environments',
      payload: {
        service: 'alpha',
        name: `e-${Math.random().toString(36).slice(2, 8)}`,
        position: Math.floor(Math.random() * 900) + 10,
        target: { type: 'recording', config: { key: 'x' } },
      },
    }),
    'GET /api/v1/environments': () => ({ url: '/api/v1/environments' }),
    'GET /api/v1/environments/{id}': () => ({ url: `/api/v1/environments/${ids.alphaProd}` }),
    'PATCH /api/v1/environments/{id}': () => ({ url: `/api/v1/environments/${ids.alphaProd}`, payload: { reason: 'matrix', requireUpstreamSuccess: false } }),
    'POST /api/v1/environments/{id}/ingest-key': () => ({ url: `/api/v1/environments/${ids.alphaProd}/ingest-key` }),
    // alpha/prod has no deployer: the drill is refused with why (409), after the access check.
    'POST /api/v1/environments/{id}/drills': () => ({ url: `/api/v1/environments/${ids.alphaProd}/drills`, payload: { reason: 'matrix' } }),
    'GET /api/v1/environments/{id}/drills': () => ({ url: `/api/v1/environments/${ids.alphaProd}/drills` }),
    'POST /api/v1/environments/{id}/metrics': () => ({
      url: `/api/v1/environments/${ids.alphaProd}/metrics`,
      payload: { samples: [{ version: '1', from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:01:00Z', requests: 1, errors: 0 }] },
    }),
    'POST /api/v1/artifacts': () => ({ url: '/api/v1/artifacts', payload: { service: 'alpha', version: '1.0.0', digest: digest('a') } }),
    'GET /api/v1/artifacts': () => ({ url: '/api/v1/artifacts' }),
    'GET /api/v1/artifacts/{id}': () => ({ url: `/api/v1/artifacts/${ids.artifact}` }),
    'POST /api/v1/plans': () => ({
      url: '/api/v1/plans',
      payload: { name: `p-${Math.random().toString(36).slice(2, 8)}`, spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } },
    }),
    'PUT /api/v1/plans/{name}': () => ({ url: '/api/v1/plans/quick', payload: { spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } } }),
    'GET /api/v1/plans': () => ({ url: '/api/v1/plans' }),
    'GET /api/v1/plans/{name}': () => ({ url: '/api/v1/plans/quick' }),
    'POST /api/v1/releases': () => ({ url: '/api/v1/releases', payload: { service: 'alpha', environment: 'prod', version: '1.0.0', plan: 'quick' } }),
    'GET /api/v1/releases': () => ({ url: '/api/v1/releases' }),
    'GET /api/v1/releases/{id}': () => ({ url: `/api/v1/releases/${rid}` }),
    'POST /api/v1/releases/{id}/retry': () => ({ url: `/api/v1/releases/${rid}/retry?wait=0`, payload: { fromStep: 0 } }),
    'GET /api/v1/stream': () => ({ url: '/api/v1/stream' }),
    'GET /api/v1/approvals': () => ({ url: '/api/v1/approvals' }),
    'GET /api/v1/dora': () => ({ url: '/api/v1/dora' }),
    'POST /api/v1/releases/{id}/break-glass': () => ({ url: `/api/v1/releases/${rid}/break-glass?wait=0`, payload: { reason: 'the matrix says so' } }),
    'POST /api/v1/releases/{id}/reject': () => ({ url: `/api/v1/releases/${rid}/reject?wait=0`, payload: { comment: 'no' } }),
  };
  for (const control of ['pause', 'resume', 'promote', 'abort', 'rollback', 'approve'])
    calls[`POST /api/v1/releases/{id}/${control}`] = () => ({ url: `/api/v1/releases/${rid}/${control}?wait=0`, payload: {} });
  return calls[`${op.method} ${op.path}`]?.();
}

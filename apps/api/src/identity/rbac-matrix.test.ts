import { ROLES, ROLE_PERMISSIONS, type Permission, type Role } from '@glidepath/core';
import { upsertUserFromSignIn } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

/**
 * Every operation of the OpenAPI document × every role × (in scope, out of scope) and
 * anonymous, called against the real API. An operation that declares no access, or that this
 * file has no request for, fails: a new route can never be open by accident.
 */
let t: Awaited<ReturnType<typeof createTestApp>>;
const ids: Record<string, string> = {};
/** role → where → bearer secret */
const tokens = {} as Record<Role, Record<'global' | 'alpha' | 'alphaProd' | 'alphaDev' | 'beta', string>>;

type Access = { kind: 'public' | 'ingest-key' | 'signed-in' } | { kind: 'permission'; permission: Permission; scope: string; peopleOnly?: boolean };
interface Operation {
  method: string;
  path: string;
  access?: Access;
  security?: unknown[];
  responses: Record<string, unknown>;
}
interface Call {
  url: string;
  payload?: unknown;
}

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** One valid request per operation, against the fixtures made in beforeAll. */
function requestFor(op: Operation): Call | undefined {
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

/** Where a role is granted for the "in scope" and "out of scope" columns of an operation. */
function placesFor(scope: string): { inScope: Array<keyof (typeof tokens)[Role]>; outOfScope: Array<keyof (typeof tokens)[Role]> } {
  switch (scope) {
    case 'global':
      return { inScope: ['global'], outOfScope: ['alpha', 'alphaProd'] };
    case 'any':
      return { inScope: ['global', 'alphaProd'], outOfScope: [] };
    case 'service-id':
    case 'service-name':
    case 'artifact-id':
      return { inScope: ['global', 'alpha'], outOfScope: ['beta', 'alphaProd'] };
    default: // environment-id, environment-name, release-id: the fixtures live in alpha/prod
      return { inScope: ['global', 'alpha', 'alphaProd'], outOfScope: ['beta', 'alphaDev'] };
  }
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
    const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: t.admin, payload: payload as object });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
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
  for (const role of ROLES) {
    tokens[role] = {
      global: await t.tokenWith(`m-${role}-global`, role),
      alpha: await t.tokenWith(`m-${role}-alpha`, role, { serviceId: ids.alpha }),
      alphaProd: await t.tokenWith(`m-${role}-alpha-prod`, role, { serviceId: ids.alpha, environmentId: ids.alphaProd }),
      alphaDev: await t.tokenWith(`m-${role}-alpha-dev`, role, { serviceId: ids.alpha, environmentId: ids.alphaDev }),
      beta: await t.tokenWith(`m-${role}-beta`, role, { serviceId: ids.beta }),
    };
  }
}, 120_000);
afterAll(() => t.close());

describe('RBAC matrix generated from the OpenAPI document', () => {
  it('calls every operation as every role, in and out of scope, and anonymously; each answers as declared', async () => {
    const doc = (await t.app.inject({ url: '/api/openapi.json', headers: t.admin })).json() as {
      paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'> & { 'x-glidepath-access'?: Access }>>;
    };
    const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({ method: method.toUpperCase(), path, access: op['x-glidepath-access'], security: op.security, responses: op.responses })),
    );
    const problems: string[] = [];
    let requests = 0;
    const tally = { allowed: 0, denied: 0, anonymous: 0 };
    for (const op of operations) {
      const name = `${op.method} ${op.path}`;
      if (!op.access) {
        problems.push(`${name}: declares no access (x-glidepath-access)`);
        continue;
      }
      const call = requestFor(op);
      if (!call) {
        problems.push(`${name}: no request in rbac-matrix.test.ts; add one`);
        continue;
      }
      const send = async (authorization?: string) => {
        requests += 1;
        const fresh = requestFor(op)!; // fresh names for creates
        return t.app.inject({
          method: op.method as 'GET',
          url: fresh.url,
          payload: fresh.payload as object | undefined,
          headers: authorization ? { authorization: `Bearer ${authorization}` } : {},
        });
      };
      const open = op.access.kind === 'public' || op.access.kind === 'ingest-key';
      if (!open) {
        if (!op.responses['401'] || !op.responses['403']) problems.push(`${name}: the document declares no 401/403 replies`);
        if (!op.security?.length) problems.push(`${name}: the document declares no security scheme`);
      }

      const anonymous = await send();
      tally.anonymous += 1;
      if (op.access.kind === 'ingest-key') {
        if (![400, 401].includes(anonymous.statusCode)) problems.push(`${name} anonymous (no ingest key): ${anonymous.statusCode}`);
      } else if (op.access.kind === 'public') {
        if ([401, 403].includes(anonymous.statusCode)) problems.push(`${name} is public but answered ${anonymous.statusCode}`);
      } else if (anonymous.statusCode !== 401) problems.push(`${name} anonymous: expected 401, got ${anonymous.statusCode}`);
      if (open) continue;

      for (const role of ROLES) {
        if (op.access.kind === 'signed-in') {
          const res = await send(tokens[role].alphaDev);
          if ([401, 403].includes(res.statusCode)) problems.push(`${name} as ${role}: any identity may call it, got ${res.statusCode}`);
          tally.allowed += 1;
          continue;
        }
        const { permission, scope, peopleOnly } = op.access as Extract<Access, { kind: 'permission' }>;
        // The matrix calls with tokens: an operation for people only refuses them all (sign-in.test and approvals.test cover people).
        const holds = ROLE_PERMISSIONS[role].includes(permission) && !peopleOnly;
        const { inScope, outOfScope } = placesFor(scope);
        for (const place of inScope) {
          const res = await send(tokens[role][place]);
          const denied = res.statusCode === 403 || res.statusCode === 401;
          if (holds && denied) problems.push(`${name} as ${role}@${place}: expected allowed, got ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (!holds && res.statusCode !== 403) problems.push(`${name} as ${role}@${place}: expected 403, got ${res.statusCode}`);
          if (!holds && res.statusCode === 403 && !res.json().error.message.includes('role')) problems.push(`${name}: 403 does not name the role`);
          tally[holds ? 'allowed' : 'denied'] += 1;
        }
        for (const place of outOfScope) {
          const res = await send(tokens[role][place]);
          if (res.statusCode !== 403) problems.push(`${name} as ${role}@${place} (out of scope): expected 403, got ${res.statusCode}`);
          tally.denied += 1;
        }
      }
    }
    console.log(
      `RBAC matrix: ${operations.length} operations, ${requests} requests (${tally.allowed} allowed, ${tally.denied} denied, ${tally.anonymous} anonymous)`,
    );
    expect(problems).toEqual([]);
    expect(operations.length).toBeGreaterThan(40);
  });
});

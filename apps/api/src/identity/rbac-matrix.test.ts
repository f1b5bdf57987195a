import { ROLES, ROLE_PERMISSIONS, type Role } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';
import { documentOperations, requestFor, seedOperationFixtures, type Access } from '../testing/operation-requests.ts';

/**
 * Every operation of the OpenAPI document × every role × (in scope, out of scope) and
 * anonymous, called against the real API. An operation that declares no access, or that this
 * file has no request for, fails: a new route can never be open by accident.
 */
let t: Awaited<ReturnType<typeof createTestApp>>;
const ids: Record<string, string> = {};
/** role → where → bearer secret */
const tokens = {} as Record<Role, Record<'global' | 'alpha' | 'alphaProd' | 'alphaDev' | 'beta', string>>;

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
  Object.assign(ids, await seedOperationFixtures(t));
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
    const { operations } = await documentOperations(t);
    const problems: string[] = [];
    let requests = 0;
    const tally = { allowed: 0, denied: 0, anonymous: 0 };
    for (const op of operations) {
      const name = `${op.method} ${op.path}`;
      if (!op.access) {
        problems.push(`${name}: declares no access (x-glidepath-access)`);
        continue;
      }
      const call = requestFor(op, ids);
      if (!call) {
        problems.push(`${name}: no request in rbac-matrix.test.ts; add one`);
        continue;
      }
      const send = async (authorization?: string) => {
        requests += 1;
        const fresh = requestFor(op, ids)!; // fresh names for creates
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

import type { DevOidcProvider } from '@glidepath/dev-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieFrom, createOidcHarness } from '../testing/oidc-harness.ts';

// Sign-in against a real OpenID provider (oidc-provider on loopback), through a real port.
let h: Awaited<ReturnType<typeof createOidcHarness>>;
let t: Awaited<ReturnType<typeof createOidcHarness>>['t'];
let provider: DevOidcProvider;
let base: string;
let api: Awaited<ReturnType<typeof createOidcHarness>>['api'];
let beginSignIn: Awaited<ReturnType<typeof createOidcHarness>>['beginSignIn'];
let callback: Awaited<ReturnType<typeof createOidcHarness>>['callback'];

beforeAll(async () => {
  h = await createOidcHarness();
  ({ t, provider, base, api, beginSignIn, callback } = h);
});
afterAll(() => h.close());

async function signIn(login: string) {
  const { session, me, done } = await h.signIn(login);
  expect(done.headers.get('location')).toBe('/releases');
  return { session, me, done };
}

/** The error message of a reply. */
async function message(response: Response | Promise<Response>): Promise<string> {
  return ((await (await response).json()) as { error: { message: string } }).error.message;
}

describe('single sign-on with OpenID Connect', () => {
  it('creates the person from the ID token on first sign-in and sets a safe session cookie', async () => {
    const { done, me } = await signIn('bob');
    const cookie = done.headers.getSetCookie().find((c) => c.startsWith('glidepath_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i); // plain http here; https public URLs get Secure
    expect(me).toMatchObject({ kind: 'user', name: 'bob@example.test', groups: ['prod-approvers'], roles: [] });
    const user = await t.prisma.appUser.findUniqueOrThrow({ where: { id: me.id } });
    expect(user).toMatchObject({ issuer: provider.issuer, subject: 'bob', email: 'bob@example.test', name: 'Bob Approver', idpGroups: ['prod-approvers'] });
    const events = await t.prisma.auditEvent.findMany({ where: { actorId: me.id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => [e.action, e.actorName])).toEqual([
      ['user.created', 'bob@example.test'],
      ['user.signed-in', 'bob@example.test'],
    ]);
    // Only the hash of the cookie's secret is stored.
    const rows = await t.prisma.userSession.findMany({ where: { userId: me.id } });
    expect(JSON.stringify(rows)).not.toContain(cookieFrom(done, 'glidepath_session'));
  });

  it('gives a signed-in person only what their groups and roles allow', async () => {
    const { session, me } = await signIn('carol');
    const denied = await api('GET', '/api/v1/services', session);
    expect(denied.status).toBe(403);
    expect(await message(denied)).toBe('carol@example.test may not read: that needs the viewer or deployer or approver or admin role granted globally');
    const granted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/role-bindings',
      headers: t.admin,
      payload: { subject: { type: 'group', id: 'prod-approvers' }, role: 'viewer' },
    });
    expect(granted.statusCode).toBe(201);
    expect((await api('GET', '/api/v1/services', session)).status).toBe(200);
    const again = (await (await api('GET', '/api/v1/me', session)).json()) as { roles: unknown[] };
    expect(again.roles).toEqual([{ role: 'viewer', service: null, environment: null }]);
    // Viewer reads but cannot write.
    const write = await api('POST', '/api/v1/services', session, { csrf: me.session.csrfToken, body: { name: 'nope' } });
    expect(write.status).toBe(403);
  });

  it("groups assigned in Glidepath count like the provider's, and are audited", async () => {
    const { session, me } = await signIn('grace');
    expect((await api('GET', '/api/v1/services', session)).status).toBe(403);
    const bind = await t.app.inject({
      method: 'POST',
      url: '/api/v1/role-bindings',
      headers: t.admin,
      payload: { subject: { type: 'group', id: 'on-call' }, role: 'viewer' },
    });
    expect(bind.statusCode).toBe(201);
    const added = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/groups/on-call/members/${me.id}`,
      headers: t.admin,
      payload: { reason: 'joins the rota' },
    });
    expect(added.json()).toMatchObject({ groups: { fromProvider: [], assigned: ['on-call'] } });
    expect((await api('GET', '/api/v1/services', session)).status).toBe(200);
    const groups = (await t.app.inject({ url: '/api/v1/groups', headers: t.admin })).json() as { items: Array<{ name: string; members: unknown[] }> };
    expect(groups.items.find((g) => g.name === 'on-call')).toEqual({ name: 'on-call', members: [{ userId: me.id, source: 'glidepath' }] });
    await t.app.inject({ method: 'DELETE', url: `/api/v1/groups/on-call/members/${me.id}`, headers: t.admin });
    expect((await api('GET', '/api/v1/services', session)).status).toBe(403);
    const actions = (await t.prisma.auditEvent.findMany({ where: { subjectType: 'group', subjectId: 'on-call' }, orderBy: { seq: 'asc' } })).map(
      (e) => e.action,
    );
    expect(actions).toEqual(['group.member-added', 'group.member-removed']);
  });

  it('protects state-changing cookie requests against CSRF: token header and same origin', async () => {
    const { session, me } = await signIn('dana');
    await t.app.inject({ method: 'POST', url: '/api/v1/role-bindings', headers: t.admin, payload: { subject: { type: 'user', id: me.id }, role: 'admin' } });
    const noToken = await api('POST', '/api/v1/services', session, { body: { name: 'csrf-a' } });
    expect(noToken.status).toBe(403);
    expect(await message(noToken)).toMatch(/^header\.x-csrf-token:/);
    const otherSite = await api('POST', '/api/v1/services', session, {
      csrf: me.session.csrfToken,
      body: { name: 'csrf-b' },
      headers: { origin: 'https://evil.example' },
    });
    expect(otherSite.status).toBe(403);
    expect(await t.prisma.service.count({ where: { name: { startsWith: 'csrf-' } } })).toBe(0);
    const ok = await api('POST', '/api/v1/services', session, { csrf: me.session.csrfToken, body: { name: 'csrf-ok' }, headers: { origin: base } });
    expect(ok.status).toBe(201);
    const event = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'service.created', subjectId: ((await ok.json()) as { id: string }).id } });
    expect(event).toMatchObject({ actorType: 'user', actorId: me.id, actorName: 'dana@example.test' });
  });

  it('signs out, and the cookie is worth nothing afterwards', async () => {
    const { session, me } = await signIn('victor');
    expect((await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie: `glidepath_session=${session}` } })).status).toBe(403);
    const out = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `glidepath_session=${session}`, 'x-csrf-token': me.session.csrfToken },
    });
    expect(await out.json()).toEqual({ signedOut: true });
    const after = await api('GET', '/api/v1/me', session);
    expect(after.status).toBe(401);
    expect(await message(after)).toMatch(/the session was ended/);
  });

  it('refuses expired, idle and tampered sessions, each saying which', async () => {
    const a = await signIn('alice');
    await t.prisma.userSession.updateMany({ where: { userId: a.me.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await message(api('GET', '/api/v1/me', a.session))).toMatch(/the session has expired/);
    const b = await signIn('alice');
    await t.prisma.userSession.updateMany({
      where: { userId: b.me.id, revokedAt: null, expiresAt: { gt: new Date() } },
      data: { lastSeenAt: new Date(Date.now() - 31 * 60_000) },
    });
    expect(await message(api('GET', '/api/v1/me', b.session))).toMatch(/period without use/);
    const c = await signIn('alice');
    const tampered = c.session.slice(0, -2) + (c.session.endsWith('AA') ? 'BB' : 'AA');
    const res = await api('GET', '/api/v1/me', tampered);
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/not a valid session/);
    expect((await api('GET', '/api/v1/me', c.session)).status).toBe(200);
  });

  it('refuses a callback with the wrong state, a replayed callback and a replayed code', async () => {
    const first = await beginSignIn('alice');
    const wrongState = new URL(first.callbackUrl);
    wrongState.searchParams.set('state', 'not-the-state');
    const refused = await callback(wrongState.toString(), first.loginCookie);
    expect(refused.headers.get('location')).toBe('/login?error=state_mismatch');
    expect(cookieFrom(refused, 'glidepath_session')).toBeUndefined();

    const second = await beginSignIn('alice');
    expect((await callback(second.callbackUrl, second.loginCookie)).headers.get('location')).toBe('/releases');
    const replayed = await callback(second.callbackUrl, second.loginCookie);
    expect(replayed.headers.get('location')).toBe('/login?error=sign_in_expired');
    // The used code with a fresh, valid sign-in: the provider refuses it.
    const third = await beginSignIn('alice');
    const reused = new URL(second.callbackUrl);
    reused.searchParams.set('state', new URL(third.callbackUrl).searchParams.get('state')!);
    const codeReplay = await callback(reused.toString(), third.loginCookie);
    expect(codeReplay.headers.get('location')).toBe('/login?error=sign_in_failed');
    expect(cookieFrom(codeReplay, 'glidepath_session')).toBeUndefined();
    // No cookie at all: nothing to resume.
    expect((await callback(third.callbackUrl, undefined)).headers.get('location')).toBe('/login?error=sign_in_expired');
  });

  it('never redirects elsewhere after sign-in', async () => {
    for (const returnTo of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      const { loginCookie, callbackUrl } = await beginSignIn('alice', `returnTo=${encodeURIComponent(returnTo)}`);
      expect((await callback(callbackUrl, loginCookie)).headers.get('location')).toBe('/');
    }
  });

  it('deactivating a person stops their sessions and their tokens at once, and their next sign-in', async () => {
    const { session, me } = await signIn('erin');
    await t.app.inject({ method: 'POST', url: '/api/v1/role-bindings', headers: t.admin, payload: { subject: { type: 'user', id: me.id }, role: 'admin' } });
    const created = await api('POST', '/api/v1/tokens', session, { csrf: me.session.csrfToken, body: { name: 'erins-ci', roles: [{ role: 'viewer' }] } });
    expect(created.status).toBe(201);
    const { token, ownerUserId } = (await created.json()) as { token: string; ownerUserId: string };
    expect(ownerUserId).toBe(me.id);
    expect((await fetch(`${base}/api/v1/services`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const off = await t.app.inject({ method: 'POST', url: `/api/v1/users/${me.id}/deactivate`, headers: t.admin, payload: { reason: 'left the company' } });
    expect(off.json()).toMatchObject({ active: false });
    expect(await message(api('GET', '/api/v1/me', session))).toMatch(/the session was ended|deactivated/);
    const tokenAfter = await fetch(`${base}/api/v1/services`, { headers: { authorization: `Bearer ${token}` } });
    expect(await message(tokenAfter)).toBe('header.authorization: the token belongs to a deactivated user');
    const { loginCookie, callbackUrl } = await beginSignIn('erin');
    expect((await callback(callbackUrl, loginCookie)).headers.get('location')).toBe('/login?error=account_deactivated');
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'user.deactivated', subjectId: me.id } });
    expect(audit).toMatchObject({ reason: 'left the company', payload: { sessionsEnded: 1 } });
  });

  it('signs a person out everywhere', async () => {
    const one = await signIn('frank');
    const two = await signIn('frank');
    const res = await api('POST', '/api/v1/me/sign-out-everywhere', one.session, { csrf: one.me.session.csrfToken });
    expect(await res.json()).toEqual({ sessionsEnded: 2 });
    expect((await api('GET', '/api/v1/me', two.session)).status).toBe(401);
  });

  it('says on the sign-in path when the issuer is down, while API tokens keep working', async () => {
    expect(await (await fetch(`${base}/auth/status`)).json()).toMatchObject({ sso: 'available', issuer: provider.issuer });
    await provider.close();
    const status = (await (await fetch(`${base}/auth/status`)).json()) as { sso: string; problem: string };
    expect(status.sso).toBe('unreachable');
    expect(status.problem).toBeTruthy();
    const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    expect(login.headers.get('location')).toBe('/login?error=issuer_unreachable');
    expect((await fetch(`${base}/api/v1/services`, { headers: t.admin })).status).toBe(200);
  });
});

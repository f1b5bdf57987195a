import { createApiToken } from '@glidepath/db';
import { startWorkerProcess, type WorkerProcess } from '@glidepath/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcHarness } from '../testing/oidc-harness.ts';

// Approvals against the real API, worker and OpenID provider. People (packages/dev-oidc):
// alice asks (release-managers: deployer of pay), bob and carol approve (prod-approvers, the
// policy's approverGroup), dana is a global admin, victor only reads.
let h: Awaited<ReturnType<typeof createOidcHarness>>;
let worker: WorkerProcess;
type Person = Awaited<ReturnType<typeof h.signIn>>;
const people: Record<string, Person> = {};
type Release = {
  id: string;
  phase: string;
  canaryWeight: number;
  reason: string | null;
  steps: Array<{ status: string; approvals: Array<Record<string, unknown>> }>;
};

async function admin(method: string, path: string, body?: unknown) {
  const res = await h.api(method, `/api/v1${path}`, undefined, { body, headers: h.t.admin });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res.json() as Promise<{ id: string }>;
}
const as = (who: string, method: string, path: string, body?: unknown) =>
  h.api(method, `/api/v1${path}`, people[who]!.session, { csrf: people[who]!.csrf, body: body ?? (method === 'GET' ? undefined : {}) });

async function until(id: string, phase: string): Promise<Release> {
  let release = {} as Release;
  await expect
    .poll(
      async () => {
        release = (await (await h.api('GET', `/api/v1/releases/${id}`, undefined, { headers: h.t.admin })).json()) as Release;
        return release.phase;
      },
      { timeout: 30_000, interval: 100 },
    )
    .toBe(phase);
  return release;
}

let version = 0;
async function requestRelease(): Promise<string> {
  version += 1;
  await admin('POST', '/artifacts', { service: 'pay', version: `1.0.${version}`, digest: `sha256:${String(version).padStart(64, '0')}` });
  const res = await as('alice', 'POST', '/releases', { service: 'pay', environment: 'prod', version: `1.0.${version}`, plan: 'steady' });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await until(id, 'awaiting-approval');
  return id;
}

beforeAll(async () => {
  h = await createOidcHarness();
  worker = startWorkerProcess({ databaseUrl: h.t.databaseUrl, queuePrefix: h.t.queuePrefix });
  await admin('POST', '/services', { name: 'pay' });
  await admin('POST', '/environments', {
    service: 'pay',
    name: 'prod',
    position: 0,
    target: { type: 'recording', config: { key: 'pay-prod' } },
    policy: { protected: true, requiredApprovals: 2, approverGroup: 'prod-approvers', approvalExpiresAfter: '1h' },
  });
  await admin('POST', '/plans', {
    name: 'steady',
    spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 50 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }] },
  });
  await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'release-managers' }, role: 'deployer', service: 'pay' });
  await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'engineering' }, role: 'viewer' });
  await admin('POST', '/role-bindings', { subject: { type: 'group', id: 'glidepath-admins' }, role: 'admin' });
  for (const login of ['alice', 'bob', 'carol', 'dana', 'victor']) people[login] = await h.signIn(login);
}, 120_000);
afterAll(async () => {
  await worker.stop();
  await h.close();
});

describe('approvals in a protected environment', () => {
  it('come from distinct people who may approve, never the requester, and bind to what they saw', async () => {
    const id = await requestRelease();

    const inbox = async (who: string) =>
      ((await (await as(who, 'GET', '/approvals')).json()) as { items: Array<Record<string, unknown> & { release: { id: string } }> }).items;
    const [item] = await inbox('bob');
    expect(item).toMatchObject({
      release: {
        id,
        service: 'pay',
        environment: 'prod',
        version: `1.0.${version}`,
        digest: `sha256:${String(version).padStart(64, '0')}`,
        plan: { name: 'steady', version: 1 },
      },
      requestedBy: 'alice@example.test',
      requiredApprovals: 2,
      group: 'prod-approvers',
      approvals: [],
      needsReauthentication: false,
    });
    expect(Date.parse(item!.expiresAt as string) - Date.parse(item!.waitingSince as string)).toBe(3_600_000);
    for (const who of ['alice', 'dana', 'victor']) expect(await inbox(who), who).toEqual([]);

    const refusal = async (res: Response) => ({ status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message });
    expect(await refusal(await as('alice', 'POST', `/releases/${id}/approve`))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/requested a release may not approve/),
    });
    // Alice through a token of hers is still alice.
    const { secret } = await createApiToken(
      h.t.audited,
      { name: 'alices-laptop', roles: [{ role: 'approver', serviceId: null, environmentId: null }], ownerUserId: people.alice!.me.id },
      { type: 'system', id: 'test' },
    );
    const viaToken = await h.api('POST', `/api/v1/releases/${id}/approve`, undefined, { headers: { authorization: `Bearer ${secret}` }, body: {} });
    expect(await refusal(viaToken)).toMatchObject({ status: 403, message: expect.stringMatching(/requested a release may not approve/) });
    // A token is not a person; an admin is not an approver.
    expect(await refusal(await h.api('POST', `/api/v1/releases/${id}/approve`, undefined, { headers: h.t.admin, body: {} }))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/come from signed-in people/),
    });
    expect(await refusal(await as('dana', 'POST', `/releases/${id}/approve`))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/may not approve here/),
    });

    const first = await as('bob', 'POST', `/releases/${id}/approve?wait=10000`, { comment: 'looks fine' });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { release: Release }).release.phase).toBe('awaiting-approval');
    // Bob again, even through a second browser session, is still one approval.
    const bobAgain = await h.signIn('bob');
    const twice = await h.api('POST', `/api/v1/releases/${id}/approve`, bobAgain.session, { csrf: bobAgain.csrf, body: {} });
    expect(await refusal(twice)).toMatchObject({ status: 409, message: expect.stringMatching(/already approved/) });
    expect((await inbox('carol'))[0]!.approvals).toEqual([{ by: 'bob@example.test', comment: 'looks fine', at: expect.any(String) }]);

    // Carol signed in too long ago: she must sign in again (OIDC max_age) before her approval counts.
    await h.t.prisma.userSession.updateMany({ where: { userId: people.carol!.me.id }, data: { authTime: new Date(Date.now() - 20 * 60_000) } });
    const stale = await as('carol', 'POST', `/releases/${id}/approve`);
    expect(stale.status).toBe(401);
    const staleBody = (await stale.json()) as { error: { code: string; details: { signIn: string } } };
    expect(staleBody.error.code).toBe('reauthentication_required');
    expect(staleBody.error.details.signIn).toBe(`/auth/login?maxAge=900&returnTo=${encodeURIComponent(`/releases/${id}`)}`);
    const fresh = await h.signIn('carol', staleBody.error.details.signIn.split('?')[1]);
    expect(fresh.done.headers.get('location')).toBe(`/releases/${id}`);
    const second = await h.api('POST', `/api/v1/releases/${id}/approve?wait=10000`, fresh.session, { csrf: fresh.csrf, body: {} });
    expect(second.status).toBe(200);
    const approved = await until(id, 'paused'); // the plan's open-ended pause, after setWeight 50
    expect(approved.canaryWeight).toBe(50);
    expect(approved.steps[0]!.approvals.map((a) => a.display)).toEqual(['bob@example.test', 'carol@example.test']);
    expect(approved.steps[0]!.approvals[0]!.binding).toEqual({
      digest: `sha256:${String(version).padStart(64, '0')}`,
      environmentId: expect.any(String),
      planVersion: 1,
      evidenceHash: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect((await admin('POST', `/releases/${id}/abort?wait=10000`, { reason: 'done with this one' })) as unknown).toBeTruthy();
    await until(id, 'aborted');
  });

  it('a reject with a comment ends the wait; a retry past the approval needs fresh approvals and shifts no traffic before them', async () => {
    const id = await requestRelease();
    const noComment = await as('bob', 'POST', `/releases/${id}/reject`, {});
    expect(noComment.status).toBe(400);
    const rejected = await as('bob', 'POST', `/releases/${id}/reject?wait=10000`, { comment: 'not during the sale' });
    expect(rejected.status).toBe(200);
    const ended = await until(id, 'rolled-back');
    expect(ended.reason).toBe('automatic rollback: rejected by bob@example.test: not during the sale');

    // Retry from after the approval step (step 1): the approval runs again first, at weight 0.
    const retried = await as('alice', 'POST', `/releases/${id}/retry?wait=10000`, { fromStep: 1 });
    expect(retried.status, await retried.clone().text()).toBe(200);
    const waiting = await until(id, 'awaiting-approval');
    expect(waiting.canaryWeight).toBe(0);
    expect(waiting.steps[0]!.approvals).toEqual([]);
    const events = await h.t.prisma.auditEvent.findMany({ where: { subjectId: id }, orderBy: { seq: 'asc' }, select: { action: true, actorName: true } });
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['release.rejected', 'release.retried']));
    expect(events.find((e) => e.action === 'release.rejected')!.actorName).toBe('bob@example.test');
    await admin('POST', `/releases/${id}/abort?wait=10000`, { reason: 'cleanup' });
  });

  it('refuses approvals on a release that is not waiting for one, and changes nothing', async () => {
    const release = (await (await h.api('GET', '/api/v1/releases?limit=1', undefined, { headers: h.t.admin })).json()) as { items: Release[] };
    const before = await h.t.prisma.releaseInbox.count();
    const res = await as('bob', 'POST', `/releases/${release.items[0]!.id}/approve`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/is not waiting for approval \(it is aborted\)/);
    expect(await h.t.prisma.releaseInbox.count()).toBe(before);
  });
});

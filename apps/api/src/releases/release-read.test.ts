import { randomUUID } from 'node:crypto';
import {
  countingApprovals,
  redactUrlCredentials,
  mayApprove,
  personKeyOf,
  storedPolicy,
  type Grant,
  type ReleaseState,
  type Role,
  type Step,
  type StepState,
} from '@glidepath/core';
import { auditEventJson, listAuditEvents, type AuditFilter, type Prisma } from '@glidepath/db';
import { seedHistory, type SeededHistory } from '@glidepath/db/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../routes/audit.routes.ts';
import { createTestApp } from '../testing/test-app.ts';
import { RELEASE_INCLUDE, releaseJson } from './release-json.ts';
import { Release, ReleaseDetail } from './release.schemas.ts';

// The hot reads answer with JSON that PostgreSQL writes (packages/db, *-read.repository.ts). This
// file holds the reads as they were (Prisma, releaseJson, auditEventJson, the route's serialiser)
// and checks, on a seeded history with the awkward cases added, that both give the same JSON:
// the same values and the same keys in the same order (whitespace aside).

let t: Awaited<ReturnType<typeof createTestApp>>;
let seeded: SeededHistory;
let reference: FastifyInstance;
let approverToken: string;
const CREDENTIAL_URL = 'https://ci-bot:s3cret-pass@hooks.example/gate?x="1"';

beforeAll(async () => {
  t = await createTestApp();
  seeded = await seedHistory(t.prisma, { services: 12, releasesPerEnvironment: 4, awaitingApproval: 9, auditEvents: 400 });
  await addAwkwardCases();
  approverToken = await t.tokenWith('release-approver', 'approver');
  reference = await referenceSerialiser();
}, 120_000);
afterAll(async () => {
  await reference?.close();
  await t.close();
});

/** States the seed does not reach: break-glass, queued, odd approvals, odd text and numbers, a URL with credentials. */
async function addAwkwardCases() {
  const edit = async (id: string, change: (state: ReleaseState & Record<string, unknown>) => void) => {
    const row = await t.prisma.release.findUniqueOrThrow({ where: { id } });
    const state = structuredClone(row.state) as unknown as ReleaseState & Record<string, unknown>;
    change(state);
    await t.prisma.release.update({ where: { id }, data: { state: state as object } });
  };
  const [a, b, c, d] = seeded.releaseIds;
  await edit(a!, (s) => {
    s.breakGlass = { by: 'user:x', display: 'ops@example.com', reason: 'checkout is down "now"', at: '2026-11-30T10:00:00.000Z' };
    s.canaryWeight = 12.5;
    s.reason = 'line one\nline two\t"quoted" \\ back \u0001 control, ünïcødé 🚀';
  });
  await edit(b!, (s) => {
    s.phase = 'queued';
    s.opensAt = '2026-12-01T08:00:00.000Z';
    (s.plan.steps[0] as Record<string, unknown>).url = CREDENTIAL_URL;
  });
  await edit(c!, (s) => {
    s.phase = 'paused';
    s.opensAt = '2026-12-01T08:00:00.000Z'; // not queued: opensAt is null in the reply
    s.steps[0]!.approvals = [
      { actorId: 'user:1', comment: null, at: '2026-11-30T10:00:00.000Z' },
      { actorId: 'user:2', display: null as unknown as string, comment: 'ok', at: '2026-11-30T10:01:00.000Z' },
      {
        actorId: 'token:3',
        display: 'ci',
        comment: 'bound',
        at: '2026-11-30T10:02:00.000Z',
        binding: { digest: 'sha256:x', environmentId: 'e', planVersion: 2, evidenceHash: 'h' },
      },
    ];
    s.steps[0]!.evidence = { summary: 'tiny 1e-7 and huge 1e21', values: [0.1, 1e-7, 1e21, -0, 3.0], nested: { z: 1, a: [null, true, { '': 'empty key' }] } };
  });
  // A rolling release rolling back: an instance never seen before, one failed, one deploying back.
  await edit(d!, (s) => {
    s.rolling = {
      target: { digest: 'sha256:new', version: '2.0.0' },
      batches: 3,
      batch: 1,
      instances: [
        { name: 'web-1', batch: 0, previous: { digest: 'sha256:old', version: '1.0.0' }, digest: 'sha256:new', inRotation: false, deploy: null },
        {
          name: 'web-2',
          batch: 1,
          previous: null,
          digest: null,
          inRotation: false,
          deploy: {
            direction: 'back',
            digest: 'sha256:old',
            version: '1.0.0',
            attempt: 2,
            status: 'failed',
            startedAt: '2026-11-30T10:00:00.000Z',
            finishedAt: null,
            wakeAt: null,
            deadline: '2026-11-30T11:00:00.000Z',
            reason: 'failed: "quoted" 🚀',
            evidence: null,
          },
        },
        { name: 'web-3', batch: 2, previous: { digest: 'sha256:old', version: '1.0.0' }, digest: 'sha256:old', inRotation: true, deploy: null },
      ],
      rollback: {
        endPhase: 'rolled-back',
        reason: 'batch 2 of 3 failed',
        groups: [['web-1', 'web-2']],
        group: 0,
        notRestored: [{ instance: 'web-2', reason: 'left out of rotation: the version it ran before is not known' }],
      },
    };
  });
  // Rolled back after success by a release of the version before (undoes / undoneBy).
  const [undone, undoing] = seeded.releaseIds.slice(-2);
  await t.prisma.release.update({ where: { id: undoing! }, data: { undoesReleaseId: undone! } });
  await t.prisma.analysisMeasurement.create({
    data: {
      releaseId: d!,
      stepIndex: 9,
      attempt: 1,
      seq: 1,
      elapsedSeconds: 0.1 + 0.2,
      outcome: 'pass',
      verdict: { outcome: 'pass', reason: 'tiny', alpha: 0.05 },
      judgeState: {},
      measuredAt: new Date('2026-11-30T10:00:00.123Z'),
    },
  });
  // An actor whose name is empty (no name key), one with a URL in a payload, one with a long reason.
  await t.audited(async (_tx, audit) => {
    await audit({ actor: { type: 'user', id: 'u-1', name: '' }, action: 'test.empty-name', subject: { type: 'service', id: 's' } });
    await audit({
      actor: { type: 'token', id: 'ci' },
      action: 'test.url',
      subject: { type: 'environment', id: seeded.environmentIds[0]! },
      environmentId: seeded.environmentIds[0]!,
      after: { url: CREDENTIAL_URL, list: [1, 2.5, 'x'] },
      reason: 'r'.repeat(300),
    });
  });
}

/** A Fastify app with the routes' response schemas and nothing else: its serialiser is the one the routes had. */
async function referenceSerialiser() {
  const app = Fastify();
  app.addSchema(Release);
  app.addSchema(ReleaseDetail);
  app.addSchema(AuditEvent);
  const page = (item: string) => Type.Object({ items: Type.Array(Type.Ref(item)), nextCursor: Type.Union([Type.String(), Type.Null()]) });
  const route = (url: string, schema: TSchema) =>
    app.post(url, { schema: { response: { 200: schema } } }, async (request) => request.body as Record<string, unknown>);
  route('/releases', page('Release'));
  route('/release', Type.Ref('ReleaseDetail'));
  route('/audit', page('AuditEvent'));
  await app.ready();
  return app;
}

async function serialised(url: string, value: unknown): Promise<string> {
  // The routes' preSerialization hook redacted credentials in URLs.
  const res = await reference.inject({ method: 'POST', url, payload: redactUrlCredentials(value) as object });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

/** JSON text with PostgreSQL's spacing and number spelling made JavaScript's; keys stay in their order. */
const normal = (json: string) => JSON.stringify(JSON.parse(json));

async function get(url: string, token = t.adminToken): Promise<string> {
  const res = await t.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return res.body;
}

// --- the reads as they were ------------------------------------------------------------------

const cursorOf = (createdAt: Date, id: string) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

/** The newest release undoing each of these. */
async function undoneByOf(ids: string[]): Promise<Map<string, string>> {
  const undoing = await t.prisma.release.findMany({
    where: { undoesReleaseId: { in: ids } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, undoesReleaseId: true },
  });
  return new Map(undoing.map((u) => [u.undoesReleaseId!, u.id]));
}

async function oldReleasePage(filter: { service?: string; environment?: string; phase?: string; environmentIds?: string[] }, limit: number, after?: string) {
  const cursor = after ? Buffer.from(after, 'base64url').toString().split('|') : undefined;
  const rows = await t.prisma.release.findMany({
    where: {
      service: filter.service ? { name: filter.service } : undefined,
      environment: filter.environment ? { name: filter.environment } : undefined,
      phase: filter.phase,
      ...(filter.environmentIds ? { environmentId: { in: filter.environmentIds } } : {}),
      OR: cursor ? [{ createdAt: { lt: new Date(cursor[0]!) } }, { createdAt: new Date(cursor[0]!), id: { lt: cursor[1]! } }] : undefined,
    },
    include: RELEASE_INCLUDE,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const undoneBy = await undoneByOf(page.map((r) => r.id));
  return serialised('/releases', {
    items: page.map((r) => releaseJson(r, undoneBy.get(r.id) ?? null)),
    nextCursor: rows.length > limit && last ? cursorOf(last.createdAt, last.id) : null,
  });
}

async function oldReleaseDetail(id: string) {
  const release = await t.prisma.release.findUniqueOrThrow({ where: { id }, include: RELEASE_INCLUDE });
  const history = await t.prisma.releaseTransition.findMany({ where: { releaseId: id }, orderBy: { version: 'asc' } });
  const measurements = await t.prisma.analysisMeasurement.findMany({
    where: { releaseId: id },
    orderBy: [{ stepIndex: 'asc' }, { attempt: 'asc' }, { seq: 'asc' }],
  });
  return serialised('/release', {
    ...releaseJson(release, (await undoneByOf([id])).get(id) ?? null),
    measurements: measurements.map((m) => ({
      stepIndex: m.stepIndex,
      attempt: m.attempt,
      seq: m.seq,
      elapsedSeconds: m.elapsedSeconds,
      outcome: m.outcome,
      verdict: m.verdict,
      measuredAt: m.measuredAt.toISOString(),
    })),
    history: history.map((h) => ({
      version: h.version,
      event: h.event,
      fromPhase: h.fromPhase,
      toPhase: h.toPhase,
      fromStep: h.fromStep,
      toStep: h.toStep,
      effects: h.effects,
      at: h.createdAt.toISOString(),
    })),
  });
}

async function oldAuditPage(filter: AuditFilter, limit: number) {
  const events = await listAuditEvents(t.prisma, filter, limit + 1);
  const page = events.slice(0, limit);
  return serialised('/audit', { items: page.map(auditEventJson), nextCursor: events.length > limit ? page.at(-1)!.seq.toString() : null });
}

/** The approvals inbox as approval.service.ts computed it, for a token holding `grants`. */
async function oldInbox(token: { id: string; name: string; grants: Grant[] }) {
  const include = {
    service: { select: { name: true } },
    environment: { select: { name: true, policy: true } },
    artifact: { select: { version: true, digest: true } },
    plan: { select: { name: true, version: true } },
  } satisfies Prisma.ReleaseInclude;
  const waiting = await t.prisma.release.findMany({ where: { phase: 'awaiting-approval' }, include, orderBy: { createdAt: 'asc' }, take: 500 });
  const items = [];
  const now = Date.now();
  for (const release of waiting) {
    const state = release.state as unknown as ReleaseState;
    const step = state.plan.steps[state.stepIndex];
    const stepState = state.steps[state.stepIndex];
    if (step?.type !== 'approval' || !stepState || state.phase !== 'awaiting-approval') continue;
    const counting = countingApprovals(state, step as Step, stepState as StepState, now);
    const decision = mayApprove(
      {
        kind: 'token',
        personKey: personKeyOf({ kind: 'token', id: token.id }),
        display: token.name,
        tokenName: token.name,
        groups: [],
        grants: token.grants,
        authTime: null,
      },
      {
        policy: storedPolicy(release.environment.policy),
        serviceId: release.serviceId,
        environmentId: release.environmentId,
        requesterKey: state.requesterKey ?? state.requestedBy,
        stepGroup: step.group,
        approvedBy: counting.map((a) => a.actorId),
        maxAuthAgeMs: 15 * 60_000,
        now,
      },
    );
    if (!decision.allowed && decision.refusal !== 'reauthenticate') continue;
    const userId = release.requestedBy.startsWith('user:') ? release.requestedBy.slice(5) : null;
    const user = userId ? await t.prisma.appUser.findUnique({ where: { id: userId } }).catch(() => null) : null;
    items.push({
      release: {
        id: release.id,
        service: release.service.name,
        environment: release.environment.name,
        version: release.artifact.version,
        digest: release.artifact.digest,
        plan: { name: release.plan.name, version: release.plan.version },
        reason: release.reason,
      },
      requestedBy: user?.email ?? user?.name ?? release.requestedBy,
      stepIndex: state.stepIndex,
      requiredApprovals: step.count,
      group: step.group,
      approvals: counting.map((a) => ({ by: a.display ?? a.actorId, comment: a.comment, at: a.at })),
      waitingSince: stepState.startedAt,
      expiresAt: stepState.wakeAt,
      evidence: state.steps.slice(0, state.stepIndex).map((s, index) => {
        const e = s.evidence as { summary?: unknown; outcome?: unknown; verdict?: { outcome?: unknown } } | null;
        const text = e && typeof e === 'object' ? (e.summary ?? e.outcome ?? e.verdict?.outcome) : null;
        return { stepIndex: index, type: state.plan.steps[index]!.type, status: s.status, summary: typeof text === 'string' ? text : null };
      }),
      needsReauthentication: !decision.allowed,
    });
  }
  return items;
}

// --- the checks ------------------------------------------------------------------------------

describe('the hot reads written by PostgreSQL give the JSON the routes gave', () => {
  it('the release list: every page, newest first, and the cursors between them', async () => {
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/releases?limit=25${cursor ? `&cursor=${cursor}` : ''}`;
      const body = await get(query);
      expect(normal(body)).toBe(await oldReleasePage({}, 25, cursor ?? undefined));
      cursor = (JSON.parse(body) as { nextCursor: string | null }).nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(seeded.releaseIds.length / 25) + (seeded.releaseIds.length % 25 === 0 ? 1 : 0));
  });

  it('the release list filtered by service, environment and phase, and for a reader of one service', async () => {
    const service = seeded.serviceNames[3]!;
    expect(normal(await get(`/api/v1/releases?service=${service}`))).toBe(await oldReleasePage({ service }, 50));
    expect(normal(await get('/api/v1/releases?environment=prod&limit=7'))).toBe(await oldReleasePage({ environment: 'prod' }, 7));
    expect(normal(await get('/api/v1/releases?phase=rolled-back'))).toBe(await oldReleasePage({ phase: 'rolled-back' }, 50));
    expect(normal(await get('/api/v1/releases?service=nothing-here'))).toBe(await oldReleasePage({ service: 'nothing-here' }, 50));
    const svc = await t.prisma.service.findUniqueOrThrow({ where: { name: service }, include: { environments: true } });
    const reader = await t.tokenWith('one-service-reader', 'viewer', { serviceId: svc.id });
    const env = svc.environments.find((e) => e.name === 'prod')!;
    const envReader = await t.tokenWith('one-env-reader', 'viewer', { serviceId: svc.id, environmentId: env.id });
    expect(normal(await get('/api/v1/releases', reader))).toBe(await oldReleasePage({ environmentIds: svc.environments.map((e) => e.id) }, 50));
    expect(normal(await get('/api/v1/releases', envReader))).toBe(await oldReleasePage({ environmentIds: [env.id] }, 50));
  });

  it('every release in detail, with its measurements and history', async () => {
    for (const id of seeded.releaseIds) expect(normal(await get(`/api/v1/releases/${id}`)), id).toBe(await oldReleaseDetail(id));
    const missing = await t.app.inject({ url: `/api/v1/releases/${randomUUID()}`, headers: t.admin });
    expect(missing.statusCode).toBe(404);
  });

  it('the audit log: pages, filters, and a named service', async () => {
    let cursor: string | null = null;
    let beforeSeq: bigint | undefined;
    do {
      const body = await get(`/api/v1/audit?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(normal(body)).toBe(await oldAuditPage({ beforeSeq }, 100));
      cursor = (JSON.parse(body) as { nextCursor: string | null }).nextCursor;
      beforeSeq = cursor ? BigInt(cursor) : undefined;
    } while (cursor);
    const env = seeded.environmentIds[0]!;
    expect(normal(await get(`/api/v1/audit?environmentId=${env}`))).toBe(await oldAuditPage({ environmentId: env }, 50));
    expect(normal(await get('/api/v1/audit?actor=PERSON1@example.com&limit=10'))).toBe(await oldAuditPage({ actor: 'PERSON1@example.com' }, 10));
    expect(normal(await get('/api/v1/audit?actorType=token&action=test.url'))).toBe(await oldAuditPage({ actorType: 'token', action: 'test.url' }, 50));
    const from = new Date(Date.now() - 3 * 86_400_000);
    const to = new Date(Date.now() - 86_400_000);
    expect(normal(await get(`/api/v1/audit?from=${from.toISOString()}&to=${to.toISOString()}`))).toBe(await oldAuditPage({ from, to }, 50));
    const service = await t.prisma.service.findUniqueOrThrow({ where: { name: seeded.serviceNames[0]! }, include: { environments: true } });
    expect(normal(await get(`/api/v1/audit?service=${service.name}&limit=20`))).toBe(
      await oldAuditPage({ service: { id: service.id, environmentIds: service.environments.map((e) => e.id) } }, 20),
    );
    const unknown = await t.app.inject({ url: '/api/v1/audit?service=no-such-service', headers: t.admin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('querystring.service: service "no-such-service" does not exist');
  });

  it('the approvals inbox', async () => {
    const token = await t.prisma.apiToken.findUniqueOrThrow({ where: { name: 'release-approver' } });
    const grants: Grant[] = [{ role: 'approver' as Role, serviceId: null, environmentId: null }];
    const res = await t.app.inject({ url: '/api/v1/approvals', headers: { authorization: `Bearer ${approverToken}` } });
    expect(res.statusCode).toBe(200);
    const { items } = res.json() as { items: unknown[] };
    const expected = await oldInbox({ id: token.id, name: token.name, grants });
    expect(items).toEqual(expected);
    expect(items.length).toBe(seeded.awaitingApprovalIds.length);
    expect(items.some((i) => (i as { approvals: unknown[] }).approvals.length > 0)).toBe(true);
  });

  it('credentials in URLs never leave, as with objects', async () => {
    const release = await get(`/api/v1/releases/${seeded.releaseIds[1]}`);
    expect(release).not.toContain('s3cret-pass');
    expect(release).toContain('https://ci-bot:***@hooks.example/gate');
    const list = await get('/api/v1/releases?limit=200');
    expect(list).not.toContain('s3cret-pass');
    expect((await get('/api/v1/audit?action=test.url')).includes('s3cret-pass')).toBe(false);
  });
});

import { createHash, randomUUID } from 'node:crypto';
import {
  approvalBinding,
  approvalExpiryMs,
  initialReleaseState,
  nextWakeAt,
  storedPolicy,
  transition,
  validatePlan,
  type CompiledPlan,
  type ReleaseEvent,
  type ReleaseState,
} from '@glidepath/core';
import { GENESIS_HASH, auditHash } from '../audit/audit-hash.ts';
import { sqlPool, type PrismaClient } from '../prisma-client.ts';

// A deployment history as the real engine would have left it, for the read benchmark and the
// tests that compare reads: every release state comes from core's transition() driven event by
// event (starts, timers, gate verdicts with judge-like evidence, approvals, rollbacks), with
// its transition rows, analysis measurements and audit events (a real hash chain).

export interface SeedOptions {
  services: number;
  /** Releases in each environment (dev, staging, prod), oldest first; only the newest may be active. */
  releasesPerEnvironment: number;
  /** Prod environments whose newest release waits for approval (at most `services`). */
  awaitingApproval: number;
  /** Audit events in all: one per release change, then filler up to this many. */
  auditEvents: number;
  /** Deterministic variety (which plan, which outcome). */
  seed?: number;
  now?: number;
}

export interface SeededHistory {
  releaseIds: string[];
  /** Newest first, as the API lists them. */
  awaitingApprovalIds: string[];
  users: Array<{ id: string; email: string }>;
  serviceNames: string[];
  environmentIds: string[];
}

const PLAN_SPECS = {
  'canary-analysis': {
    strategy: 'canary',
    steps: [
      { type: 'setWeight', weight: 10 },
      {
        type: 'analysis',
        interval: '1m',
        minDuration: '5m',
        maxDuration: '15m',
        metrics: [
          { name: 'errors', kind: 'errors' },
          { name: 'p99', kind: 'latency', thresholdMs: 300 },
        ],
      },
      { type: 'setWeight', weight: 50 },
      { type: 'pause', duration: '10m' },
      { type: 'setWeight', weight: 100 },
    ],
  },
  'canary-smoke': {
    strategy: 'canary',
    steps: [
      { type: 'setWeight', weight: 20 },
      { type: 'smoke', checks: [{ path: '/healthz' }, { path: '/api/orders?limit=1', expectStatus: 200, maxLatency: '500ms' }], retries: 1 },
      { type: 'pause', duration: '5m' },
      { type: 'setWeight', weight: 100 },
    ],
  },
  manual: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 5 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }] },
} as const;

/** A small deterministic generator (mulberry32), so two runs seed the same history. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Judge-shaped evidence: two metrics, each with its sequential test, at one look. */
function verdictAt(outcome: 'pass' | 'fail', look: number, at: number, rnd: () => number) {
  const side = (total: number, rate: number) => ({ total, events: Math.round(total * rate), rate: Number(rate.toFixed(6)) });
  const test = (label: string, thresholdMs: number | null) => {
    const canaryRate = outcome === 'fail' ? 0.04 + rnd() * 0.02 : 0.004 + rnd() * 0.002;
    const baselineRate = 0.004 + rnd() * 0.002;
    return {
      label,
      ...(thresholdMs === null ? {} : { thresholdMs }),
      canary: side(1200 * look, canaryRate),
      baseline: side(10800 * look, baselineRate),
      rateRatio: Number((canaryRate / baselineRate).toFixed(4)),
      tolerance: 1.5,
      alpha: 0.01,
      logEValue: Number((outcome === 'fail' ? 5 + look : -0.3 * look).toFixed(4)),
      maxLogEValue: Number((outcome === 'fail' ? 5 + look : 0.2).toFixed(4)),
      logThreshold: 4.6052,
      outcome,
    };
  };
  const metric = (name: string, kind: 'errors' | 'latency', thresholdMs: number | null) => ({
    name,
    kind,
    outcome,
    reason: outcome === 'pass' ? `${name}: canary within 1.5× of baseline` : `${name}: canary worse than 1.5× baseline`,
    alpha: 0.01,
    tests: [test(kind === 'errors' ? 'error rate' : `share slower than ${thresholdMs} ms`, thresholdMs)],
  });
  return {
    outcome,
    reason: outcome === 'pass' ? 'every metric passed' : 'errors failed',
    elapsedSeconds: look * 60,
    at: new Date(at).toISOString(),
    alpha: 0.01,
    metrics: [metric('errors', 'errors', null), metric('p99', 'latency', 300)],
    source: { type: 'prometheus', from: new Date(at - look * 60_000).toISOString(), to: new Date(at).toISOString() },
    look,
  };
}

interface Simulated {
  state: ReleaseState;
  transitions: Array<{
    version: number;
    event: ReleaseEvent;
    fromPhase: string;
    toPhase: string;
    fromStep: number;
    toStep: number;
    effects: unknown;
    at: number;
  }>;
  measurements: Array<{ stepIndex: number; attempt: number; seq: number; elapsedSeconds: number; outcome: string; verdict: unknown; at: number }>;
  end: number;
}

type Goal = 'succeeded' | 'rolled-back' | 'aborted' | 'awaiting-approval' | 'half-approved' | 'progressing' | 'paused';

/** Drives a release through core's state machine until it reaches `goal` (or ends). */
function simulate(
  plan: CompiledPlan,
  requester: string,
  subject: ReleaseState['subject'],
  start: number,
  goal: Goal,
  approvers: string[],
  rnd: () => number,
): Simulated {
  let state: ReleaseState = { ...initialReleaseState(plan, requester), requesterKey: requester, subject, breakGlass: null };
  let now = start;
  const sim: Simulated = { state, transitions: [], measurements: [], end: start };
  const apply = (event: ReleaseEvent) => {
    const result = transition(state, event, now);
    if (!result.ok) throw new Error(`seed: ${event.type} refused: ${result.reason}`);
    if (!result.changed) return;
    sim.transitions.push({
      version: sim.transitions.length + 1,
      event,
      fromPhase: state.phase,
      toPhase: result.state.phase,
      fromStep: state.stepIndex,
      toStep: result.state.stepIndex,
      effects: result.effects,
      at: now,
    });
    state = result.state;
  };
  apply({ type: 'start' });
  for (let guard = 0; guard < 100; guard++) {
    now += 20_000 + Math.floor(rnd() * 40_000);
    const terminal = ['succeeded', 'rolled-back', 'aborted', 'failed'].includes(state.phase);
    if (terminal || state.phase === goal) break;
    const step = plan.steps[state.stepIndex];
    const s = state.steps[state.stepIndex];
    if (!step || !s) break;
    if (goal === 'aborted' && state.stepIndex >= 1) {
      apply({ type: 'abort', actorId: approvers[0]!, reason: 'wrong build' });
      continue;
    }
    if (state.phase === 'awaiting-approval') {
      if (goal === 'half-approved' && s.approvals.length > 0) break;
      const approver = approvers[s.approvals.length % approvers.length]!;
      const binding = approvalBinding(state);
      apply({ type: 'approve', actorId: approver, display: `${approver.slice(5, 13)}@example.com`, comment: 'looks good', ...(binding ? { binding } : {}) });
      continue;
    }
    if (state.phase === 'paused') {
      if (goal === 'paused') break;
      apply({ type: 'resume', actorId: approvers[0]! });
      continue;
    }
    if (goal === 'progressing' && state.stepIndex >= 2) break;
    switch (step.type) {
      case 'pause':
      case 'hold':
        now = Date.parse(s.wakeAt ?? new Date(now).toISOString());
        apply({ type: 'timer' });
        break;
      case 'analysis': {
        const outcome = goal === 'rolled-back' ? 'fail' : 'pass';
        const looks = outcome === 'fail' ? 3 : 5;
        let verdict: ReturnType<typeof verdictAt> | undefined;
        for (let look = 1; look <= looks; look++) {
          verdict = verdictAt(look < looks ? 'pass' : outcome, look, now + look * 60_000, rnd);
          sim.measurements.push({
            stepIndex: state.stepIndex,
            attempt: s.attempt,
            seq: look,
            elapsedSeconds: look * 60 + Math.round(rnd() * 1000) / 1000,
            outcome: verdict.outcome,
            verdict,
            at: now + look * 60_000,
          });
        }
        now += looks * 60_000;
        apply({ type: 'gate-verdict', stepIndex: state.stepIndex, attempt: s.attempt, outcome, evidence: verdict, summary: verdict!.reason });
        break;
      }
      case 'smoke': {
        const outcome = goal === 'rolled-back' ? 'fail' : 'pass';
        const baseUrl = 'http://canary.internal:8080';
        const rounds = [step.checks.map((c, i) => ({ path: c.path, ok: outcome === 'pass', status: outcome === 'pass' ? 200 : 503, ms: 12 + i * 7 }))];
        const summary = outcome === 'pass' ? `smoke: ${step.checks.length} check(s) passed against ${baseUrl}` : 'smoke failed after 1 round(s)';
        apply({ type: 'gate-verdict', stepIndex: state.stepIndex, attempt: s.attempt, outcome, evidence: { baseUrl, rounds }, summary });
        break;
      }
      case 'webhook':
        apply({ type: 'gate-verdict', stepIndex: state.stepIndex, attempt: s.attempt, outcome: 'pass', evidence: { status: 200 }, summary: 'ci said pass' });
        break;
      default:
        apply({ type: 'timer' });
    }
  }
  sim.state = state;
  sim.end = now;
  return sim;
}

/** Seeds `services` services with dev, staging and prod, their releases, and the audit log. */
export async function seedHistory(prisma: PrismaClient, options: SeedOptions): Promise<SeededHistory> {
  const rnd = random(options.seed ?? 7);
  const now = options.now ?? Date.now();
  const users = Array.from({ length: 6 }, (_, i) => ({ id: randomUUID(), email: `person${i}@example.com` }));
  await prisma.appUser.createMany({
    data: users.map((u, i) => ({ id: u.id, issuer: 'https://idp.example', subject: `sub-${i}`, email: u.email, name: `Person ${i}` })),
  });
  const plans = Object.entries(PLAN_SPECS).map(([name, spec]) => {
    const checked = validatePlan(spec);
    if (!checked.ok) throw new Error(`seed plan ${name}: ${JSON.stringify(checked.problems)}`);
    return { id: randomUUID(), name, version: 1, spec, compiled: checked.plan };
  });
  await prisma.releasePlan.createMany({
    data: plans.map((p) => ({ id: p.id, name: p.name, version: p.version, spec: p.spec as object, compiled: p.compiled as object, createdBy: 'seed' })),
  });

  const releases: Array<Record<string, unknown> & { id: string; createdAt: Date }> = [];
  const transitions: Array<Record<string, unknown>> = [];
  const measurements: Array<Record<string, unknown>> = [];
  const audit: Array<{ action: string; subjectId: string; environmentId: string; at: number; actorId: string; after?: unknown; payload?: unknown }> = [];
  const awaiting: Array<{ id: string; createdAt: number }> = [];
  const serviceNames: string[] = [];
  const environmentIds: string[] = [];
  const start = now - options.services * 3 * options.releasesPerEnvironment * 3_600_000;
  let clock = start;

  for (let si = 0; si < options.services; si++) {
    const service = { id: randomUUID(), name: `service-${String(si).padStart(3, '0')}` };
    serviceNames.push(service.name);
    await prisma.service.create({ data: { ...service, description: `seeded service ${si}`, owners: ['team-a'] } });
    const artifacts = Array.from({ length: options.releasesPerEnvironment }, (_, v) => ({
      id: randomUUID(),
      serviceId: service.id,
      version: `1.${v}.0`,
      digest: digestOf(`${service.name}@1.${v}.0`),
      commitSha: createHash('sha1').update(`${si}-${v}`).digest('hex').slice(0, 12),
      metadata: { branch: 'main', pipeline: `https://ci.example/pipelines/${si * 1000 + v}` },
    }));
    await prisma.artifact.createMany({ data: artifacts });
    for (const [position, envName] of ['dev', 'staging', 'prod'].entries()) {
      const prod = envName === 'prod';
      const policy = prod ? { requiredApprovals: 1 + (si % 2), approverGroup: 'release-managers' } : {};
      const environment = { id: randomUUID(), serviceId: service.id, name: envName, position };
      environmentIds.push(environment.id);
      await prisma.environment.create({
        data: {
          ...environment,
          requireUpstreamSuccess: prod,
          target: { type: 'recording', config: { key: `${service.name}-${envName}` } },
          metrics: { type: 'prometheus', config: { url: 'http://prometheus.internal:9090', query: 'http_requests_total' } },
          policy,
          smokeBaseUrl: 'http://canary.internal:8080',
        },
      });
      const stored = storedPolicy(policy);
      for (let n = 0; n < options.releasesPerEnvironment; n++) {
        const newest = n === options.releasesPerEnvironment - 1;
        const roll = rnd();
        let goal: Goal = roll < 0.8 ? 'succeeded' : roll < 0.92 ? 'rolled-back' : 'aborted';
        if (newest && prod && si < options.awaitingApproval) goal = si % 3 === 1 ? 'half-approved' : 'awaiting-approval';
        else if (newest && !prod && si % 4 === 0) goal = envName === 'dev' ? 'progressing' : 'paused';
        const plan = plans[goal === 'paused' ? 2 : goal === 'rolled-back' ? (n % 2 === 0 ? 0 : 1) : Math.floor(rnd() * 2)]!;
        const compiled: CompiledPlan =
          stored.requiredApprovals > 0
            ? {
                ...plan.compiled,
                steps: [
                  { type: 'approval', group: stored.approverGroup, count: stored.requiredApprovals, expiresAfterMs: approvalExpiryMs(stored) },
                  ...plan.compiled.steps,
                ],
              }
            : plan.compiled;
        const artifact = artifacts[n]!;
        const requester = `user:${users[n % users.length]!.id}`;
        const approvers = users.filter((u) => `user:${u.id}` !== requester).map((u) => `user:${u.id}`);
        clock += 3_600_000 + Math.floor(rnd() * 600_000);
        const createdAt = clock;
        const sim = simulate(
          compiled,
          requester,
          { digest: artifact.digest, environmentId: environment.id, planVersion: plan.version },
          createdAt + 500,
          goal,
          approvers,
          rnd,
        );
        const id = randomUUID();
        const state = sim.state;
        releases.push({
          id,
          serviceId: service.id,
          environmentId: environment.id,
          artifactId: artifact.id,
          planId: plan.id,
          phase: state.phase,
          stepIndex: state.stepIndex,
          state: state as object,
          version: sim.transitions.length,
          requestedBy: requester,
          reason: n % 3 === 0 ? `ticket OPS-${1000 + n}` : null,
          wakeAt: nextWakeAt(state) ? new Date(nextWakeAt(state)!) : null,
          createdAt: new Date(createdAt),
          updatedAt: new Date(sim.end),
          startedAt: state.startedAt ? new Date(state.startedAt) : null,
          finishedAt: state.finishedAt ? new Date(state.finishedAt) : null,
        });
        if (state.phase === 'awaiting-approval') awaiting.push({ id, createdAt });
        audit.push({
          action: 'release.created',
          subjectId: id,
          environmentId: environment.id,
          at: createdAt,
          actorId: requester,
          after: { service: service.name, environment: envName, version: artifact.version, digest: artifact.digest, plan: { name: plan.name, version: 1 } },
        });
        for (const t of sim.transitions) {
          transitions.push({
            releaseId: id,
            version: t.version,
            event: t.event as object,
            fromPhase: t.fromPhase,
            toPhase: t.toPhase,
            fromStep: t.fromStep,
            toStep: t.toStep,
            effects: t.effects as object,
            createdAt: new Date(t.at),
          });
          audit.push({
            action: t.toPhase !== t.fromPhase ? `release.${t.toPhase}` : 'release.step-advanced',
            subjectId: id,
            environmentId: environment.id,
            at: t.at,
            actorId: 'worker',
            payload: { version: t.version, event: t.event, fromStep: t.fromStep, toStep: t.toStep },
          });
        }
        for (const m of sim.measurements)
          measurements.push({
            releaseId: id,
            stepIndex: m.stepIndex,
            attempt: m.attempt,
            seq: m.seq,
            elapsedSeconds: m.elapsedSeconds,
            outcome: m.outcome,
            verdict: m.verdict as object,
            judgeState: { looks: m.seq },
            measuredAt: new Date(m.at),
          });
      }
    }
  }
  for (let i = 0; i < releases.length; i += 200) await prisma.release.createMany({ data: releases.slice(i, i + 200) as never });
  for (let i = 0; i < transitions.length; i += 1000) await prisma.releaseTransition.createMany({ data: transitions.slice(i, i + 1000) as never });
  for (let i = 0; i < measurements.length; i += 1000) await prisma.analysisMeasurement.createMany({ data: measurements.slice(i, i + 1000) as never });
  await appendAuditHistory(prisma, audit, options.auditEvents, clock, rnd);
  return {
    releaseIds: releases.map((r) => r.id),
    awaitingApprovalIds: awaiting.sort((a, b) => b.createdAt - a.createdAt).map((a) => a.id),
    users,
    serviceNames,
    environmentIds,
  };
}

/** The audit events of the seeded history (then filler up to `total`) in one chain, inserted in batches. */
async function appendAuditHistory(
  prisma: PrismaClient,
  history: Array<{ action: string; subjectId: string; environmentId: string; at: number; actorId: string; after?: unknown; payload?: unknown }>,
  total: number,
  last: number,
  rnd: () => number,
): Promise<void> {
  const events = [...history].sort((a, b) => a.at - b.at);
  for (let i = events.length; i < total; i++)
    events.push({
      action: ['service.updated', 'environment.updated', 'artifact.registered', 'token.created'][i % 4]!,
      subjectId: `filler-${i}`,
      environmentId: '',
      at: last + i * 1000,
      actorId: 'admin',
      after: { replicas: i % 7, owners: ['team-a', 'team-b'], note: 'https://runbooks.example/deploys' },
    });
  const pool = sqlPool(prisma);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const head = (await client.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_chain_head FOR UPDATE')).rows[0]!;
    let seq = BigInt(head.seq);
    let prev = head.hash ?? GENESIS_HASH;
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500).map((e) => {
        seq += 1n;
        const person = e.actorId.startsWith('user:');
        const fields = {
          seq,
          id: randomUUID(),
          actorType: person ? 'user' : 'system',
          actorId: person ? e.actorId.slice(5) : e.actorId,
          actorName: person ? `person${Math.floor(rnd() * 6)}@example.com` : null,
          action: e.action,
          subjectType: e.action.split('.')[0]!,
          subjectId: e.subjectId,
          environmentId: e.environmentId || null,
          before: null,
          after: e.after ?? null,
          payload: e.payload ?? null,
          reason: null,
          requestId: `seed-${seq}`,
          createdAt: new Date(e.at),
        };
        const hash = auditHash(prev, fields);
        const row = { ...fields, prevHash: prev, hash };
        prev = hash;
        return row;
      });
      const columns = [
        'seq',
        'id',
        'actor_type',
        'actor_id',
        'actor_name',
        'action',
        'subject_type',
        'subject_id',
        'environment_id',
        'before',
        'after',
        'payload',
      ];
      const more = ['reason', 'request_id', 'created_at', 'prev_hash', 'hash'];
      await client.query(
        `INSERT INTO audit_event (${[...columns, ...more].join(', ')})
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::"ActorType"[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                              $10::jsonb[], $11::jsonb[], $12::jsonb[], $13::text[], $14::text[], $15::timestamptz[], $16::text[], $17::text[])`,
        [
          batch.map((r) => r.seq.toString()),
          batch.map((r) => r.id),
          batch.map((r) => r.actorType),
          batch.map((r) => r.actorId),
          batch.map((r) => r.actorName),
          batch.map((r) => r.action),
          batch.map((r) => r.subjectType),
          batch.map((r) => r.subjectId),
          batch.map((r) => r.environmentId),
          batch.map((r) => (r.before === null ? null : JSON.stringify(r.before))),
          batch.map((r) => (r.after === null ? null : JSON.stringify(r.after))),
          batch.map((r) => (r.payload === null ? null : JSON.stringify(r.payload))),
          batch.map((r) => r.reason),
          batch.map((r) => r.requestId),
          batch.map((r) => r.createdAt),
          batch.map((r) => r.prevHash),
          batch.map((r) => r.hash),
        ],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

// README command 1's live demo, driven entirely through Glidepath's REST API against the
// real stack of stack.ts (HAProxy, Prometheus, sample apps, steady traffic):
//
//   1. registers service demo-shop, environments dev → staging → prod (HAProxy targets,
//      Prometheus metrics; prod protected), the canary plan demo-canary and artifacts
//      1.1.0 (good) and 1.2.0 (bad: 5× the error rate, slower);
//   2. a good release of 1.1.0 in dev, then the same digest promoted to staging;
//   3. meanwhile, once dev succeeded, a bad release of 1.2.0 in dev, which the analysis
//      catches and rolls back: its evidence is printed.
//
// Re-runnable: what exists already is reused (environments are pointed at the new stack,
// the plan gets a new version, releases a previous run left active are aborted).
// Run it with demo/main.ts, which starts the stack and waits for the API.
import { createHash } from 'node:crypto';
import { createGlidepathClient, type GlidepathClient, type paths, type Schemas } from '@glidepath/client';
import { signInAtProvider } from '@glidepath/dev-oidc';
import type { Behaviour, Stack } from './stack.ts';

export const DEMO_SERVICE = 'demo-shop';
export const DEMO_ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export const DEMO_PLAN = 'demo-canary';
export const BASELINE_VERSION = '1.0.0';
export const GOOD_VERSION = '1.1.0';
export const BAD_VERSION = '1.2.0';
/**
 * 2 % errors rather than a more realistic 0.5 %: the analysis needs enough error events in
 * its window to tell 5× apart from 1× before it reaches its minimum canary sample (500
 * requests, ~35 s at 10 % of 150 requests/s) and passes. Simulated with the judge: at 0.5 %
 * vs 2.5 % the error metric alone catches the bad release only about half the time; at 2 % vs
 * 10 % always, typically within 12 s, and it never fails the good one.
 */
export const STABLE_BEHAVIOUR: Behaviour = { errorRate: 0.02, latencyMs: 20 };
/** 5× the baseline's error rate, and 75 % slower. */
export const BAD_BEHAVIOUR: Behaviour = { errorRate: 0.1, latencyMs: 35 };

export const DEMO_PLAN_SPEC: Schemas['PlanSpec'] = {
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight: 10 },
    {
      type: 'analysis',
      interval: '2s',
      minDuration: '20s',
      maxDuration: '90s',
      metrics: [
        { name: 'error-rate', kind: 'errors', tolerance: 1.5 },
        { name: 'latency', kind: 'latency', tolerance: 1.5 },
      ],
    },
    { type: 'setWeight', weight: 50 },
    { type: 'analysis', interval: '2s', minDuration: '20s', maxDuration: '90s' },
    { type: 'setWeight', weight: 100 },
  ],
};

const TERMINAL = new Set(['succeeded', 'rolled-back', 'aborted', 'failed']);
/** Phases that hold an environment (a new release there is refused). */
const HOLDING = new Set(['pending', 'queued', 'awaiting-approval', 'progressing', 'paused', 'failed']);

export type Release = Schemas['ReleaseDetail'];
type ProviderSpec = Schemas['Environment']['target'];
export type ReleaseStep = Release['steps'][number];

export interface DemoOptions {
  /** Base URL of Glidepath, e.g. http://127.0.0.1:3000 */
  api: string;
  /** An admin (or deployer + admin) bearer token. */
  token: string;
  stack: Stack;
  log?: (line: string) => void;
  /** The environment target; default stack.haproxyTarget(env). */
  target?: (env: string) => unknown;
  /** Called with every polled state of a release (e.g. for tests). */
  onRelease?: (release: Release) => void | Promise<void>;
  /** Per release; default 10 minutes. */
  releaseTimeoutMs?: number;
  /** Aborting it stops the demo: polling ends and the releases it started are aborted. */
  signal?: AbortSignal;
  /**
   * The production release waits for a demo approver (bob, in prod-approvers). With `approveAs`
   * the demo signs that person in through the OpenID flow and approves itself (CI); without, it
   * waits for someone to approve in the dashboard.
   */
  approveAs?: string;
}

export interface DemoResult {
  /** true when the good releases succeeded and the bad one was rolled back. */
  ok: boolean;
  releases: Array<{ label: string; expected: string; release: Release }>;
  dashboardUrl: string;
}

export class GlidepathError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** Deterministic, so that re-registering a version is a no-op rather than a digest conflict. */
export function demoDigest(version: string): string {
  return `sha256:${createHash('sha256').update(`glidepath-demo/${DEMO_SERVICE}@${version}`).digest('hex')}`;
}

export interface DemoClient {
  api: GlidepathClient;
  /** Glidepath's base URL, without a trailing slash. */
  base: string;
}

/** The generated API client as the demo uses it: every call bounded by 15 s and by the demo's own signal. */
export function createApiClient(api: string, token: string, signal?: AbortSignal): DemoClient {
  const base = api.replace(/\/+$/, '');
  const timed: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(15_000);
    return fetch(input, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  };
  return { api: createGlidepathClient({ baseUrl: base, token, fetch: timed }), base };
}

type Reply<T> = { data?: T; error?: unknown; response: Response };

/**
 * A call that must answer one of `ok` (default: any 2xx): its status and data; anything else
 * throws with Glidepath's own message.
 */
export async function expectReply<T>(call: Promise<Reply<T>>, what: string, ok?: number[]): Promise<{ status: number; data: T }> {
  const { data, error, response } = await call;
  const accepted = ok ? ok.includes(response.status) : response.ok;
  if (!accepted) {
    const e = ((error as { error?: { code?: string; message?: string } } | undefined)?.error ?? {}) as { code?: string; message?: string };
    throw new GlidepathError(`${what} answered ${response.status}${e.code ? ` ${e.code}` : ''}: ${e.message ?? JSON.stringify(error)}`, response.status, error);
  }
  return { status: response.status, data: data as T };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const percent = (rate: number | null | undefined) => (rate === null || rate === undefined ? 'n/a' : `${(rate * 100).toFixed(2)} %`);

/** Human lines for a step's evidence: the analysis verdict per metric, or the JSON as is. */
export function describeEvidence(evidence: unknown): string[] {
  if (evidence === null || evidence === undefined) return ['(no evidence recorded)'];
  const e = evidence as {
    outcome?: string;
    reason?: string;
    elapsedSeconds?: number;
    noData?: boolean;
    source?: { type?: string; window?: string } | null;
    metrics?: Array<{
      name: string;
      kind: string;
      outcome: string;
      reason: string;
      tests?: Array<{
        label: string;
        canary: { total: number; events: number; rate: number | null };
        baseline: { total: number; events: number; rate: number | null };
        rateRatio: number | null;
        tolerance: number;
        maxLogEValue?: number;
        logThreshold?: number;
        outcome: string;
      }>;
    }>;
  };
  if (!Array.isArray(e.metrics)) return [JSON.stringify(evidence).slice(0, 1500)];
  const lines = [
    `verdict ${e.outcome ?? '?'}: ${e.reason ?? ''}${e.elapsedSeconds !== undefined ? ` (after ${e.elapsedSeconds.toFixed(0)} s` : ''}` +
      `${e.source?.type ? `, ${e.source.type} window ${e.source.window ?? '?'}` : ''}${e.elapsedSeconds !== undefined ? ')' : ''}${e.noData ? ' [no data]' : ''}`,
  ];
  for (const m of e.metrics) {
    lines.push(`  ${m.name} (${m.kind}): ${m.outcome} — ${m.reason}`);
    for (const t of m.tests ?? []) {
      lines.push(
        `    ${t.label}: canary ${t.canary.events}/${t.canary.total} (${percent(t.canary.rate)}) vs baseline ${t.baseline.events}/${t.baseline.total} (${percent(t.baseline.rate)})` +
          `, ratio ${t.rateRatio === null ? 'n/a' : t.rateRatio.toFixed(2)} (tolerance ${t.tolerance})` +
          (t.maxLogEValue !== undefined && t.logThreshold !== undefined
            ? `, evidence ${t.maxLogEValue.toFixed(2)} of ${t.logThreshold.toFixed(2)} needed to fail`
            : '') +
          ` → ${t.outcome}`,
      );
    }
  }
  return lines;
}

/** Roles for the demo groups: who asks, who approves prod, who administers, who reads. */
type RoleGrant = paths['/api/v1/role-bindings']['post']['requestBody']['content']['application/json'];

function demoRoleBindings(): RoleGrant[] {
  const group = (id: string) => ({ type: 'group' as const, id });
  return [
    { subject: group('engineering'), role: 'viewer' },
    { subject: group('release-managers'), role: 'deployer', service: DEMO_SERVICE },
    { subject: group('release-managers'), role: 'viewer' },
    { subject: group('prod-approvers'), role: 'approver', service: DEMO_SERVICE, environment: 'prod' },
    { subject: group('prod-approvers'), role: 'viewer' },
    { subject: group('glidepath-admins'), role: 'admin' },
  ];
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { stack, signal } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const client = createApiClient(options.api, options.token, signal);
  const dashboardUrl = `${client.base}/`;
  const targetOf = options.target ?? ((env: string) => stack.haproxyTarget(env));
  const releaseTimeoutMs = options.releaseTimeoutMs ?? 10 * 60_000;
  const started = new Set<string>();
  const t0 = Date.now();
  const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s`;

  try {
    // --- Catalog -----------------------------------------------------------------------------
    log(`Glidepath at ${client.base}: registering ${DEMO_SERVICE}`);
    const service = await expectReply(
      client.api.POST('/api/v1/services', {
        body: { name: DEMO_SERVICE, description: 'Sample shop service of the Glidepath live demo (demo/sample-app.ts)', owners: ['demo'] },
      }),
      'POST /api/v1/services',
      [201, 409],
    );
    log(`  service ${DEMO_SERVICE}: ${service.status === 201 ? 'created' : 'exists already'}`);

    const existing = (await expectReply(client.api.GET('/api/v1/environments', { params: { query: { service: DEMO_SERVICE } } }), 'GET /api/v1/environments'))
      .data;
    for (const [position, name] of DEMO_ENVIRONMENTS.entries()) {
      const target = targetOf(name);
      const metrics = stack.prometheusMetrics();
      const policy = name === 'prod' ? { protected: true, requiredApprovals: 1, approverGroup: 'prod-approvers' } : {};
      const found = existing.items.find((e) => e.name === name);
      try {
        if (!found) {
          await expectReply(
            client.api.POST('/api/v1/environments', { body: { service: DEMO_SERVICE, name, position, target: target as ProviderSpec, metrics, policy } }),
            'POST /api/v1/environments',
          );
          log(`  environment ${name} (position ${position}): created → ${describeTarget(target)}`);
        } else {
          // A re-run has a new stack (another socket, other ports): point the environment at it.
          await expectReply(
            client.api.PATCH('/api/v1/environments/{id}', {
              params: { path: { id: found.id } },
              body: { target: target as ProviderSpec, metrics, policy, reason: 'demo: point at the new demo stack' },
            }),
            'PATCH /api/v1/environments',
          );
          log(`  environment ${name}: exists, now → ${describeTarget(target)}`);
        }
      } catch (error) {
        if (error instanceof GlidepathError && (error.status === 422 || error.status === 400)) {
          throw new Error(
            `Glidepath refused environment ${name} (target type "${(target as { type?: string }).type}", metrics type "${metrics.type}"): ${error.message}. ` +
              'This Glidepath build may not support these types yet.',
          );
        }
        throw error;
      }
    }

    // The groups of the development OpenID provider's demo people (packages/dev-oidc) get their roles.
    for (const grant of demoRoleBindings()) {
      await expectReply(client.api.POST('/api/v1/role-bindings', { body: { ...grant, reason: 'demo people' } }), 'POST /api/v1/role-bindings', [201, 409]);
    }
    log('  people: release-managers deploy, prod-approvers approve prod, glidepath-admins administer, everyone signed in reads');

    const plan = await expectReply(
      client.api.POST('/api/v1/plans', { body: { name: DEMO_PLAN, spec: DEMO_PLAN_SPEC, reason: 'demo' } }),
      'POST /api/v1/plans',
      [201, 409],
    );
    if (plan.status === 201) log(`  plan ${DEMO_PLAN}: created (version ${plan.data.version})`);
    else {
      const updated = await expectReply(
        client.api.PUT('/api/v1/plans/{name}', { params: { path: { name: DEMO_PLAN } }, body: { spec: DEMO_PLAN_SPEC, reason: 'demo: re-run' } }),
        'PUT /api/v1/plans',
      );
      log(`  plan ${DEMO_PLAN}: exists, saved as version ${updated.data.version}`);
    }

    for (const version of [GOOD_VERSION, BAD_VERSION]) {
      const artifact = await expectReply(
        client.api.POST('/api/v1/artifacts', {
          body: {
            service: DEMO_SERVICE,
            version,
            digest: demoDigest(version),
            commitSha: 'abcdef1',
            buildUrl: `https://ci.example/builds/${version.replaceAll('.', '')}`,
          },
        }),
        'POST /api/v1/artifacts',
      );
      log(`  artifact ${version}: ${artifact.status === 201 ? 'registered' : 'registered already'} (${demoDigest(version).slice(0, 19)}…)`);
    }

    // A previous run stopped half-way may have left releases holding dev or staging.
    for (const env of ['dev', 'staging', 'prod']) {
      const list = (
        await expectReply(
          client.api.GET('/api/v1/releases', { params: { query: { service: DEMO_SERVICE, environment: env, limit: 20 } } }),
          'GET /api/v1/releases',
        )
      ).data;
      for (const old of list.items.filter((r) => HOLDING.has(r.phase))) {
        log(`  release ${old.id} (${old.artifact.version}) still ${old.phase} in ${env} from an earlier run: aborting it`);
        await expectReply(
          client.api.POST('/api/v1/releases/{id}/abort', { params: { path: { id: old.id }, query: { wait: 10_000 } }, body: { reason: 'demo: re-run' } }),
          'POST /api/v1/releases/{id}/abort',
        );
      }
    }

    // --- Releases ----------------------------------------------------------------------------
    /** What a deploy system does before a release: the new build on the canary servers, no traffic yet. */
    const deploy = async (env: string, version: string, behaviour: Behaviour) => {
      const weights = await stack.getWeights(env);
      if (stack.slot(env, 'stable').version !== stack.slot(env, 'canary').version && weights.canary > 0 && weights.stable === 0) {
        // The last release promoted the canary slot: the stable servers get that version first.
        const serving = stack.slot(env, 'canary');
        await stack.redeploy(env, 'stable', serving.version, serving.behaviour);
        log(`${clock()} [${env}] deploy: stable servers now run ${serving.version} (what the canary servers serve)`);
      }
      await stack.setWeights(env, { stable: 100, canary: 0 });
      await stack.redeploy(env, 'canary', version, behaviour);
      log(
        `${clock()} [${env}] deploy: canary servers run ${version} (errors ${(behaviour.errorRate * 100).toFixed(1)} %, ~${behaviour.latencyMs} ms), weights stable 100 / canary 0`,
      );
    };

    const release = async (env: string, version: string, reason: string, onAwaitingApproval?: (r: Release) => Promise<void>): Promise<Release> => {
      const first = (
        await expectReply(
          client.api.POST('/api/v1/releases', { body: { service: DEMO_SERVICE, environment: env, version, plan: DEMO_PLAN, reason } }),
          'POST /api/v1/releases',
        )
      ).data;
      started.add(first.id);
      const tag = `[${env} ${version}]`;
      log(`${clock()} ${tag} release ${first.id} started (plan ${first.plan.name} v${first.plan.version}): ${reason}`);
      const deadline = Date.now() + releaseTimeoutMs;
      let last = '';
      const reported = new Set<string>();
      for (;;) {
        const current = (await expectReply(client.api.GET('/api/v1/releases/{id}', { params: { path: { id: first.id } } }), 'GET /api/v1/releases/{id}')).data;
        await options.onRelease?.(current);
        const step = current.steps[current.stepIndex];
        const where = `${current.phase} step ${Math.min(current.stepIndex + 1, current.steps.length)}/${current.steps.length}${step ? ` (${stepName(step)})` : ''} canary ${current.canaryWeight}%`;
        if (where !== last) {
          log(`${clock()} ${tag} ${where}${current.reason && TERMINAL.has(current.phase) ? ` — ${current.reason}` : ''}`);
          if (current.phase === 'paused' && current.reason) log(`${clock()} ${tag} paused: ${current.reason} (resume or roll back in the dashboard)`);
          last = where;
        }
        for (const s of current.steps) {
          const id = `${s.index}/${s.attempt}/${s.status}`;
          if (s.spec.type === 'analysis' && (s.status === 'succeeded' || s.status === 'failed') && !reported.has(id)) {
            reported.add(id);
            log(`${clock()} ${tag} step ${s.index + 1} analysis ${s.status}: ${describeEvidence(s.evidence)[0]}`);
          }
        }
        if (TERMINAL.has(current.phase)) {
          started.delete(current.id);
          return current;
        }
        if (current.phase === 'awaiting-approval' && onAwaitingApproval) {
          await onAwaitingApproval(current);
          onAwaitingApproval = undefined;
        }
        // Waiting for a person has no deadline: they approve when they are ready.
        if (current.phase === 'awaiting-approval' && !options.approveAs) {
          await sleep(1000, signal);
          continue;
        }
        if (Date.now() > deadline) throw new Error(`${tag} release ${current.id} not finished within ${releaseTimeoutMs / 1000} s (${where})`);
        await sleep(1000, signal);
      }
    };

    const results: DemoResult['releases'] = [];
    log(`\nGood release: ${GOOD_VERSION} into dev (same behaviour as ${BASELINE_VERSION})`);
    await deploy('dev', GOOD_VERSION, STABLE_BEHAVIOUR);
    const goodDev = await release('dev', GOOD_VERSION, 'demo: a good release');
    results.push({ label: `good ${GOOD_VERSION} in dev`, expected: 'succeeded', release: goodDev });

    if (goodDev.phase === 'succeeded') {
      log(`\nPromotion of the same digest to staging, and meanwhile a bad release: ${BAD_VERSION} into dev (5× the errors, slower)`);
      const staging = (async () => {
        await deploy('staging', GOOD_VERSION, STABLE_BEHAVIOUR);
        return release('staging', GOOD_VERSION, 'demo: promote the good release');
      })();
      const bad = (async () => {
        await deploy('dev', BAD_VERSION, BAD_BEHAVIOUR);
        return release('dev', BAD_VERSION, 'demo: a bad release, to be rolled back');
      })();
      const [stagingResult, badResult] = await Promise.allSettled([staging, bad]);
      for (const [label, expected, outcome] of [
        [`good ${GOOD_VERSION} in staging`, 'succeeded', stagingResult],
        [`bad ${BAD_VERSION} in dev`, 'rolled-back', badResult],
      ] as const) {
        if (outcome.status === 'rejected') throw outcome.reason;
        results.push({ label, expected, release: outcome.value });
      }
      const badRelease = results.at(-1)!.release;
      const failing = badRelease.steps.filter((s) => s.status === 'failed');
      log(`\nEvidence of the bad release (${badRelease.phase}${badRelease.reason ? `: ${badRelease.reason}` : ''}):`);
      if (failing.length === 0) log('  no failed step');
      for (const s of failing) {
        log(`  step ${s.index + 1} (${stepName(s)}), attempt ${s.attempt}:`);
        for (const line of describeEvidence(s.evidence)) log(`    ${line}`);
      }
      const after = await stack.getWeights('dev');
      log(`  HAProxy dev now: stable ${after.stable} / canary ${after.canary} (stable runs ${stack.slot('dev', 'stable').version})`);

      if (results.find((r) => r.label.includes('staging'))?.release.phase === 'succeeded') {
        log(`\nProduction: ${GOOD_VERSION} into prod, which waits for an approval from prod-approvers`);
        await deploy('prod', GOOD_VERSION, STABLE_BEHAVIOUR);
        const prod = await release('prod', GOOD_VERSION, 'demo: to production', async (waiting) => {
          if (!options.approveAs) {
            log(`${clock()} [prod] waiting for approval: sign in at ${client.base}/approvals as bob or carol (any password) and approve`);
            return;
          }
          await approveAsPerson(client.base, options.approveAs, waiting.id);
          log(`${clock()} [prod] approved by ${options.approveAs}, signed in through the demo OpenID provider`);
        });
        results.push({ label: `good ${GOOD_VERSION} in prod, approved`, expected: 'succeeded', release: prod });
      }
    } else {
      log(`\nThe good release ended ${goodDev.phase}: skipping staging and the bad release.`);
    }

    const ok = results.length === 4 && results.every((r) => r.release.phase === r.expected);
    log('\nSummary');
    for (const r of results) {
      const seconds = r.release.finishedAt ? ((Date.parse(r.release.finishedAt) - Date.parse(r.release.createdAt)) / 1000).toFixed(0) : '?';
      log(`  ${r.release.phase === r.expected ? 'as expected' : 'UNEXPECTED '}  ${r.label}: ${r.release.phase} in ${seconds} s (release ${r.release.id})`);
    }
    if (stack.traffic) {
      const counts = stack.traffic.counts();
      log(
        `  traffic so far: ${Object.entries(counts)
          .map(
            ([env, c]) =>
              `${env} ${c.ok} 2xx / ${c.serverErrors} 5xx${c.networkErrors ? ` / ${c.networkErrors} network errors ${JSON.stringify(c.networkErrorCodes)}` : ''}`,
          )
          .join(', ')}`,
      );
    }
    log(`  dashboard: ${dashboardUrl} — sign in as bob or carol (approve prod in Approvals), alice (deploys), dana (admin) or victor (reads), any password`);
    log(`  Prometheus: ${stack.prometheusUrl}   frontends: ${stack.environments.map((e) => `${e} ${stack.frontendUrl(e)}`).join('  ')}`);
    return { ok, releases: results, dashboardUrl };
  } finally {
    if (started.size > 0) {
      // Stopped half-way (Ctrl-C or an error): leave no release holding an environment whose stack goes away.
      const abortClient = createApiClient(options.api, options.token);
      await Promise.all(
        [...started].map((id) =>
          abortClient.api.POST('/api/v1/releases/{id}/abort', { params: { path: { id }, query: { wait: 2000 } }, body: { reason: 'demo stopped' } }).then(
            (r) => log(`aborted release ${id} (${r.response.status})`),
            () => {},
          ),
        ),
      );
    }
  }
}

/** What an approver does in a browser, over HTTP: sign in through the OpenID flow, then approve with the session. */
async function approveAsPerson(base: string, login: string, releaseId: string): Promise<void> {
  const cookieOf = (response: Response, name: string) =>
    response.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${name}=`))
      ?.split(';')[0];
  const start = await fetch(`${base}/auth/login?returnTo=%2Fapprovals`, { redirect: 'manual' });
  const location = start.headers.get('location') ?? '';
  if (start.status !== 302 || location.startsWith('/login')) throw new Error(`signing ${login} in failed at /auth/login: ${start.status} ${location}`);
  const callbackUrl = await signInAtProvider(location, login, `${base}/auth/callback`);
  const done = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: cookieOf(start, 'glidepath_login') ?? '' } });
  const session = cookieOf(done, 'glidepath_session');
  if (!session) throw new Error(`signing ${login} in failed at the callback: ${done.status} ${done.headers.get('location')}`);
  const me = (await (await fetch(`${base}/api/v1/me`, { headers: { cookie: session } })).json()) as { session: { csrfToken: string } };
  const approved = await fetch(`${base}/api/v1/releases/${releaseId}/approve?wait=10000`, {
    method: 'POST',
    headers: { cookie: session, 'x-csrf-token': me.session.csrfToken, 'content-type': 'application/json' },
    body: JSON.stringify({ comment: `demo: approved by ${login}` }),
  });
  if (!approved.ok) throw new Error(`${login} could not approve: ${approved.status} ${await approved.text()}`);
}

function stepName(step: ReleaseStep): string {
  return step.spec.type === 'setWeight' ? `setWeight ${step.spec.weight}` : step.spec.type;
}

function describeTarget(target: unknown): string {
  const t = target as { type?: string; config?: Record<string, unknown> };
  if (t.type === 'haproxy') return `haproxy ${String(t.config?.runtimeApi)} backend ${String(t.config?.backend)}`;
  return `${t.type ?? '?'} ${JSON.stringify(t.config ?? {})}`;
}

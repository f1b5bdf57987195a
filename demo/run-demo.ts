// README command 1's live demo, driven entirely through Glidepath's REST API against the
// real stack of stack.ts (HAProxy, Prometheus, sample apps, steady traffic):
//
//   1. registers service demo-shop, environments dev → staging → prod (HAProxy targets,
//      Prometheus metrics, a command deployer and two slots, blue and green; prod protected),
//      the canary plan demo-canary and artifacts 1.1.0 (good), 1.2.0 (bad: 5× the error rate,
//      slower) and 1.3.0 (good);
//   2. a good release of 1.1.0 in dev, then the same digest promoted to staging;
//   3. meanwhile, once dev succeeded, a bad release of 1.2.0 in dev, which the analysis
//      catches and rolls back: its evidence is printed;
//   4. 1.1.0 into prod, which waits for an approval; meanwhile 1.3.0 into dev, which succeeds
//      and is then rolled back after success: all traffic back to 1.1.0, still on the other slot.
//
// The demo never touches the sample apps or the weights during a release: Glidepath deploys each
// release to the idle slot itself (its command deployer runs demo/deploy/sample-app-deploy.mjs)
// and moves traffic on HAProxy; the slot it deployed to is live after success.
//
// Re-runnable: what exists already is reused (environments are pointed at the new stack,
// the plan gets a new version, releases a previous run left active are aborted).
// Run it with demo/main.ts, which starts the stack and waits for the API.
import { createHash } from 'node:crypto';
import { createGlidepathClient, type GlidepathClient, type paths, type Schemas } from '@glidepath/client';
import { signInAtProvider } from '@glidepath/dev-oidc';
import { DEPLOY_SCRIPT_DIR, type Behaviour, type Stack } from './stack.ts';

export const DEMO_SERVICE = 'demo-shop';
export const DEMO_ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export const DEMO_PLAN = 'demo-canary';
export const BASELINE_VERSION = '1.0.0';
export const GOOD_VERSION = '1.1.0';
export const BAD_VERSION = '1.2.0';
/** Good, like 1.1.0: succeeds in dev, and is then rolled back after success. */
export const NEXT_VERSION = '1.3.0';
/** Each environment's two slots (its HAProxy servers); the first has all traffic until a release makes the other live. */
export const DEMO_SLOTS = ['blue', 'green'] as const;
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

/**
 * The judge passes a metric only once it has ruled out a regression of twice the tolerance, allowing
 * for minute-to-minute over-dispersion it can measure only over several 60 s blocks: a good canary
 * at these weights passes its latency test after minutes, not seconds (bench/judge). A demo cannot
 * wait that long at each step, so its analyses end after a minute and the plan lets an
 * inconclusive one go on (onInconclusive: pass), which the output says; a bad canary is still
 * caught by the fail test, typically within 15 s.
 */
export const DEMO_PLAN_SPEC: Schemas['PlanSpec'] = {
  strategy: 'canary',
  steps: [
    { type: 'setWeight', weight: 10 },
    {
      type: 'analysis',
      interval: '2s',
      minDuration: '20s',
      maxDuration: '60s',
      onInconclusive: 'pass',
      metrics: [
        { name: 'error-rate', kind: 'errors', tolerance: 1.5 },
        { name: 'latency', kind: 'latency', tolerance: 1.5 },
      ],
    },
    { type: 'setWeight', weight: 50 },
    { type: 'analysis', interval: '2s', minDuration: '20s', maxDuration: '40s', onInconclusive: 'pass' },
    { type: 'setWeight', weight: 100 },
  ],
};

const TERMINAL = new Set(['succeeded', 'rolled-back', 'aborted', 'failed']);
/** How a succeeded release that was switched back to the version before ends. */
export const ROLLED_BACK_AFTER_SUCCESS = 'rolled back after success';
/** The release's phase, or that it was rolled back after success. */
export const outcomeOf = (release: Release) => (release.phase === 'rolled-back' && release.slots?.switchedBack ? ROLLED_BACK_AFTER_SUCCESS : release.phase);
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
  /** true when the good releases succeeded, the bad one was rolled back and 1.3.0 was rolled back after success. */
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
      // Glidepath puts each release on the idle slot itself, through the demo's deploy script.
      const deployer = stack.commandDeployer(name) as ProviderSpec;
      const slots = [...stack.slotNames(name)];
      const found = existing.items.find((e) => e.name === name);
      let environment: Schemas['Environment'];
      try {
        if (!found) {
          environment = (
            await expectReply(
              client.api.POST('/api/v1/environments', {
                body: { service: DEMO_SERVICE, name, position, target: target as ProviderSpec, metrics, policy, deployer, slots, keepPreviousFor: '1h' },
              }),
              'POST /api/v1/environments',
            )
          ).data;
          log(`  environment ${name} (position ${position}): created → ${describeTarget(target)}; ${describeSlots(environment)}`);
        } else {
          // A re-run has a new stack (another socket, other ports): point the environment at it.
          environment = (
            await expectReply(
              client.api.PATCH('/api/v1/environments/{id}', {
                params: { path: { id: found.id } },
                body: { target: target as ProviderSpec, metrics, policy, deployer, slots, keepPreviousFor: '1h', reason: 'demo: point at the new demo stack' },
              }),
              'PATCH /api/v1/environments',
            )
          ).data;
          log(`  environment ${name}: exists, now → ${describeTarget(target)}; ${describeSlots(environment)}`);
        }
      } catch (error) {
        if (error instanceof GlidepathError && (error.status === 422 || error.status === 400)) {
          const commandRefused = /command deployers are not enabled|allowed executable directory/.test(error.message);
          throw new Error(
            commandRefused
              ? `Glidepath refused the demo's deploy command for ${name}: ${error.message}. Start Glidepath with GLIDEPATH_DEPLOY_COMMAND_DIRS=${DEPLOY_SCRIPT_DIR} (pnpm start --demo does).`
              : `Glidepath refused environment ${name} (target type "${(target as { type?: string }).type}", metrics type "${metrics.type}"): ${error.message}. ` +
                  'This Glidepath build may not support these types yet.',
          );
        }
        throw error;
      }
      // A new stack starts with all traffic on its first slot; after an earlier run Glidepath may
      // know the other one as live: the traffic goes there before any release (both run the baseline).
      const live = environment.liveSlot;
      if (live && live !== slots[0]) {
        await stack.setWeights(name, Object.fromEntries(slots.map((slot) => [slot, slot === live ? 100 : 0])));
        log(`  environment ${name}: slot ${live} is live since an earlier run, so the new stack's traffic goes there`);
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

    for (const [version, behaviour] of [
      [GOOD_VERSION, STABLE_BEHAVIOUR],
      [BAD_VERSION, BAD_BEHAVIOUR],
      [NEXT_VERSION, STABLE_BEHAVIOUR],
    ] as const) {
      // The build goes to the registry the deploy script takes builds from; Glidepath gets its digest.
      stack.addBuild({ version, digest: demoDigest(version), behaviour });
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
        const deployment = current.slots?.deployment;
        const where =
          deployment && deployment.status !== 'ready' && !TERMINAL.has(current.phase)
            ? `${current.phase}: Glidepath deploys ${version} to slot ${current.slots!.idle} (deploy ${deployment.status}), no traffic moves yet`
            : `${current.phase} step ${Math.min(current.stepIndex + 1, current.steps.length)}/${current.steps.length}${step ? ` (${stepName(step)})` : ''} canary ${current.canaryWeight}%` +
              (current.slots ? ` on slot ${current.slots.idle}` : '');
        if (where !== last) {
          if (deployment?.status === 'ready' && !reported.has('deployed'))
            log(`${clock()} ${tag} deployed to slot ${current.slots!.idle}: the deploy script put it there and the health check saw its digest`);
          if (deployment?.status === 'ready') reported.add('deployed');
          log(`${clock()} ${tag} ${where}${current.reason && TERMINAL.has(current.phase) ? ` — ${current.reason}` : ''}`);
          if (current.phase === 'paused' && current.reason) log(`${clock()} ${tag} paused: ${current.reason} (resume or roll back in the dashboard)`);
          last = where;
        }
        for (const s of current.steps) {
          const id = `${s.index}/${s.attempt}/${s.status}`;
          if (s.spec.type === 'analysis' && (s.status === 'succeeded' || s.status === 'failed') && !reported.has(id)) {
            reported.add(id);
            const inconclusive = s.status === 'succeeded' && (s.evidence as { outcome?: string } | null)?.outcome === 'inconclusive';
            log(
              `${clock()} ${tag} step ${s.index + 1} analysis ${s.status}: ${describeEvidence(s.evidence)[0]}` +
                (inconclusive ? ' — not shown worse within the step, so the plan goes on (onInconclusive: pass)' : ''),
            );
          }
        }
        if (TERMINAL.has(current.phase)) {
          started.delete(current.id);
          if (current.phase === 'succeeded' && current.slots)
            log(
              `${clock()} ${tag} slot ${current.slots.idle} is live; slot ${current.slots.live} keeps the version before until ${current.slots.keepPreviousUntil}`,
            );
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

    /** What HAProxy and the slots of an environment look like now, in one line. */
    const slotsNow = async (env: string) => {
      const weights = await stack.getWeights(env);
      return stack
        .slotNames(env)
        .map((slot) => `${slot} ${stack.slot(env, slot).version ?? '(empty)'} weight ${weights[slot]}`)
        .join(', ');
    };

    /**
     * A release that succeeded, then found wanting: rollback switches all traffic back to the
     * version before, still on the other slot, in one router call; the reason is recorded.
     */
    const rollBackAfterSuccess = async (succeeded: Release, reason: string): Promise<Release> => {
      const env = succeeded.environment.name;
      const tag = `[${env} ${succeeded.artifact.version}]`;
      log(`${clock()} ${tag} succeeded, then: ${reason}. Rolling it back after success (HAProxy ${env}: ${await slotsNow(env)})`);
      const began = performance.now();
      const rolled = await expectReply(
        client.api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: succeeded.id }, query: { wait: 10_000 } }, body: { reason } }),
        'POST /api/v1/releases/{id}/rollback',
      );
      const ms = performance.now() - began;
      const back = rolled.data.release;
      if (back.slots?.switchedBack) {
        log(
          `${clock()} ${tag} switched back in ${ms.toFixed(0)} ms: ${back.phase}, slot ${back.slots.live} is live again (HAProxy ${env}: ${await slotsNow(env)}); ` +
            `recorded "${back.slots.switchedBack.reason}" by ${back.slots.switchedBack.by} in the audit log`,
        );
      } else if (rolled.data.rollbackRelease) {
        log(`${clock()} ${tag} the version before was no longer kept: release ${rolled.data.rollbackRelease.id} deploys it again`);
      }
      return (await expectReply(client.api.GET('/api/v1/releases/{id}', { params: { path: { id: succeeded.id } } }), 'GET /api/v1/releases/{id}')).data;
    };

    const results: DemoResult['releases'] = [];
    log(`\nGood release: ${GOOD_VERSION} into dev (same behaviour as ${BASELINE_VERSION}); Glidepath deploys it to dev's idle slot first`);
    const goodDev = await release('dev', GOOD_VERSION, 'demo: a good release');
    results.push({ label: `good ${GOOD_VERSION} in dev`, expected: 'succeeded', release: goodDev });

    if (goodDev.phase === 'succeeded') {
      log(`\nPromotion of the same digest to staging, and meanwhile a bad release: ${BAD_VERSION} into dev (5× the errors, slower)`);
      const [stagingResult, badResult] = await Promise.allSettled([
        release('staging', GOOD_VERSION, 'demo: promote the good release'),
        release('dev', BAD_VERSION, 'demo: a bad release, to be rolled back'),
      ]);
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
      log(`  HAProxy dev now: ${await slotsNow('dev')}`);

      const later: Array<Promise<void>> = [];
      if (results.find((r) => r.label.includes('staging'))?.release.phase === 'succeeded') {
        log(`\nProduction: ${GOOD_VERSION} into prod, which waits for an approval from prod-approvers`);
        later.push(
          release('prod', GOOD_VERSION, 'demo: to production', async (waiting) => {
            if (!options.approveAs) {
              log(`${clock()} [prod] waiting for approval: sign in at ${client.base}/approvals as bob or carol (any password) and approve`);
              return;
            }
            await approveAsPerson(client.base, options.approveAs, waiting.id);
            log(`${clock()} [prod] approved by ${options.approveAs}, signed in through the demo OpenID provider`);
          }).then((prod) => void results.push({ label: `good ${GOOD_VERSION} in prod, approved`, expected: 'succeeded', release: prod })),
        );
      }
      log(`\nMeanwhile in dev: ${NEXT_VERSION} (good) succeeds, and is then rolled back after success to ${GOOD_VERSION}, still on the other slot`);
      later.push(
        (async () => {
          const next = await release('dev', NEXT_VERSION, 'demo: a release that succeeds, to be rolled back after success');
          const label = `good ${NEXT_VERSION} in dev, then rolled back after success`;
          if (next.phase !== 'succeeded') return void results.push({ label, expected: ROLLED_BACK_AFTER_SUCCESS, release: next });
          // A few seconds of real traffic on it, as after any release, before someone finds the problem.
          await sleep(5000, signal);
          const back = await rollBackAfterSuccess(next, 'demo: customers report wrong prices since 1.3.0, back to 1.1.0');
          results.push({ label, expected: ROLLED_BACK_AFTER_SUCCESS, release: back });
        })(),
      );
      const settled = await Promise.allSettled(later);
      for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    } else {
      log(`\nThe good release ended ${goodDev.phase}: skipping staging, the bad release, prod and the rollback after success.`);
    }

    const ok = results.length === 5 && results.every((r) => outcomeOf(r.release) === r.expected);
    log('\nSummary');
    for (const r of results) {
      const seconds = r.release.finishedAt ? ((Date.parse(r.release.finishedAt) - Date.parse(r.release.createdAt)) / 1000).toFixed(0) : '?';
      log(
        `  ${outcomeOf(r.release) === r.expected ? 'as expected' : 'UNEXPECTED '}  ${r.label}: ${outcomeOf(r.release)} in ${seconds} s (release ${r.release.id})`,
      );
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
    for (const env of stack.environments) log(`  slots of ${env}: ${await slotsNow(env)}`);
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

function describeSlots(environment: Schemas['Environment']): string {
  const deployer = environment.deployer as { type?: string; config?: { command?: string[] } } | null;
  if (!deployer) return 'no deployer';
  const command = deployer.config?.command?.[0]?.split('/').at(-1);
  return `${deployer.type} deployer${command ? ` (${command})` : ''}, slots ${environment.slots.join(' and ')}, ${environment.liveSlot} live`;
}

function describeTarget(target: unknown): string {
  const t = target as { type?: string; config?: Record<string, unknown> };
  if (t.type === 'haproxy') return `haproxy ${String(t.config?.runtimeApi)} backend ${String(t.config?.backend)}`;
  return `${t.type ?? '?'} ${JSON.stringify(t.config ?? {})}`;
}

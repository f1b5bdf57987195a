import { randomUUID } from 'node:crypto';
import type {
  DeployCallOptions,
  DeployEvidence,
  Deployer,
  DeployerProvider,
  DeployOutcome,
  DeployRequest,
  RemoveOutcome,
  RemoveRequest,
} from '@glidepath/core';
import { Type, type Static } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { isEgressDenied } from '../network/egress-denied.ts';
import { configChecker } from '../registry/check-config.ts';
import { standardWebhookHeaders } from '../webhook/standard-webhooks.ts';
import {
  deadlineFor,
  deployRequestProblem,
  fetchFailure,
  keyProblem,
  pause,
  readBounded,
  removeRequestProblem,
  safeUrl,
  slotProblem,
} from './deploy-request.ts';
import { healthBudgetMs, healthCheckDestinations, healthCheckProblems, HealthCheckSchema, waitUntilHealthy } from './health-check.ts';
import { judgeAnswers, parseAnswer, type ReceiverAnswer } from './deployment-answers.ts';

// No user:password@ part: it would end up in messages; the receiver authenticates Glidepath by the signature.
const receiverUrl = (description: string) => Type.String({ pattern: '^https?://[^/?#@\\s]+([/?#]|$)', maxLength: 2048, description });

const WebhookDeployerSchema = Type.Object(
  {
    url: receiverUrl('http(s) URL that receives deploy and remove requests as signed POSTs'),
    statusUrl: Type.Optional(receiverUrl('where status queries go (signed POSTs); default url')),
    // Standard Webhooks: "whsec_" + base64 of at least 24 random bytes (32 base64 characters).
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', maxLength: 200, description: 'signing secret, never logged' }),
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, description: 'per request; default 5000' })),
    pollIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, description: 'between status queries; default 2000' })),
    readyTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'how long the receiver may take to report ready (or removed); default 600000' }),
    ),
    confirmations: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 5,
        description: 'status queries after ready that must say the same (catches receivers that answer twice); default 1',
      }),
    ),
    healthCheck: Type.Optional(HealthCheckSchema),
  },
  { additionalProperties: false },
);
export type WebhookDeployerConfig = Static<typeof WebhookDeployerSchema>;

const DEFAULTS = { requestTimeoutMs: 5000, pollIntervalMs: 2000, readyTimeoutMs: 600_000, confirmations: 1 } as const;
const BODY_LIMIT = 16 * 1024;
const LOG_LIMIT = 30;
const FIRST_BACKOFF_MS = 100;

/** The signed body of a deploy or a removal: the whole desired state of the slot, so applying it twice changes nothing. */
export type DeploymentMessage =
  | {
      type: 'glidepath.deployment';
      action: 'deploy';
      id: string;
      release: string;
      environment: string;
      service: string;
      slot: string;
      artifact: { version: string; digest: string; commitSha: string | null; buildUrl: string | null };
    }
  | { type: 'glidepath.deployment'; action: 'remove'; id: string; release: string; environment: string; service: string; slot: string };

/** The signed body of a status query: one operation by its id, or the slot as it is now when id is null. */
export interface DeploymentStatusQuery {
  type: 'glidepath.deployment.status';
  id: string | null;
  slot: string;
}

type Delivery = { kind: 'answer'; status: number; body: string } | { kind: 'transient'; failure: string } | { kind: 'final'; failure: string };

interface LogEntry {
  at: string;
  call: 'deploy' | 'remove' | 'status';
  status?: number;
  answer?: ReceiverAnswer;
  failure?: string;
}

const checkSchema = configChecker(WebhookDeployerSchema);

/** The signed-webhook deployer: any platform that can verify Standard Webhooks can deploy for Glidepath (protocol: README.md). */
export function webhookDeployerProvider(): DeployerProvider<WebhookDeployerConfig, { egress: Egress }> {
  return {
    type: 'webhook',
    validateConfig(config) {
      const check = checkSchema(config);
      if (!check.ok) return check;
      const problems = healthCheckProblems(check.config.healthCheck);
      return problems.length ? { ok: false, problems } : check;
    },
    destinations: (config) => [
      { path: 'url', target: { kind: 'url', url: config.url } },
      ...(config.statusUrl ? [{ path: 'statusUrl', target: { kind: 'url' as const, url: config.statusUrl } }] : []),
      ...healthCheckDestinations(config.healthCheck),
    ],
    create: (config, { egress }) => createWebhookDeployer(config, egress),
  };
}

export function createWebhookDeployer(config: WebhookDeployerConfig, egress: Egress): Deployer {
  const requestTimeoutMs = config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const pollIntervalMs = config.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const readyTimeoutMs = config.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs;
  const confirmations = config.confirmations ?? DEFAULTS.confirmations;
  const statusUrl = config.statusUrl ?? config.url;
  // A request given a few milliseconds before the deadline would only say it had no time: the last real answer says more.
  const tooShort = Math.min(requestTimeoutMs, 100);
  const closing = new AbortController();

  const signalFor = (options?: DeployCallOptions) => (options?.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal);

  /** One signed POST. The caller's abort rejects; everything the receiver or the network does is a Delivery. */
  async function post(url: string, id: string, message: unknown, timeoutMs: number, signal: AbortSignal): Promise<Delivery> {
    const body = JSON.stringify(message);
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await egress.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'glidepath', ...standardWebhookHeaders(config.secret, id, body) },
        body,
        // Following a redirect would send the signed request somewhere nobody registered.
        redirect: 'manual',
        signal: attempt.signal,
      });
      const text = await readBounded(response, BODY_LIMIT);
      const { status } = response;
      if ((status >= 200 && status < 300) || status === 404) return { kind: 'answer', status, body: text };
      if (status === 408 || status === 425 || status === 429 || status >= 500) return { kind: 'transient', failure: `answered HTTP ${status}` };
      // 3xx and the other 4xx (401: the signature, 400: the body) answer the same on every retry.
      return { kind: 'final', failure: `answered HTTP ${status}` };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (attempt.signal.aborted) return { kind: 'transient', failure: `no answer within ${timeoutMs} ms` };
      if (isEgressDenied(error)) return { kind: 'final', failure: error.message };
      return { kind: 'transient', failure: fetchFailure(error) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Runs one deploy or removal to its end: the signed request (retried with the same id until the
   * receiver takes it), status queries until a terminal answer, then for a deploy the health check
   * and the confirmations. Every answer goes through judgeAnswers.
   */
  async function run(
    asked: { action: 'deploy'; id: string; digest: string } | { action: 'remove'; id: string },
    message: DeploymentMessage,
    slot: string,
    options: DeployCallOptions | undefined,
  ): Promise<{ ok: true; evidence: DeployEvidence; digest?: string } | { ok: false; reason: string; evidence: DeployEvidence }> {
    const signal = signalFor(options);
    const started = Date.now();
    const deadline = deadlineFor(readyTimeoutMs + (asked.action === 'deploy' ? healthBudgetMs(config.healthCheck) : 0), options, started);
    const readyBy = Math.min(deadline, started + readyTimeoutMs);
    // What the receiver was given: readyTimeoutMs, or less when the caller's deadline comes first.
    const budget = Math.max(0, readyBy - started);
    const log: LogEntry[] = [];
    const answers: ReceiverAnswer[] = [];
    const evidence = (extra: Record<string, unknown> = {}): DeployEvidence => ({
      deployer: 'webhook',
      receiver: safeUrl(config.url),
      action: asked.action,
      id: asked.id,
      slot,
      ...(asked.action === 'deploy' ? { digest: asked.digest } : {}),
      calls: log.length > LOG_LIMIT ? [...log.slice(0, 5), { skipped: log.length - LOG_LIMIT }, ...log.slice(-(LOG_LIMIT - 5))] : log,
      ...extra,
    });
    const fail = (reason: string, extra?: Record<string, unknown>) => ({ ok: false as const, reason, evidence: evidence(extra) });
    const record = (call: LogEntry['call'], delivery: Delivery): { answer: ReceiverAnswer } | { failure: string; final: boolean } => {
      const at = new Date().toISOString();
      if (delivery.kind !== 'answer') {
        log.push({ at, call, failure: delivery.failure });
        return { failure: delivery.failure, final: delivery.kind === 'final' };
      }
      // A 404 to the request itself is a wrong URL, not an operation the receiver forgot.
      if (delivery.status === 404 && call !== 'status') {
        log.push({ at, call, status: 404, failure: 'answered HTTP 404' });
        return { failure: 'answered HTTP 404', final: true };
      }
      const parsed = parseAnswer(delivery.status, delivery.body);
      if ('malformed' in parsed) {
        log.push({ at, call, status: delivery.status, failure: parsed.malformed });
        return { failure: `the receiver ${parsed.malformed}`, final: true };
      }
      log.push({ at, call, status: delivery.status, answer: parsed.answer });
      answers.push(parsed.answer);
      return { answer: parsed.answer };
    };
    const query = (timeoutMs: number) =>
      post(statusUrl, `query_${randomUUID()}`, { type: 'glidepath.deployment.status', id: asked.id, slot }, timeoutMs, signal);

    // 1. The request, until the receiver takes it: the same webhook-id every time, so it applies it once.
    const failures: string[] = [];
    for (let n = 0; ; n++) {
      const remaining = readyBy - Date.now();
      if (remaining <= 0 || (n > 0 && remaining < tooShort)) {
        return fail(`the receiver ${safeUrl(config.url)} did not take the ${asked.action} of ${asked.id} within ${budget} ms: ${summarise(failures)}`);
      }
      const got = record(asked.action, await post(config.url, asked.id, message, Math.min(requestTimeoutMs, remaining), signal));
      if ('answer' in got) break;
      failures.push(got.failure);
      if (got.final) return fail(`the receiver ${safeUrl(config.url)} refused the ${asked.action} of ${asked.id}: ${got.failure}`);
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** n, pollIntervalMs, Math.max(0, readyBy - Date.now()));
      if (!(await pause(backoff, signal))) throw signal.reason;
    }

    // 2. Status queries until the first terminal answer.
    let verdict = judgeAnswers(asked, answers);
    let lastFailure: string | null = null;
    while (verdict.verdict === 'pending') {
      const wait = Math.min(pollIntervalMs, readyBy - Date.now());
      if (wait > 0 && !(await pause(wait, signal))) throw signal.reason;
      const remaining = readyBy - Date.now();
      if (remaining < tooShort) {
        const last = lastFailure ? `; last query: ${lastFailure}` : '';
        return fail(`the receiver took the ${asked.action} of ${asked.id} but did not report it done within ${budget} ms (still pending${last})`);
      }
      const got = record('status', await query(Math.min(requestTimeoutMs, remaining)));
      if ('failure' in got) {
        if (got.final) return fail(`status query for ${asked.id} at ${safeUrl(statusUrl)}: ${got.failure}`);
        lastFailure = got.failure;
      }
      verdict = judgeAnswers(asked, answers);
    }
    if (verdict.verdict === 'failed') return fail(verdict.reason);
    if (verdict.verdict === 'removed') return { ok: true, evidence: evidence() };

    // 3. The slot's own health, then the receiver asked again: a first answer that does not hold is a broken receiver.
    let health: Record<string, unknown> | undefined;
    if (asked.action === 'deploy' && config.healthCheck) {
      const result = await waitUntilHealthy(egress, config.healthCheck, slot, asked.digest, deadline, signal);
      health = result.evidence;
      if (!result.ok) return fail(result.reason, { health });
    }
    const unconfirmed: string[] = [];
    for (let n = 0; n < confirmations; n++) {
      if (n > 0 || !config.healthCheck) {
        if (!(await pause(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), signal))) throw signal.reason;
      }
      const got = record('status', await query(requestTimeoutMs));
      // Not hearing back is not a contradiction: noted, and the answer already given stands.
      if ('failure' in got) unconfirmed.push(got.failure);
      const judged = judgeAnswers(asked, answers);
      if (judged.verdict === 'failed') return fail(judged.reason, health && { health });
    }
    return { ok: true, digest: verdict.digest, evidence: evidence({ ...(health ? { health } : {}), ...(unconfirmed.length ? { unconfirmed } : {}) }) };
  }

  return {
    type: 'webhook',
    async deploy(request: DeployRequest, options?: DeployCallOptions): Promise<DeployOutcome> {
      const problem = deployRequestProblem(request);
      if (problem) {
        return { state: 'failed', reason: `invalid deploy request: ${problem}`, evidence: { deployer: 'webhook', deploymentId: request.deploymentId } };
      }
      const { artifact } = request;
      const message: DeploymentMessage = {
        type: 'glidepath.deployment',
        action: 'deploy',
        id: request.deploymentId,
        release: request.releaseId,
        environment: request.environmentId,
        service: artifact.service,
        slot: request.slot,
        artifact: { version: artifact.version, digest: artifact.digest, commitSha: artifact.commitSha ?? null, buildUrl: artifact.buildUrl ?? null },
      };
      const result = await run({ action: 'deploy', id: request.deploymentId, digest: artifact.digest }, message, request.slot, options);
      return result.ok
        ? { state: 'ready', digest: artifact.digest, evidence: result.evidence }
        : { state: 'failed', reason: result.reason, evidence: result.evidence };
    },

    async remove(request: RemoveRequest, options?: DeployCallOptions): Promise<RemoveOutcome> {
      const problem = removeRequestProblem(request);
      if (problem) return { state: 'failed', reason: `invalid remove request: ${problem}`, evidence: { deployer: 'webhook', removalId: request.removalId } };
      const message: DeploymentMessage = {
        type: 'glidepath.deployment',
        action: 'remove',
        id: request.removalId,
        release: request.releaseId,
        environment: request.environmentId,
        service: request.service,
        slot: request.slot,
      };
      const result = await run({ action: 'remove', id: request.removalId }, message, request.slot, options);
      return result.ok ? { state: 'removed', evidence: result.evidence } : { state: 'failed', reason: result.reason, evidence: result.evidence };
    },

    async status(query, options) {
      const id = query.deploymentId ?? null;
      const base = { state: 'unknown' as const, slot: query.slot, deploymentId: id, digest: null };
      const problem = slotProblem(query.slot) ?? (id === null ? null : keyProblem('deploymentId', id));
      if (problem) return { ...base, reason: `invalid status query: ${problem}`, evidence: { deployer: 'webhook' } };
      const message: DeploymentStatusQuery = { type: 'glidepath.deployment.status', id, slot: query.slot };
      const delivery = await post(statusUrl, `query_${randomUUID()}`, message, requestTimeoutMs, signalFor(options));
      const evidence = { deployer: 'webhook', receiver: safeUrl(statusUrl), ...(delivery.kind === 'answer' ? { status: delivery.status } : {}) };
      if (delivery.kind !== 'answer') return { ...base, reason: `no status from the receiver: ${delivery.failure}`, evidence };
      const parsed = parseAnswer(delivery.status, delivery.body);
      if ('malformed' in parsed) return { ...base, reason: `the receiver ${parsed.malformed}`, evidence };
      const { answer } = parsed;
      if (id !== null && answer.id && answer.id !== id) return { ...base, reason: `the receiver answered about ${answer.id} when asked about ${id}`, evidence };
      return {
        state: answer.state,
        slot: query.slot,
        deploymentId: answer.id ?? id,
        digest: answer.state === 'ready' ? (answer.digest ?? null) : null,
        reason: answer.reason ?? (answer.state === 'unknown' ? 'the receiver does not know it' : null),
        evidence: { ...evidence, answer },
      };
    },

    close: async () => closing.abort(new Error('deployer closed')),
  };
}

function summarise(failures: string[]): string {
  if (failures.length === 0) return 'no attempt was answered';
  const last = failures.at(-1);
  return failures.length === 1 ? last! : `${failures.length} attempts, last: ${last}`;
}

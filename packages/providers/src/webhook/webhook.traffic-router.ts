import type { EffectContext, TrafficRouter, TrafficRouterProvider, TrafficTarget } from '@glidepath/core';
import { Type, type Static } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { isEgressDenied } from '../network/egress-denied.ts';
import { configChecker } from '../registry/check-config.ts';
import { standardWebhookHeaders } from './standard-webhooks.ts';

const WebhookTargetConfigSchema = Type.Object(
  {
    // No user:password@ part: fetch refuses it, and it would end up in error messages.
    url: Type.String({
      format: 'uri',
      pattern: '^https?://[^/?#@\\s]+([/?#]|$)',
      maxLength: 2048,
      description: 'http(s) URL that receives the desired traffic state as a POST',
    }),
    // Standard Webhooks: "whsec_" + base64 of at least 24 random bytes (32 base64 characters).
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', maxLength: 200, description: 'signing secret, never logged' }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, description: 'per attempt; default 5000' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'after the first attempt; default 3' })),
  },
  { additionalProperties: false },
);
export type WebhookTargetConfig = Static<typeof WebhookTargetConfigSchema>;

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRIES = 3;
const FIRST_BACKOFF_MS = 100;

export type WebhookAction = 'set-weight' | 'promote' | 'rollback';

/** The body every receiver gets: the whole desired state, so applying it twice changes nothing. */
export interface DesiredTrafficState {
  type: 'glidepath.traffic.desired-state';
  release: string;
  environment: string;
  service: string;
  stable: TrafficTarget['stable'];
  canary: TrafficTarget['canary'];
  weights: { stable: number; canary: number };
  /** With slots that alternate: the stable version runs on `live`, the canary on `idle`. */
  slots?: { live: string; idle: string };
  action: WebhookAction;
  effectKey: string;
}

/**
 * Hands traffic shifting to a system Glidepath cannot drive itself: each effect is POSTed as
 * the desired state, signed per Standard Webhooks. The `webhook-id` is the effect key, the same
 * on every retry and on every re-application of that effect, so receivers can de-duplicate.
 * A 2xx means the receiver applied it; anything else, after the retries, fails the call.
 *
 * Worst case a call takes timeoutMs × (retries + 1) plus the backoff (100, 200, 400 ms…),
 * about 20.7 s with the defaults; the engine applies effects inside its transaction, so keep
 * that below its timeout.
 */
export function webhookRouterProvider(): TrafficRouterProvider<WebhookTargetConfig, { egress: Egress }> {
  return {
    type: 'webhook',
    validateConfig: configChecker(WebhookTargetConfigSchema),
    destinations: (config) => [{ path: 'url', target: { kind: 'url', url: config.url } }],
    create: (config, { egress }) => createWebhookRouter(config, egress),
  };
}

export function createWebhookRouter(config: WebhookTargetConfig, egress: Egress): TrafficRouter {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = config.retries ?? DEFAULT_RETRIES;
  // Error messages name the receiver without credentials or query strings.
  const where = safeUrl(config.url);
  let closed = false;
  const inFlight = new Set<AbortController>();

  /** null when the receiver took it; otherwise why not, and whether trying again could change that. */
  const attempt = async (id: string, body: string): Promise<{ failure: string; final: boolean } | null> => {
    const abort = new AbortController();
    inFlight.add(abort);
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const response = await egress.fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'glidepath', ...standardWebhookHeaders(config.secret, id, body) },
        body,
        // Standard Webhooks treats 3xx as a failure; following it would also send the signed state elsewhere.
        redirect: 'manual',
        signal: abort.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? null : { failure: `answered HTTP ${response.status}`, final: false };
    } catch (error) {
      if (abort.signal.aborted) return { failure: closed ? 'router closed' : `no answer within ${timeoutMs} ms`, final: closed };
      // The policy answers the same on every retry: say so at once.
      if (isEgressDenied(error)) return { failure: error.message, final: true };
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      return { failure: `request failed (${cause?.code ?? cause?.message ?? (error as Error).message})`, final: false };
    } finally {
      clearTimeout(timer);
      inFlight.delete(abort);
    }
  };

  const deliver = async (target: TrafficTarget, canaryWeight: number, action: WebhookAction, ctx: EffectContext) => {
    if (!Number.isFinite(canaryWeight) || canaryWeight < 0 || canaryWeight > 100) {
      throw new RangeError(`canary weight must be a number from 0 to 100, got ${canaryWeight}`);
    }
    const state: DesiredTrafficState = {
      type: 'glidepath.traffic.desired-state',
      release: target.releaseId,
      environment: target.environmentId,
      service: target.service,
      stable: target.stable,
      canary: target.canary,
      weights: { stable: 100 - canaryWeight, canary: canaryWeight },
      ...(target.slots ? { slots: target.slots } : {}),
      action,
      effectKey: ctx.effectKey,
    };
    const body = JSON.stringify(state);
    const failures: string[] = [];
    for (let n = 0; n <= retries && !closed; n++) {
      if (n > 0) await new Promise((resolve) => setTimeout(resolve, FIRST_BACKOFF_MS * 2 ** (n - 1)));
      if (closed) break;
      // Signed per attempt: the timestamp is the attempt's, so a retry is not rejected as a replay.
      const failed = await attempt(ctx.effectKey, body);
      if (failed === null) return;
      failures.push(failed.failure);
      if (failed.final) break;
    }
    throw new Error(
      `webhook ${where} did not accept ${action} (canary ${canaryWeight}%) for release ${target.releaseId} after ${failures.length} attempt(s): ${failures.join('; ') || 'router closed'}`,
    );
  };

  return {
    type: 'webhook',
    setWeight: (target, canaryWeight, ctx) => deliver(target, canaryWeight, 'set-weight', ctx),
    // The receiver owns the traffic; a 2xx says it took the state, not what it serves now.
    verifyWeight: async () => 'unsupported',
    promote: (target, ctx) => deliver(target, 100, 'promote', ctx),
    rollback: (target, ctx) => deliver(target, 0, 'rollback', ctx),
    close: async () => {
      closed = true;
      for (const abort of inFlight) abort.abort(new Error('router closed'));
    },
  };
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

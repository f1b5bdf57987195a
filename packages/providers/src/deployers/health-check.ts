import type { ConfigDestination, ConfigProblem } from '@glidepath/core';
import { Type, type Static } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { isEgressDenied } from '../network/egress-denied.ts';
import { fetchFailure, pause, readBounded, safeUrl, SLOT_PATTERN } from './deploy-request.ts';

// No user:password@ part and no {slot} in the host: the host is what the network policy checks at registration.
const HealthUrl = Type.String({
  pattern: '^https?://[^/?#@\\s{}]+([/?#]|$)',
  maxLength: 2048,
  description: 'http(s) URL of the slot health endpoint; {slot} in its path or query is replaced by the slot name',
});

export const HealthCheckSchema = Type.Object(
  {
    url: Type.Optional(HealthUrl),
    slotUrls: Type.Optional(
      Type.Record(Type.String({ pattern: SLOT_PATTERN }), HealthUrl, {
        maxProperties: 16,
        additionalProperties: false,
        description: 'per slot, when slots differ by more than a path (other ports, other hosts); wins over url',
      }),
    ),
    expectStatus: Type.Optional(Type.Integer({ minimum: 200, maximum: 599, description: 'the status that passes; default any 2xx' })),
    digestHeader: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9-]{1,100}$', description: 'a response header that must carry the deployed digest (e.g. x-glidepath-digest)' }),
    ),
    digestInBody: Type.Optional(Type.Boolean({ description: 'the response body (first 64 KiB) must contain the deployed digest' })),
    passes: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: 'consecutive passes needed; default 3' })),
    intervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000, description: 'between checks; default 1000' })),
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 30_000, description: 'per check; default 2000' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'how long passing may take once deployed; default 120000' })),
  },
  { additionalProperties: false },
);
export type HealthCheckConfig = Static<typeof HealthCheckSchema>;

export const HEALTH_DEFAULTS = { passes: 3, intervalMs: 1000, requestTimeoutMs: 2000, timeoutMs: 120_000 } as const;
const BODY_LIMIT = 64 * 1024;
const HISTORY = 10;

/** Beyond the schema: a health check must name where to look. */
export function healthCheckProblems(health: HealthCheckConfig | undefined, path = 'healthCheck'): ConfigProblem[] {
  if (!health || health.url || (health.slotUrls && Object.keys(health.slotUrls).length > 0)) return [];
  return [{ path, message: 'must have url or slotUrls' }];
}

export function healthCheckDestinations(health: HealthCheckConfig | undefined, path = 'healthCheck'): ConfigDestination[] {
  if (!health) return [];
  const urls: ConfigDestination[] = [];
  if (health.url) urls.push({ path: `${path}.url`, target: { kind: 'url', url: health.url.replaceAll('{slot}', 'slot') } });
  for (const [slot, url] of Object.entries(health.slotUrls ?? {})) urls.push({ path: `${path}.slotUrls.${slot}`, target: { kind: 'url', url } });
  return urls;
}

/** The health budget a deployer adds to its own. */
export function healthBudgetMs(health: HealthCheckConfig | undefined): number {
  return health ? (health.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs) : 0;
}

export function healthUrlFor(health: HealthCheckConfig, slot: string): string | null {
  const url = health.slotUrls?.[slot] ?? health.url;
  return url ? url.replaceAll('{slot}', encodeURIComponent(slot)) : null;
}

interface Check {
  at: string;
  status?: number;
  digest?: string | null;
  error?: string;
  pass: boolean;
}

export type HealthResult = { ok: true; evidence: Record<string, unknown> } | { ok: false; reason: string; evidence: Record<string, unknown> };

/**
 * Checks the slot until it passes `passes` times in a row, or fails: by the deadline, at once
 * when the network policy refuses it, and at once when the slot served the asked digest and then
 * another one (something else changed the slot under us). Before the first pass another digest is
 * only the old version still answering, so it is waited out.
 */
export async function waitUntilHealthy(
  egress: Egress,
  health: HealthCheckConfig,
  slot: string,
  digest: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<HealthResult> {
  const url = healthUrlFor(health, slot);
  const passes = health.passes ?? HEALTH_DEFAULTS.passes;
  const intervalMs = health.intervalMs ?? HEALTH_DEFAULTS.intervalMs;
  const requestTimeoutMs = health.requestTimeoutMs ?? HEALTH_DEFAULTS.requestTimeoutMs;
  const ownDeadline = Math.min(deadline, Date.now() + (health.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs));
  const checks: Check[] = [];
  let attempts = 0;
  let streak = 0;
  let passedOnce = false;
  const evidence = () => ({ url: url && safeUrl(url), slot, needed: passes, attempts, streak, last: checks.slice(-HISTORY) });
  if (!url) return { ok: false, reason: `health check has no URL for slot ${slot}`, evidence: evidence() };

  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const remaining = ownDeadline - Date.now();
    // A check given a few milliseconds would only say it had no time: the last real one says more.
    if (remaining <= 0 || (attempts > 0 && remaining < Math.min(requestTimeoutMs, 100))) {
      const last = checks.at(-1);
      const seen = last ? describeCheck(last, digest) : 'no check ran';
      return {
        ok: false,
        reason: `health check of slot ${slot} at ${safeUrl(url)} did not pass ${passes} time(s) in a row before the deadline (${attempts} check(s), last: ${seen})`,
        evidence: evidence(),
      };
    }
    attempts++;
    const check = await checkOnce(egress, health, url, digest, Math.min(requestTimeoutMs, remaining), signal);
    checks.push(check);
    if (checks.length > HISTORY) checks.shift();
    if (check.error?.startsWith('refused by the network policy'))
      return { ok: false, reason: `health check of slot ${slot}: ${check.error}`, evidence: evidence() };
    if (passedOnce && check.digest && check.digest !== digest) {
      return {
        ok: false,
        reason: `slot ${slot} served ${digest} and then ${check.digest}: something else changed the slot during the health check`,
        evidence: evidence(),
      };
    }
    if (check.pass) {
      passedOnce = true;
      if (++streak >= passes) return { ok: true, evidence: evidence() };
    } else streak = 0;
    const wait = Math.min(intervalMs, ownDeadline - Date.now());
    if (wait > 0 && !(await pause(wait, signal))) throw signal!.reason;
  }
}

function describeCheck(check: Check, asked: string): string {
  if (check.error) return check.error;
  if (check.digest && check.digest !== asked) return `HTTP ${check.status}, serving ${check.digest} (asked ${asked})`;
  if (check.digest === null && check.status! < 300) return `HTTP ${check.status} without the digest header`;
  return check.pass ? `HTTP ${check.status}, passed` : `HTTP ${check.status}`;
}

async function checkOnce(egress: Egress, health: HealthCheckConfig, url: string, digest: string, timeoutMs: number, signal?: AbortSignal): Promise<Check> {
  const at = new Date().toISOString();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => abort.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await egress.fetch(url, { method: 'GET', headers: { 'user-agent': 'glidepath-health' }, redirect: 'manual', signal: abort.signal });
    const body = health.digestInBody ? await readBounded(response, BODY_LIMIT) : (await response.body?.cancel().catch(() => {}), '');
    const statusOk = health.expectStatus ? response.status === health.expectStatus : response.status >= 200 && response.status < 300;
    let served: string | null | undefined;
    let digestOk = true;
    if (health.digestHeader) {
      served = response.headers.get(health.digestHeader);
      digestOk = served === digest;
    }
    if (health.digestInBody && !body.includes(digest)) digestOk = false;
    return { at, status: response.status, ...(served !== undefined ? { digest: served } : {}), pass: statusOk && digestOk };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (abort.signal.aborted) return { at, error: `no answer within ${timeoutMs} ms`, pass: false };
    return { at, error: isEgressDenied(error) ? error.message : fetchFailure(error), pass: false };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

import type { DeployCallOptions, DeployRequest, RemoveRequest } from '@glidepath/core';

/** Slot names end up in file names, URLs and environment variables: keep them plain. */
export const SLOT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
const SLOT = new RegExp(SLOT_PATTERN);
/** Idempotency keys travel as the webhook-id header and name records: printable, no spaces. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Free text (service, version, ids) goes into environment variables and JSON: no control characters. */
const TEXT = /^\P{Cc}{1,500}$/u;

/** Why a request cannot be run, or null. A request is the engine's, but its parts came from people. */
export function deployRequestProblem(request: DeployRequest): string | null {
  return (
    keyProblem('deploymentId', request.deploymentId) ??
    textProblem('releaseId', request.releaseId) ??
    textProblem('environmentId', request.environmentId) ??
    slotProblem(request.slot) ??
    textProblem('artifact.service', request.artifact?.service) ??
    textProblem('artifact.version', request.artifact?.version) ??
    (typeof request.artifact?.digest === 'string' && DIGEST.test(request.artifact.digest)
      ? null
      : `artifact.digest must be sha256:<64 lower-case hex digits>, got ${JSON.stringify(String(request.artifact?.digest).slice(0, 80))}`) ??
    optionalTextProblem('artifact.commitSha', request.artifact.commitSha) ??
    optionalTextProblem('artifact.buildUrl', request.artifact.buildUrl)
  );
}

export function removeRequestProblem(request: RemoveRequest): string | null {
  return (
    keyProblem('removalId', request.removalId) ??
    textProblem('releaseId', request.releaseId) ??
    textProblem('environmentId', request.environmentId) ??
    textProblem('service', request.service) ??
    slotProblem(request.slot)
  );
}

export function slotProblem(slot: unknown): string | null {
  return typeof slot === 'string' && SLOT.test(slot) ? null : `slot must match ${SLOT_PATTERN}, got ${JSON.stringify(String(slot).slice(0, 80))}`;
}

export function keyProblem(field: string, key: unknown): string | null {
  return typeof key === 'string' && KEY.test(key)
    ? null
    : `${field} must be 1-200 printable characters without spaces, got ${JSON.stringify(String(key).slice(0, 80))}`;
}

function textProblem(field: string, value: unknown): string | null {
  return typeof value === 'string' && TEXT.test(value) ? null : `${field} must be 1-500 characters without control characters`;
}

function optionalTextProblem(field: string, value: unknown): string | null {
  return value === undefined || value === null ? null : textProblem(field, value);
}

/** The earlier of the deployer's own budget from now and the caller's deadline. */
export function deadlineFor(budgetMs: number, options: DeployCallOptions | undefined, now = Date.now()): number {
  const own = now + budgetMs;
  return options?.deadline !== undefined && Number.isFinite(options.deadline) ? Math.min(own, options.deadline) : own;
}

/** Resolves after `ms`, or as soon as the signal aborts (then with false). */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A URL as it may appear in evidence and messages: no credentials, no query string (where tokens go). */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** The last `maxChars` characters of a text, saying how much was cut. */
export function tail(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `…(${text.length - maxChars} characters cut)${text.slice(-maxChars)}`;
}

/** A response body up to `maxBytes`; the rest is not read. */
export async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** Why a fetch failed, in a few words (the network policy's refusal is shown whole). */
export function fetchFailure(error: unknown): string {
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return `request failed (${cause?.code ?? cause?.message ?? (error as Error).message})`;
}

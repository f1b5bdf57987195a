import { createHmac, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks (standardwebhooks.com), symmetric variant: HMAC-SHA256, `v1,` signatures. */

const SECRET_PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** The key bytes of a `whsec_<base64>` secret (the prefix is optional, as in the reference libraries). */
function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

function signature(key: Buffer, id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The value of the `webhook-signature` header for one delivery attempt. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string | Uint8Array): string {
  return `v1,${signature(secretKey(secret), id, timestamp, body).toString('base64')}`;
}

/** The three headers of one delivery attempt; the timestamp is that of the attempt (unix seconds). */
export function standardWebhookHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(secret, id, timestamp, body),
  };
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

export interface VerifyOptions {
  /** Largest accepted distance between the attempt's timestamp and now; default 5 minutes. */
  toleranceSeconds?: number;
  now?: number;
}

/**
 * Checks a received webhook: its `webhook-timestamp` within the tolerance of now (replays of
 * old deliveries fail), and one of the space-separated `v1,` signatures in `webhook-signature`
 * matching, compared in constant time. `body` must be the raw bytes received, not re-serialised
 * JSON. De-duplicating by `webhook-id` is left to the receiver.
 */
export function verifyStandardWebhook(secret: string, headers: WebhookHeaders, body: string | Uint8Array, options: VerifyOptions = {}): boolean {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;

  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;

  const expected = signature(secretKey(secret), id, timestamp, body);
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const received = Buffer.from(value, 'base64');
    // Keep looking after a match so the time taken does not depend on which one matched.
    if (received.length === expected.length && timingSafeEqual(received, expected)) matched = true;
  }
  return matched;
}

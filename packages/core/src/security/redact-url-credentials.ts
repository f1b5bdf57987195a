/**
 * Credentials inside URLs (`https://user:secret@host/…`, as in a Prometheus or webhook URL)
 * are kept where they are stored, for the calls that need them, and never shown: every reply
 * and every audit payload goes through this. The password becomes `***`; a user name alone
 * (often a token too) becomes `***` as well.
 */
const URL_WITH_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^/?#\s@]+)@/gi;

export const REDACTED = '***';

export function redactUrlText(text: string): string {
  if (!text.includes('@') || !text.includes('://')) return text;
  return text.replace(URL_WITH_CREDENTIALS, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${REDACTED}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  });
}

/** A copy of `value` with credentials in every URL string redacted; the same object when there are none. */
export function redactUrlCredentials<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactUrlText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const copy = value.map((item) => {
      const redacted = redactUrlCredentials(item, depth + 1);
      changed ||= redacted !== item;
      return redacted;
    });
    return (changed ? copy : value) as T;
  }
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  let changed = false;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const redacted = redactUrlCredentials(item, depth + 1);
    changed ||= redacted !== item;
    copy[key] = redacted;
  }
  return (changed ? copy : value) as T;
}

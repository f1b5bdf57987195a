// Small display formatters shared by the pages.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function formatDateTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

/** Only the time when it is today, the date too otherwise. */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? timeOnly.format(date) : dateTime.format(date);
}

/** 250ms, 10s, 1m 30s, 2h 5m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const parts: string[] = [];
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s && !h) parts.push(`${s}s`);
  return parts.join(' ');
}

export function durationBetween(from: string, to: string): string {
  return formatDuration(Math.max(0, Date.parse(to) - Date.parse(from)));
}

/** A rate (0–1) as a percentage with enough digits for small error rates. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  const pct = rate * 100;
  return `${pct === 0 ? '0' : pct < 1 ? pct.toFixed(3) : pct.toFixed(2)}%`;
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined) return '—';
  return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(digits);
}

/** Long ids (UUIDs, digests) shortened for tables; show the full one in a tooltip. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** sha256:0123456789ab… */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  return `${algorithm ? `${algorithm}:` : ''}${(hex ?? '').slice(0, 12)}…`;
}

/** `token:3f9a…` → kind and id. */
export function splitActor(actorId: string): { kind: string | undefined; id: string } {
  const at = actorId.indexOf(':');
  return at > 0 ? { kind: actorId.slice(0, at), id: actorId.slice(at + 1) } : { kind: undefined, id: actorId };
}

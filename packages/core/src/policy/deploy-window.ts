import type { ConfigProblem } from '../ports/traffic-router.ts';

/**
 * When an environment is open for changes: recurring deploy windows (weekdays and times in an
 * IANA time zone) minus dated freezes. Pure: the clock and the time-zone rules (Intl) are the
 * only inputs besides the policy.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface DeployWindow {
  days: Weekday[];
  /** Local wall-clock time "HH:MM" in timeZone; the window is [start, end). */
  start: string;
  end: string;
  timeZone: string;
}

export interface Freeze {
  from: string;
  to: string;
  reason: string;
}

export interface DeployGate {
  open: boolean;
  /** Why it is closed, in words for people; null when open. */
  reason: string | null;
  /** When it next opens (ms since the epoch); null when open, or when no window ever opens. */
  opensAt: number | null;
}

const DAY_MS = 86_400_000;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** A full ISO 8601 date-time with a zone: 2026-12-24T00:00:00Z, 2026-12-24T09:30+01:00. */
export const FULL_ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** A freeze is for a holiday or an incident, not a way to close an environment for good (protected and windows are). */
export const MAX_FREEZE_MS = 366 * DAY_MS;

/**
 * Why a freeze date is not one, or null: a full ISO 8601 date-time with a zone (a date alone, a
 * local time or "Dec 24" says nothing about the instant) that exists. JavaScript reads
 * 2026-02-30 as March 2 and 24:00 as the next day, so each field is checked, not just parsed.
 */
export function freezeDateProblem(value: unknown): string | null {
  const shape = 'must be a full ISO date-time with a zone, such as 2026-12-24T00:00:00Z';
  if (typeof value !== 'string' || !FULL_ISO_DATE_TIME.test(value)) return shape;
  const [, y, mo, d, h, mi, s, zh, zm] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?[^Z+-]*(?:Z|[+-](\d{2}):(\d{2}))$/.exec(value)!.map(Number);
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (y! < 1970 || mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth || h! > 23 || mi! > 59 || (s || 0) > 59)
    return 'must be a date and time that exists, from 1970 on (month 01–12, a day of that month, 00:00–23:59:59)';
  if ((zh || 0) > 14 || (zm || 0) > 59) return 'must have a zone offset between -14:00 and +14:00';
  return null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(value: string): boolean {
  try {
    formatter(value);
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
  minutes: number;
  seconds: number;
}

function localTime(t: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    seconds: Number(parts.second),
  };
}

/** How far the zone's wall clock is ahead of UTC at instant t (ms). */
function offsetAt(t: number, timeZone: string): number {
  const l = localTime(t, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes, l.seconds) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant a local wall-clock time happens in a zone. A time that happens twice (the hour
 * DST repeats) is its first occurrence; one that never happens (the hour DST skips) is read
 * with the offset after the jump (02:30 on the morning clocks go 02:00 → 03:00 is 03:30).
 */
function instantOf(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const candidates = [...new Set([-DAY_MS / 2, 0, DAY_MS / 2].map((shift) => wall - offsetAt(wall + shift, timeZone)))];
  const real = candidates.filter((t) => {
    const l = localTime(t, timeZone);
    return l.year === year && l.month === month && l.day === day && l.minutes === minutes;
  });
  return real.length ? Math.min(...real) : Math.max(...candidates);
}

const minutesOf = (hhmm: string) => {
  const [, h, m] = TIME.exec(hhmm)!;
  return Number(h) * 60 + Number(m);
};

function inWindow(w: DeployWindow, t: number): boolean {
  const l = localTime(t, w.timeZone);
  return w.days.includes(WEEKDAYS[l.weekday]!) && minutesOf(w.start) <= l.minutes && l.minutes < minutesOf(w.end);
}

/** The next instant after t at which a window starts; null when none does within two weeks. */
function nextWindowStart(windows: DeployWindow[], t: number): number | null {
  let best: number | null = null;
  for (const w of windows) {
    const today = localTime(t, w.timeZone);
    for (let offset = 0; offset <= 14; offset++) {
      const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
      const weekday = (date.getUTCDay() + 6) % 7;
      if (!w.days.includes(WEEKDAYS[weekday]!)) continue;
      const start = instantOf(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), minutesOf(w.start), w.timeZone);
      if (start > t && inWindow(w, start) && (best === null || start < best)) best = start;
      if (start > t) break;
    }
  }
  return best;
}

function describeWindow(w: DeployWindow): string {
  return `${w.days.join(',')} ${w.start}–${w.end} ${w.timeZone}`;
}

/** Is the environment open at `now`, and if not, why and when does it open? */
export function deployGate(policy: { windows: DeployWindow[]; freezes: Freeze[] }, now: number): DeployGate {
  const freezeAt = (t: number) => policy.freezes.find((f) => Date.parse(f.from) <= t && t < Date.parse(f.to));
  const windowOpen = (t: number) => policy.windows.length === 0 || policy.windows.some((w) => inWindow(w, t));
  const freezeNow = freezeAt(now);
  const openNow = !freezeNow && windowOpen(now);
  if (openNow) return { open: true, reason: null, opensAt: null };
  let t = now;
  let opensAt: number | null = null;
  for (let i = 0; i < 200; i++) {
    const freeze = freezeAt(t);
    if (freeze) {
      t = Date.parse(freeze.to);
      continue;
    }
    if (!windowOpen(t)) {
      const next = nextWindowStart(policy.windows, t);
      if (next === null) break;
      t = next;
      continue;
    }
    opensAt = t;
    break;
  }
  const when = opensAt === null ? 'no deploy window opens in the next two weeks' : `opens ${new Date(opensAt).toISOString()}`;
  const reason = freezeNow
    ? `frozen until ${freezeNow.to}: ${freezeNow.reason} (${when})`
    : `outside the deploy windows (${policy.windows.map(describeWindow).join('; ')}; ${when})`;
  return { open: false, reason, opensAt };
}

/** Problems of a policy's windows and freezes, each with its path. */
export function windowProblems(windows: unknown, freezes: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!Array.isArray(windows) || windows.length > 50)
    problems.push({ path: 'policy.windows', message: 'must be a list of at most 50 { days, start, end, timeZone }' });
  else
    windows.forEach((w: Record<string, unknown>, i) => {
      const at = `policy.windows[${i}]`;
      if (!w || typeof w !== 'object') return problems.push({ path: at, message: 'must be { days, start, end, timeZone }' });
      for (const key of Object.keys(w))
        if (!['days', 'start', 'end', 'timeZone'].includes(key)) problems.push({ path: `${at}.${key}`, message: 'is not a known field' });
      const days = w.days;
      if (!Array.isArray(days) || days.length === 0 || days.some((d) => !WEEKDAYS.includes(d)) || new Set(days).size !== days.length)
        problems.push({ path: `${at}.days`, message: `must list weekdays (${WEEKDAYS.join(', ')}), each once` });
      for (const key of ['start', 'end'] as const)
        if (typeof w[key] !== 'string' || !TIME.test(w[key] as string))
          problems.push({ path: `${at}.${key}`, message: 'must be a time "HH:MM" (00:00–23:59)' });
      if (TIME.test(String(w.start)) && TIME.test(String(w.end)) && minutesOf(String(w.end)) <= minutesOf(String(w.start)))
        problems.push({ path: `${at}.end`, message: 'must be after start (split a window that crosses midnight in two)' });
      if (typeof w.timeZone !== 'string' || !isTimeZone(w.timeZone))
        problems.push({ path: `${at}.timeZone`, message: 'must be an IANA time zone, such as "Europe/Berlin"' });
    });
  if (!problems.length && Array.isArray(windows)) {
    // Two windows of one zone on the same day that overlap say two things about one hour.
    const list = windows as DeployWindow[];
    list.forEach((a, i) =>
      list.slice(i + 1).forEach((b, k) => {
        const shared = a.timeZone === b.timeZone && a.days.some((d) => b.days.includes(d));
        if (shared && minutesOf(a.start) < minutesOf(b.end) && minutesOf(b.start) < minutesOf(a.end))
          problems.push({ path: `policy.windows[${i + k + 1}]`, message: `overlaps policy.windows[${i}] on a shared day: merge them` });
      }),
    );
  }
  if (!Array.isArray(freezes) || freezes.length > 200) problems.push({ path: 'policy.freezes', message: 'must be a list of at most 200 { from, to, reason }' });
  else
    freezes.forEach((f: { from?: unknown; to?: unknown; reason?: unknown }, i) => {
      if (f && typeof f === 'object')
        for (const key of Object.keys(f))
          if (!['from', 'to', 'reason'].includes(key)) problems.push({ path: `policy.freezes[${i}].${key}`, message: 'is not a known field' });
      const fromProblem = freezeDateProblem(f?.from);
      const toProblem = freezeDateProblem(f?.to);
      if (fromProblem) problems.push({ path: `policy.freezes[${i}].from`, message: fromProblem });
      if (toProblem) problems.push({ path: `policy.freezes[${i}].to`, message: toProblem.replace('2026-12-24', '2026-12-27') });
      const span = !fromProblem && !toProblem ? Date.parse(f.to as string) - Date.parse(f.from as string) : null;
      if (span !== null && span <= 0) problems.push({ path: `policy.freezes[${i}].to`, message: 'must be after from' });
      if (span !== null && span > MAX_FREEZE_MS)
        problems.push({ path: `policy.freezes[${i}].to`, message: 'must be at most 366 days after from (renew the freeze if it must last longer)' });
      if (typeof f?.reason !== 'string' || !f.reason.trim() || f.reason.length > 500)
        problems.push({ path: `policy.freezes[${i}].reason`, message: 'must say why (at most 500 characters)' });
    });
  return problems;
}

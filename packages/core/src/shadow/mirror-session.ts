import { parseFieldPattern } from './ignore-fields.ts';

/**
 * What Glidepath asks of a mirroring proxy for one shadow step: copy requests of these methods
 * to the version on `slot`, compare, and stop by `expiresAt` whatever happens (a worker or the
 * whole control plane gone, the proxy stops copying by itself).
 */
export interface MirrorSession {
  /** Names the step attempt (`<release>:<step>:<attempt>`): asking twice with the same one changes nothing. */
  session: string;
  /** The slot (as the proxy was told at start-up) where the shadow version runs. */
  slot: string;
  /** Upper-case HTTP methods copied; only idempotent ones unless the plan says otherwise. */
  methods: string[];
  ignoreFields: string[];
  /** The share of eligible requests copied, 0–1. */
  sampleRate: number;
  /** The share of copied requests also sent to the live version a second time (its noise), 0–1. */
  baselineShare: number;
  expiresAt: string;
}

export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;
export const MIRROR_LIMITS = { ignoreFields: 50, fieldLength: 200, sessionLength: 200, slotLength: 128 } as const;
/** Methods a shadow may copy: the idempotent ones, and those a plan may add on purpose (a read-only POST /predict). */
export const MIRRORABLE_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface FieldProblem {
  path: string;
  message: string;
}

/** The methods list a plan or a session gives: problems named by path (`compare.methods[1]`). */
export function checkMethods(value: unknown, path: string): { methods?: string[]; problems: FieldProblem[] } {
  if (!Array.isArray(value) || value.length === 0 || value.length > MIRRORABLE_METHODS.length)
    return { problems: [{ path, message: `must be a non-empty list of at most ${MIRRORABLE_METHODS.length} HTTP methods` }] };
  const problems: FieldProblem[] = [];
  value.forEach((m, i) => {
    if (typeof m !== 'string' || !(MIRRORABLE_METHODS as readonly string[]).includes(m))
      problems.push({ path: `${path}[${i}]`, message: `must be one of ${MIRRORABLE_METHODS.join(', ')}` });
    else if (value.indexOf(m) !== i) problems.push({ path: `${path}[${i}]`, message: `repeats ${m}` });
  });
  return problems.length ? { problems } : { methods: value as string[], problems };
}

export function checkIgnoreFields(value: unknown, path: string): { fields?: string[]; problems: FieldProblem[] } {
  if (!Array.isArray(value) || value.length > MIRROR_LIMITS.ignoreFields)
    return { problems: [{ path, message: `must be a list of at most ${MIRROR_LIMITS.ignoreFields} field patterns` }] };
  const problems: FieldProblem[] = [];
  value.forEach((f, i) => {
    if (typeof f !== 'string' || f.length > MIRROR_LIMITS.fieldLength) {
      problems.push({ path: `${path}[${i}]`, message: `must be a string of at most ${MIRROR_LIMITS.fieldLength} characters` });
      return;
    }
    const parsed = parseFieldPattern(f);
    if (typeof parsed === 'string')
      problems.push({ path: `${path}[${i}]`, message: `${parsed} (a key such as "timestamp", or a path such as "$.meta.*", "$.items[*].id")` });
  });
  return problems.length ? { problems } : { fields: value as string[], problems };
}

function share(value: unknown, path: string, problems: FieldProblem[]): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return value;
  problems.push({ path, message: 'must be a number 0–1' });
  return undefined;
}

/** A session as the proxy's control API receives it, or every problem with the field at fault. */
export function parseMirrorSession(body: unknown): { ok: true; session: MirrorSession } | { ok: false; problems: FieldProblem[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problems: [{ path: '(body)', message: 'must be a JSON object' }] };
  const b = body as Record<string, unknown>;
  const known = ['session', 'slot', 'methods', 'ignoreFields', 'sampleRate', 'baselineShare', 'expiresAt'];
  const problems: FieldProblem[] = Object.keys(b)
    .filter((k) => !known.includes(k))
    .map((k) => ({ path: k, message: `is not a known field (expected one of: ${known.join(', ')})` }));
  const text = (key: string, max: number) => {
    const v = b[key];
    if (typeof v === 'string' && v.length > 0 && v.length <= max) return v;
    problems.push({ path: key, message: `must be a non-empty string of at most ${max} characters` });
    return undefined;
  };
  const session = text('session', MIRROR_LIMITS.sessionLength);
  const slot = text('slot', MIRROR_LIMITS.slotLength);
  const methods = checkMethods(b.methods ?? [...IDEMPOTENT_METHODS], 'methods');
  const fields = checkIgnoreFields(b.ignoreFields ?? [], 'ignoreFields');
  problems.push(...methods.problems, ...fields.problems);
  const sampleRate = share(b.sampleRate ?? 1, 'sampleRate', problems);
  const baselineShare = share(b.baselineShare ?? 0.5, 'baselineShare', problems);
  const expiresAt = typeof b.expiresAt === 'string' && !Number.isNaN(Date.parse(b.expiresAt)) ? b.expiresAt : undefined;
  if (!expiresAt) problems.push({ path: 'expiresAt', message: 'must be an ISO date-time: the proxy stops copying then, whatever happens' });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    session: {
      session: session!,
      slot: slot!,
      methods: methods.methods!,
      ignoreFields: fields.fields!,
      sampleRate: sampleRate!,
      baselineShare: baselineShare!,
      expiresAt: expiresAt!,
    },
  };
}

import { formatPath, isIgnored, type FieldPattern } from './ignore-fields.ts';

/**
 * One answer as the mirroring proxy captured it. Bodies are kept only up to the proxy's capture
 * limit; the whole body's length and digest are always there, so two huge answers are still
 * compared, byte for byte, through their digests.
 */
export interface CapturedResponse {
  status: number;
  /** Lower-cased content type, or null. */
  contentType: string | null;
  /** The body as UTF-8 text, up to the capture limit. */
  body: string;
  /** The whole body: its length in bytes and a digest of it (any hash, the same for both sides). */
  bytes: number;
  digest: string;
  /** The body was longer than the capture limit: only the digests can be compared. */
  truncated: boolean;
  latencyMs: number;
}

export interface DiffOptions {
  ignore: readonly FieldPattern[];
  /** Differing paths reported at most (the count of the rest is kept). Default 20. */
  maxPaths?: number;
  /** JSON values visited at most (a bound on the work per comparison, whatever the proxy captured). Default 200,000. */
  maxValues?: number;
}

export interface ResponseDiff {
  /** The status or the body differs (latency is judged apart, as a distribution). */
  differs: boolean;
  statusDiffers: boolean;
  bodyDiffers: boolean;
  /** json: parsed and compared field by field, ignored fields left out; bytes: compared whole, through length and digest. */
  comparedAs: 'json' | 'bytes';
  /** Why the bodies were compared as bytes when one of them says it is JSON (too large, or not valid JSON). */
  bytesBecause: string | null;
  /** Paths of the fields that differ (`$.items[2].score`), at most maxPaths. */
  paths: string[];
  /** Differing paths beyond maxPaths. */
  morePaths: number;
  /** The comparison stopped at maxValues: what differs beyond that point is not reported (the body still differs or not as found). */
  stoppedAtValues: boolean;
}

const isJson = (contentType: string | null) => !!contentType && /(^|\/|\+)json(\s*;|$)/.test(contentType);

/**
 * Compares the live version's answer (`primary`) with another one (the shadow version's, or the
 * live version's own second answer to the same request): the status, then the body: as JSON
 * field by field without the ignored fields when both say they are JSON and parse, or else as
 * bytes. Pure; the work is bounded by the capture limit and maxValues.
 */
export function diffResponses(primary: CapturedResponse, other: CapturedResponse, options: DiffOptions): ResponseDiff {
  const statusDiffers = primary.status !== other.status;
  const base = { statusDiffers, paths: [] as string[], morePaths: 0, stoppedAtValues: false };
  const bytes = (because: string | null): ResponseDiff => {
    const bodyDiffers = primary.bytes !== other.bytes || primary.digest !== other.digest;
    return { ...base, differs: statusDiffers || bodyDiffers, bodyDiffers, comparedAs: 'bytes', bytesBecause: because };
  };
  if (!isJson(primary.contentType) || !isJson(other.contentType)) return bytes(null);
  if (primary.truncated || other.truncated) return bytes(`a body is larger than the capture limit (${Math.max(primary.bytes, other.bytes)} bytes)`);
  let a: unknown;
  let b: unknown;
  try {
    a = JSON.parse(primary.body);
    b = JSON.parse(other.body);
  } catch {
    return bytes('a body is not valid JSON');
  }
  const walk = new Walk(options);
  walk.compare(a, b, []);
  const bodyDiffers = walk.found > 0;
  return {
    differs: statusDiffers || bodyDiffers,
    statusDiffers,
    bodyDiffers,
    comparedAs: 'json',
    bytesBecause: null,
    paths: walk.paths,
    morePaths: walk.found - walk.paths.length,
    stoppedAtValues: walk.stopped,
  };
}

class Walk {
  paths: string[] = [];
  found = 0;
  visited = 0;
  stopped = false;
  private readonly maxPaths: number;
  private readonly maxValues: number;
  constructor(private readonly options: DiffOptions) {
    this.maxPaths = options.maxPaths ?? 20;
    this.maxValues = options.maxValues ?? 200_000;
  }

  differ(at: (string | number)[]): void {
    this.found += 1;
    if (this.paths.length < this.maxPaths) this.paths.push(formatPath(at));
  }

  compare(a: unknown, b: unknown, at: (string | number)[]): void {
    if (this.stopped) return;
    if (++this.visited > this.maxValues) {
      this.stopped = true;
      return;
    }
    if (at.length > 0 && isIgnored(this.options.ignore, at)) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      const n = Math.max(a.length, b.length);
      for (let i = 0; i < n; i++) {
        // An element only one side has differs as a whole (unless ignored).
        if (i >= a.length || i >= b.length) {
          if (!isIgnored(this.options.ignore, [...at, i])) this.differ([...at, i]);
        } else this.compare(a[i], b[i], [...at, i]);
      }
      return;
    }
    if (isObject(a) && isObject(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const key of keys) {
        const inA = Object.hasOwn(a, key);
        const inB = Object.hasOwn(b, key);
        if (inA && inB) this.compare(a[key], b[key], [...at, key]);
        else if (!isIgnored(this.options.ignore, [...at, key])) this.differ([...at, key]);
      }
      return;
    }
    // Scalars (and a type that changed): JSON numbers compare as the doubles they parse to.
    if (!Object.is(a, b) && !(a === 0 && b === 0)) this.differ(at);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A path with its indexes made `[*]`, so that the same field of every element counts as one (`$.items[*].score`). */
export function generalizePath(path: string): string {
  return path.replace(/\[\d+\]/g, '[*]');
}

/**
 * Fields a shadow comparison ignores (timestamps, request ids: whatever differs on every answer
 * by design). A pattern is either a bare key (`timestamp`: that key at any depth) or a JSON path
 * from the root: `$.meta.requestId`, `$.meta.*` (every field under meta), `$.items[*].id`
 * (every element of items), `$.items[0]`. Quoted keys (`$['a.b']`) are not supported: a key
 * with a dot is named by its bare form.
 */
export type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'any' };

export type FieldPattern = { anywhere: string } | { path: PathSegment[] };

const KEY = /^[A-Za-z0-9_$@-]+$/;

/** A pattern, or why it is not one (validation names the field with this). */
export function parseFieldPattern(text: string): FieldPattern | string {
  if (text.length === 0) return 'must not be empty';
  if (!text.startsWith('$')) return KEY.test(text) ? { anywhere: text } : 'a bare key may hold letters, digits, _ $ @ - only (or start a path with $.)';
  const path: PathSegment[] = [];
  let rest = text.slice(1);
  while (rest.length > 0) {
    const m = /^\.([A-Za-z0-9_$@-]+|\*)/.exec(rest) ?? /^\[(\d{1,9}|\*)\]/.exec(rest);
    if (!m) return `cannot read "${rest}": use .key, .*, [n] or [*]`;
    const token = m[1]!;
    path.push(token === '*' ? { kind: 'any' } : m[0].startsWith('[') ? { kind: 'index', index: Number(token) } : { kind: 'key', key: token });
    rest = rest.slice(m[0].length);
  }
  if (path.length === 0) return 'must name a field below $ (ignoring the whole body compares nothing)';
  return { path };
}

/** Whether the value at `at` (keys and indexes from the root) is ignored; whatever lies under an ignored value is too. */
export function isIgnored(patterns: readonly FieldPattern[], at: readonly (string | number)[]): boolean {
  const last = at.at(-1);
  for (const p of patterns) {
    if ('anywhere' in p) {
      if (typeof last === 'string' && last === p.anywhere) return true;
    } else if (p.path.length === at.length && p.path.every((seg, i) => matches(seg, at[i]!))) return true;
  }
  return false;
}

function matches(seg: PathSegment, step: string | number): boolean {
  if (seg.kind === 'any') return true;
  if (seg.kind === 'index') return step === seg.index;
  return step === seg.key;
}

/** `$.items[2].id` for people reading a difference. */
export function formatPath(at: readonly (string | number)[]): string {
  return '$' + at.map((s) => (typeof s === 'number' ? `[${s}]` : KEY.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

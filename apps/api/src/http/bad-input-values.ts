/**
 * The malformed values of the bad-input campaign (bad-input-campaign.test.ts): what a fuzzer,
 * a confused script or an attacker sends, gathered from the campaign that found the 500s of
 * issue [5/7] (ids PostgreSQL refuses, NUL bytes, lone surrogates, numbers beyond a double or
 * a bigint, dates beyond what PostgreSQL stores, deep nesting).
 */

/** Path parameters, as they appear in a URL (already percent-encoded). */
export const PATH_VALUES = [
  'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
  '00000000-0000-0000-0000-000000000000',
  'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%25',
  '..%2F..%2Fetc%2Fpasswd',
  '-1',
  '1e400',
  'null',
  '%20',
  'a'.repeat(100),
  'a'.repeat(101),
];

/** Query parameter values, percent-encoded. */
export const QUERY_VALUES = [
  '',
  'Infinity',
  '-Infinity',
  'NaN',
  '-1',
  '0',
  '1.5',
  '0x10',
  '1e400',
  '9'.repeat(40),
  '9223372036854775808',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%FF',
  'x'.repeat(3000),
  'true',
  'null',
  '%5B%5D',
  '%7B%22a%22%3A1%7D',
  '0000-01-01T00:00:00Z',
  '9999-99-99T99:99:99Z',
  '275760-09-13T00:00:00Z',
  'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
  '%0D%0AX-Injected%3A%201',
];

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** Whole bodies, as text. */
export const WHOLE_BODIES: Array<[string, string]> = [
  ['null', 'null'],
  ['an array', '[]'],
  ['a string', '"text"'],
  ['a number', '42'],
  ['true', 'true'],
  ['broken JSON', '{"a":'],
  ['trailing garbage', '{} x'],
  ['a byte-order mark', '\ufeff{}'],
  ['NUL as a key', '{"\\u0000":1}'],
  ['__proto__', '{"__proto__":{"isAdmin":true}}'],
  ['constructor.prototype', '{"constructor":{"prototype":{"isAdmin":true}}}'],
  ['nested 40 deep', deep(40)],
  ['nested 10,000 deep', deep(10_000)],
  ['an array of 100,000 numbers', `[${'1,'.repeat(100_000)}1]`],
  ['over the 1 MiB body limit', `"${'x'.repeat(1_100_000)}"`],
];

/** Values put in place of each field of a valid body. */
export const BODY_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 31,
  1e308,
  -1e308,
  '',
  ' ',
  'x'.repeat(70_000),
  'a\u0000b',
  'a\ud800b',
  '../../etc/passwd',
  'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  'javascript:alert(1)',
  [],
  [null],
  [[[]]],
  {},
  { a: { b: { c: {} } } },
];

/** Number literals JSON.stringify cannot write: past a double, past 2^53, past a bigint. */
const RAW_NUMBERS = ['1e400', '-1e400', '9007199254740993', '9223372036854775808', '1e-400'];

export interface BodyMutation {
  what: string;
  /** The body as a value, when it is one JSON.stringify can write. */
  body?: unknown;
  /** The body as text otherwise. */
  text?: string;
}

/** Every field of a valid body (to depth 4, the first element of lists) replaced, removed, or joined by an unknown one. */
export function bodyMutations(valid: Record<string, unknown>, values: unknown[]): BodyMutation[] {
  const mutations: BodyMutation[] = [];
  const visit = (path: Array<string | number>, value: unknown, depth: number) => {
    if (path.length) {
      for (const replacement of values) mutations.push({ what: `${path.join('.')}=${describe(replacement)}`, body: replaced(valid, path, replacement) });
      const marker = '"__raw_number__"';
      const template = JSON.stringify(replaced(valid, path, '__raw_number__'));
      for (const raw of RAW_NUMBERS) mutations.push({ what: `${path.join('.')}=${raw}`, text: template.replace(marker, raw) });
      if (typeof path.at(-1) === 'string') mutations.push({ what: `${path.join('.')} removed`, body: replaced(valid, path, undefined) });
    }
    if (depth >= 4 || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      if (value.length) visit([...path, 0], value[0], depth + 1);
      return;
    }
    mutations.push({ what: `${[...path, 'surprise'].join('.')} added`, body: replaced(valid, [...path, 'surprise'], 1) });
    for (const [key, child] of Object.entries(value)) visit([...path, key], child, depth + 1);
  };
  visit([], valid, 0);
  const first = Object.keys(valid)[0];
  if (first) {
    const text = JSON.stringify(valid);
    mutations.push({ what: `${first} twice`, text: text.replace('{', `{${JSON.stringify(first)}:${JSON.stringify(valid[first])},`) });
  }
  return mutations;
}

/** A copy of `body` with the value at `path` replaced (undefined removes it). */
function replaced(body: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

function describe(value: unknown): string {
  const text = typeof value === 'string' && value.length > 30 ? `"${value.slice(0, 10)}…" (${value.length} chars)` : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Headers a client gets wrong. Values stay printable ASCII: Node refuses others before sending. */
export const HEADER_VARIANTS: Array<[string, Record<string, string>]> = [
  ['content-type text/plain', { 'content-type': 'text/plain' }],
  ['content-type form', { 'content-type': 'application/x-www-form-urlencoded' }],
  ['content-type multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
  ['content-type json in latin1', { 'content-type': 'application/json; charset=latin1' }],
  ['content-type garbage', { 'content-type': ';;;/' }],
  ['authorization not bearer', { authorization: 'Basic Zm9vOmJhcg==' }],
  ['authorization empty bearer', { authorization: 'Bearer ' }],
  ['authorization unknown token', { authorization: 'Bearer gp_0000000000000000000000000000000000000000' }],
  ['authorization 8 KiB', { authorization: `Bearer ${'x'.repeat(8192)}` }],
  ['cookie garbage', { cookie: 'glidepath_session=%%%; ; =;' }],
  ['cookie unknown session', { cookie: 'glidepath_session=00000000000000000000000000000000', authorization: '' }],
  ['cross-site origin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ['x-request-id odd', { 'x-request-id': '../../\'";--' }],
  ['accept xml', { accept: 'application/xml' }],
  ['x-csrf-token garbage', { 'x-csrf-token': 'nope' }],
];

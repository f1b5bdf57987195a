import { describe, expect, it } from 'vitest';
import { parseFieldPattern, type FieldPattern } from './ignore-fields.ts';
import { diffResponses, generalizePath, type CapturedResponse } from './response-diff.ts';

const patterns = (...texts: string[]) => texts.map((t) => parseFieldPattern(t) as FieldPattern);

/** A captured JSON answer; digest and length from the text itself (any hash does for the comparison). */
function json(body: unknown, over: Partial<CapturedResponse> = {}): CapturedResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body: text,
    bytes: text.length,
    digest: `d:${text}`,
    truncated: false,
    latencyMs: 5,
    ...over,
  };
}
const text = (body: string, over: Partial<CapturedResponse> = {}) => json(body, { contentType: 'text/plain', ...over });

describe('field patterns', () => {
  it.each([
    ['timestamp', { anywhere: 'timestamp' }],
    ['$.requestId', { path: [{ kind: 'key', key: 'requestId' }] }],
    ['$.meta.*', { path: [{ kind: 'key', key: 'meta' }, { kind: 'any' }] }],
    ['$.items[*].id', { path: [{ kind: 'key', key: 'items' }, { kind: 'any' }, { kind: 'key', key: 'id' }] }],
    [
      '$.items[0]',
      {
        path: [
          { kind: 'key', key: 'items' },
          { kind: 'index', index: 0 },
        ],
      },
    ],
  ])('%s parses', (pattern, expected) => expect(parseFieldPattern(pattern)).toEqual(expected));

  it.each([
    ['', /empty/],
    ['$', /below \$/],
    ['$.a..b', /cannot read/],
    ['$.a[x]', /cannot read/],
    ['a.b', /bare key/],
    ['$["a"]', /cannot read/],
  ])('%j is refused with why', (pattern, why) => expect(parseFieldPattern(pattern)).toMatch(why));
});

describe('diffResponses', () => {
  const cases: Array<{ name: string; a: CapturedResponse; b: CapturedResponse; ignore?: string[]; differs: boolean; paths?: string[]; as?: 'json' | 'bytes' }> =
    [
      { name: 'identical JSON', a: json({ id: 1, items: [1, 2] }), b: json({ items: [1, 2], id: 1 }), differs: false, paths: [], as: 'json' },
      { name: 'key order and spacing do not matter', a: json('{"a":1,"b":[true,null]}'), b: json('{ "b": [true, null], "a": 1 }'), differs: false },
      { name: 'a changed scalar', a: json({ id: 1, score: 0.5 }), b: json({ id: 1, score: 0.25 }), differs: true, paths: ['$.score'] },
      { name: 'numbers compare as values: 1 and 1.0', a: json('{"n":1}'), b: json('{"n":1.0}'), differs: false },
      { name: 'a type that changed', a: json({ n: 1 }), b: json({ n: '1' }), differs: true, paths: ['$.n'] },
      { name: 'null against a missing key', a: json({ n: null }), b: json({}), differs: true, paths: ['$.n'] },
      {
        name: 'an ignored key anywhere',
        a: json({ timestamp: 1, meta: { timestamp: 2 } }),
        b: json({ timestamp: 9, meta: { timestamp: 8 } }),
        ignore: ['timestamp'],
        differs: false,
      },
      {
        name: 'a root path ignores only there',
        a: json({ requestId: 'a', meta: { requestId: 'x' } }),
        b: json({ requestId: 'b', meta: { requestId: 'y' } }),
        ignore: ['$.requestId'],
        differs: true,
        paths: ['$.meta.requestId'],
      },
      {
        name: 'everything under meta',
        a: json({ meta: { a: 1, b: { c: 2 } }, v: 1 }),
        b: json({ meta: { a: 2, b: { c: 3 }, d: 4 }, v: 1 }),
        ignore: ['$.meta.*'],
        differs: false,
      },
      { name: 'a key missing under an ignored object', a: json({ meta: {} }), b: json({ meta: { extra: true } }), ignore: ['$.meta.*'], differs: false },
      {
        name: 'nested differences with their paths',
        a: json({ a: { b: { c: [1, { d: 2 }] } } }),
        b: json({ a: { b: { c: [1, { d: 3 }] } } }),
        differs: true,
        paths: ['$.a.b.c[1].d'],
      },
      { name: 'an element more', a: json({ items: [1, 2] }), b: json({ items: [1, 2, 3] }), differs: true, paths: ['$.items[2]'] },
      { name: 'reordered elements differ (order is part of an answer)', a: json([1, 2]), b: json([2, 1]), differs: true, paths: ['$[0]', '$[1]'] },
      {
        name: 'one field of every element ignored',
        a: json({
          items: [
            { id: 'a', v: 1 },
            { id: 'b', v: 2 },
          ],
        }),
        b: json({
          items: [
            { id: 'x', v: 1 },
            { id: 'y', v: 2 },
          ],
        }),
        ignore: ['$.items[*].id'],
        differs: false,
      },
      { name: 'a status that differs, same body', a: json({ ok: true }), b: json({ ok: true }, { status: 503 }), differs: true, paths: [] },
      { name: 'non-JSON bytes equal', a: text('hello'), b: text('hello'), differs: false, as: 'bytes' },
      { name: 'non-JSON bytes differ', a: text('hello'), b: text('hellO'), differs: true, as: 'bytes' },
      { name: 'JSON against text: bytes', a: json({ a: 1 }), b: text('{"a":1}'), differs: false, as: 'bytes' },
      { name: 'invalid JSON: bytes', a: json('{"a":'), b: json('{"a":'), differs: false, as: 'bytes' },
      { name: 'ignored fields do not apply to bytes', a: text('t=1'), b: text('t=2'), ignore: ['t'], differs: true, as: 'bytes' },
      {
        name: 'vendor JSON types are JSON',
        a: json({ a: 1 }, { contentType: 'application/problem+json' }),
        b: json({ a: 1 }, { contentType: 'application/problem+json' }),
        differs: false,
        as: 'json',
      },
    ];
  it.each(cases)('$name', ({ a, b, ignore = [], differs, paths, as }) => {
    const diff = diffResponses(a, b, { ignore: patterns(...ignore) });
    expect(diff.differs).toBe(differs);
    if (paths) expect(diff.paths).toEqual(paths);
    if (as) expect(diff.comparedAs).toBe(as);
  });

  it('says what differs: the status, the body, or both', () => {
    expect(diffResponses(json({ a: 1 }), json({ a: 2 }, { status: 500 }), { ignore: [] })).toMatchObject({ statusDiffers: true, bodyDiffers: true });
    expect(diffResponses(json({ a: 1 }), json({ a: 1 }, { status: 500 }), { ignore: [] })).toMatchObject({ statusDiffers: true, bodyDiffers: false });
  });

  it('compares bodies over the capture limit through their length and digest, and says why', () => {
    const big = { body: '{"a":', truncated: true, bytes: 5_000_000 };
    const same = diffResponses(json('', { ...big, digest: 'x' }), json('', { ...big, digest: 'x' }), { ignore: patterns('a') });
    expect(same).toMatchObject({ differs: false, comparedAs: 'bytes', bytesBecause: expect.stringMatching(/larger than the capture limit \(5000000 bytes\)/) });
    expect(diffResponses(json('', { ...big, digest: 'x' }), json('', { ...big, digest: 'y' }), { ignore: [] }).differs).toBe(true);
  });

  it('reports at most maxPaths paths and counts the rest', () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, -i - 1]));
    const diff = diffResponses(json(a), json(b), { ignore: [], maxPaths: 5 });
    expect(diff.paths).toHaveLength(5);
    expect(diff.morePaths).toBe(45);
  });

  it('bounds the work on a huge body: stops at maxValues, and says so', () => {
    const a = { items: Array.from({ length: 100_000 }, (_, i) => i) };
    const b = { items: Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? -1 : i)) };
    const bounded = diffResponses(json(a), json(b), { ignore: [], maxValues: 1000 });
    expect(bounded).toMatchObject({ stoppedAtValues: true, differs: false });
    expect(diffResponses(json(a), json(b), { ignore: [] })).toMatchObject({ stoppedAtValues: false, differs: true, paths: ['$.items[99999]'] });
  });

  it('generalises indexes so that one field of every element counts once', () => {
    expect(generalizePath('$.items[12].tags[3]')).toBe('$.items[*].tags[*]');
  });
});

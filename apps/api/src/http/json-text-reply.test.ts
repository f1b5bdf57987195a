import { redactUrlText } from '@glidepath/core';
import { describe, expect, it } from 'vitest';
import { mayHoldUrlCredentials } from './json-text-reply.ts';

// The hot reads send PostgreSQL's JSON text as it is, unless this scan says it may hold a URL
// with credentials. It must never miss one that core's redaction would find in a decoded string.
const CASES = [
  'https://user:s3cret@prom.example/api',
  'http://token@hooks.example/x',
  'see https://a:b@x.example and https://c:d@y.example',
  'https://u:"quoted\\pass@x.example',
  'git+ssh://u:p@host/repo',
  'https://u:p\u0001x@x.example',
  '\nhttps://u:p@x.example',
  'https://prom.example/api?who=me@example.com',
  'mailto:someone@example.com',
  'https://a.example#frag@x',
  'no url here',
  'https://@x.example',
];

describe('mayHoldUrlCredentials', () => {
  it.each(CASES)('finds every URL with credentials core would redact, in JSON text: %j', (value) => {
    const json = JSON.stringify({ a: [value, { b: value }], c: `x ${value} y` });
    const pgStyle = JSON.stringify({ a: value }).replace(/,/g, ', ').replace(/:"/g, ': "');
    const redacts = redactUrlText(value) !== value;
    if (redacts) {
      expect(mayHoldUrlCredentials(json)).toBe(true);
      expect(mayHoldUrlCredentials(pgStyle)).toBe(true);
    }
  });

  it('passes text without any as it is', () => {
    expect(mayHoldUrlCredentials(JSON.stringify({ baseUrl: 'http://canary.internal:8080', who: 'ops@example.com', at: 'https://x.example/a@b' }))).toBe(false);
    expect(mayHoldUrlCredentials('{"u" : "https://prom.example/api?who=me@example.com"}')).toBe(false);
  });

  it('never misses, on random text made of the characters that matter', () => {
    const alphabet = ['h', 't', 'p', 's', ':', '/', '@', 'a', ' ', '?', '#', '"', '\\', '\n', '.', '\u00a0'];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 20_000; n++) {
      const value = Array.from({ length: 4 + Math.floor(rnd() * 24) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      if (redactUrlText(value) !== value) expect(mayHoldUrlCredentials(JSON.stringify([value])), JSON.stringify(value)).toBe(true);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { duplicateJsonKey } from './json-duplicate-keys.ts';

describe('duplicateJsonKey', () => {
  it.each([
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"x":1},"b":{"x":2}}', undefined],
    ['{"spec":{"steps":[{"weight":1},{"weight":5,"weight":100}]}}', 'spec.steps.1.weight'],
    ['{"a\\u0062":1,"ab":2}', 'ab'],
    ['{"s":"{\\"a\\":1,\\"a\\":2}"}', undefined],
    ['[{"a":1},{"a":2}]', undefined],
    ['[1,[2,{"k":1,"k":1}]]', '1.1.k'],
    ['"just a string"', undefined],
    ['{"a":"\\\\","a":1}', 'a'],
  ])('%s → %s', (text, expected) => {
    JSON.parse(text); // the scanner runs on text that parsed
    expect(duplicateJsonKey(text)).toBe(expected);
  });
});

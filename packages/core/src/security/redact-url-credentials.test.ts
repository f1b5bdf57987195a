import { describe, expect, it } from 'vitest';
import { redactUrlCredentials, redactUrlText } from './redact-url-credentials.ts';

describe('redactUrlCredentials', () => {
  it.each([
    ['https://user:s3cret@prom.example/api', 'https://user:***@prom.example/api'],
    ['http://token@hooks.example/x', 'http://***@hooks.example/x'],
    ['see https://a:b@x.example and https://c:d@y.example', 'see https://a:***@x.example and https://c:***@y.example'],
    ['https://prom.example/api?who=me@example.com', 'https://prom.example/api?who=me@example.com'],
    ['mailto:someone@example.com', 'mailto:someone@example.com'],
    ['no url here', 'no url here'],
  ])('%s', (given, expected) => {
    expect(redactUrlText(given)).toBe(expected);
  });

  it('walks objects and arrays, and leaves values without credentials as they are', () => {
    const clean = { type: 'prometheus', config: { url: 'https://prom.example' } };
    expect(redactUrlCredentials(clean)).toBe(clean);
    const target = { type: 'webhook', config: { url: 'https://ci:pw@hooks.example/t', headers: [{ v: 'https://u:p@x.example' }] }, n: 3 };
    expect(redactUrlCredentials(target)).toEqual({
      type: 'webhook',
      config: { url: 'https://ci:***@hooks.example/t', headers: [{ v: 'https://u:***@x.example' }] },
      n: 3,
    });
    expect(target.config.url).toBe('https://ci:pw@hooks.example/t');
  });
});

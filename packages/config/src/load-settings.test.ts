import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { loadSettings, sharedConfig, type Env } from './load-settings.ts';
import { DEVELOPMENT_SECRETS_KEY } from './secrets-key.ts';
import type { App, SharedSettings } from './variables.ts';

/** The problems loading `env` for `app` reports (none when it loads). */
function problems(env: Env, app: App): readonly string[] {
  try {
    loadSettings(env, app);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const GATE_SECRET = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;

describe.each<App>(['api', 'worker'])('the %s reads shared variables like the other app', (app) => {
  it.each<[string, Env, string]>([
    ['a short GLIDEPATH_ENV', { GLIDEPATH_ENV: 'prod' }, 'GLIDEPATH_ENV must be one of development, test, production, got "prod"'],
    ['a capitalised GLIDEPATH_ENV', { GLIDEPATH_ENV: 'Production' }, 'GLIDEPATH_ENV must be one of development, test, production, got "Production"'],
    ['a switch that is neither', { GLIDEPATH_CREATE_DATABASE: 'maybe' }, 'GLIDEPATH_CREATE_DATABASE must be true, false, 1, 0, yes or no, got "maybe"'],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [
      'a database of another kind',
      { DATABASE_URL: 'mysql://db/glidepath' },
      'DATABASE_URL must be a URL starting with postgres: or postgresql:, got "mysql://db/glidepath"',
    ],
    ['no URL at all', { REDIS_URL: 'localhost:6379' }, 'REDIS_URL must be a URL starting with redis: or rediss:, got "localhost:6379"'],
    ['a queue prefix with a space', { GLIDEPATH_QUEUE_PREFIX: 'my app' }, 'GLIDEPATH_QUEUE_PREFIX must be 1-100 letters, digits and _ . : -, got "my app"'],
    [
      'a short secrets key',
      { GLIDEPATH_SECRETS_KEY: 'c2hvcnQ=' },
      'GLIDEPATH_SECRETS_KEY must be 32 bytes, base64 or hex (openssl rand -base64 32), got a value of 8 characters',
    ],
    [
      'a weak metrics token',
      { GLIDEPATH_METRICS_TOKEN: 'hunter2' },
      'GLIDEPATH_METRICS_TOKEN must be 32-200 characters of letters, digits, _ and - (e.g. from: openssl rand -hex 32), got a value of 7 characters',
    ],
    [
      'an egress range with too long a prefix',
      { GLIDEPATH_EGRESS_ALLOW: '10.0.0.0/8, 10.0.0.0/33' },
      'GLIDEPATH_EGRESS_ALLOW must be a comma-separated list of CIDR ranges, IP addresses or host names, each optionally with :port (IPv6 with a port in brackets), got "10.0.0.0/33" (not an IP address or a range (10.0.0.0/8, fd00::/8))',
    ],
    [
      'an egress entry with a bad port',
      { GLIDEPATH_EGRESS_DENY: 'metadata.internal:99999' },
      'GLIDEPATH_EGRESS_DENY must be a comma-separated list of CIDR ranges, IP addresses or host names, each optionally with :port (IPv6 with a port in brackets), got "metadata.internal:99999" (the port must be 1-65535)',
    ],
    [
      'a relative socket directory',
      { GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: '/run/haproxy,run/other' },
      'GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS must be a comma-separated list of absolute directories without ".." parts, got "run/other"',
    ],
  ])('refuses %s with a ConfigError naming the variable', (_case, env, message) => {
    expect(problems(env, app)).toEqual([message]);
  });

  it.each<[string, boolean]>([
    ['0', false],
    ['1', true],
    ['false', false],
    ['true', true],
    ['no', false],
    ['YES', true],
    ['', true],
  ])('GLIDEPATH_CREATE_DATABASE=%j is %s', (raw, expected) => {
    expect(sharedConfig(loadSettings({ GLIDEPATH_CREATE_DATABASE: raw }, app) as SharedSettings).createDatabase).toBe(expected);
  });

  it('reports every problem at once, in the order of the table', () => {
    expect(problems({ GLIDEPATH_ENV: 'prod', LOG_LEVEL: 'loud', GLIDEPATH_CREATE_DATABASE: 'maybe' }, app).map((p) => p.split(' ')[0])).toEqual([
      'GLIDEPATH_ENV',
      'LOG_LEVEL',
      'GLIDEPATH_CREATE_DATABASE',
    ]);
  });

  it('never echoes a password from a connection string', () => {
    expect(problems({ DATABASE_URL: 'mysql://glidepath:s3cret@db/glidepath' }, app)).toEqual([
      'DATABASE_URL must be a URL starting with postgres: or postgresql:, got "mysql://glidepath:***@db/glidepath"',
    ]);
  });

  it('keeps the defaults it had before the shared schema', () => {
    const shared = sharedConfig(loadSettings({}, app) as SharedSettings);
    expect(shared).toEqual({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/glidepath',
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'info',
      production: false,
      createDatabase: true,
      queuePrefix: 'glidepath',
      metricsToken: undefined,
      secretsKey: { key: DEVELOPMENT_SECRETS_KEY, development: true },
      egress: { allow: [], deny: [], unixSocketDirs: [] },
      deployCommandDirs: [],
    });
  });

  it('takes empty as unset, and reads the egress lists trimmed and normalised', () => {
    const shared = sharedConfig(
      loadSettings(
        {
          LOG_LEVEL: '',
          GLIDEPATH_EGRESS_ALLOW: ' 10.0.0.0/8:443, [fd00::/8]:443,hooks.example.com:443 ,::1,',
          GLIDEPATH_EGRESS_DENY: '169.254.169.254',
          GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: '/run/haproxy/, /',
        },
        app,
      ) as SharedSettings,
    );
    expect(shared.logLevel).toBe('info');
    expect(shared.egress).toEqual({
      allow: ['10.0.0.0/8:443', '[fd00::/8]:443', 'hooks.example.com:443', '::1'],
      deny: ['169.254.169.254'],
      unixSocketDirs: ['/run/haproxy', '/'],
    });
  });
});

describe("egress lists use the network policy's grammar", () => {
  it.each(['10.0.0.0/8', '10.0.0.0/8:443', '192.168.1.5', 'fd00::/8', '::1', '[fd00::/8]:443', '[::1]:8080', 'hooks.example.com', 'Hooks.Example.COM.:443'])(
    'accepts %s',
    (entry) => {
      expect(problems({ GLIDEPATH_EGRESS_ALLOW: entry }, 'worker')).toEqual([]);
    },
  );

  it.each(['10.0.0.256', '10.0.0.0/33', 'fd00::/129', '[10.0.0.1]:80', 'host:0', 'host:', ':443', 'under score..example.com', 'http://example.com'])(
    'refuses %s, naming the entry',
    (entry) => {
      expect(problems({ GLIDEPATH_EGRESS_DENY: entry }, 'api')).toEqual([expect.stringContaining(`GLIDEPATH_EGRESS_DENY must be a comma-separated list`)]);
      expect(problems({ GLIDEPATH_EGRESS_DENY: entry }, 'api')[0]).toContain(`got ${JSON.stringify(entry)}`);
    },
  );

  it.each(['relative/dir', '/run/../etc', './run'])('refuses the socket directory %s', (dir) => {
    expect(problems({ GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: dir }, 'worker')).toEqual([
      `GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS must be a comma-separated list of absolute directories without ".." parts, got ${JSON.stringify(dir)}`,
    ]);
  });
});

describe('production requirements', () => {
  it.each<[App, Env, string[]]>([
    [
      'api',
      { GLIDEPATH_ENV: 'production' },
      [
        'GLIDEPATH_SECRETS_KEY must be 32 bytes, base64 or hex (openssl rand -base64 32) when GLIDEPATH_ENV is production (webhook secrets must not be sealed with the built-in development key), got nothing',
      ],
    ],
    ['api', { GLIDEPATH_ENV: 'production', GLIDEPATH_SECRETS_KEY: SECRETS_KEY }, []],
    [
      'worker',
      { GLIDEPATH_ENV: 'production', GLIDEPATH_SECRETS_KEY: SECRETS_KEY },
      [
        'GLIDEPATH_GATE_SIGNING_SECRET must be whsec_ followed by base64 of at least 24 random bytes when GLIDEPATH_ENV is production (webhook gates must be able to tell Glidepath from anyone else), got nothing',
      ],
    ],
    ['worker', { GLIDEPATH_ENV: 'production', GLIDEPATH_SECRETS_KEY: SECRETS_KEY, GLIDEPATH_GATE_SIGNING_SECRET: GATE_SECRET }, []],
    ['worker', { GLIDEPATH_ENV: 'test' }, []],
    // A misspelt environment is refused on its own; nothing is guessed about production.
    ['worker', { GLIDEPATH_ENV: 'prod' }, ['GLIDEPATH_ENV must be one of development, test, production, got "prod"']],
  ])('the %s with %o', (app, env, expected) => {
    expect(problems(env, app)).toEqual(expected);
  });

  it('reads the key as base64 or hex, and says production is production', () => {
    const hex = Buffer.alloc(32, 7).toString('hex');
    const s = loadSettings({ GLIDEPATH_ENV: 'production', GLIDEPATH_SECRETS_KEY: hex }, 'api');
    expect(sharedConfig(s)).toMatchObject({ production: true, secretsKey: { key: Buffer.alloc(32, 7), development: false } });
  });
});

describe('app-only variables', () => {
  it.each<[App, Env, string]>([
    ['api', { GLIDEPATH_PORT: '70000' }, 'GLIDEPATH_PORT must be a port number 0-65535, got "70000"'],
    ['api', { GLIDEPATH_SESSION_IDLE_MINUTES: '1e3' }, 'GLIDEPATH_SESSION_IDLE_MINUTES must be an integer 1-10080, got "1e3"'],
    ['api', { GLIDEPATH_PUBLIC_API_DOCS: 'on' }, 'GLIDEPATH_PUBLIC_API_DOCS must be true, false, 1, 0, yes or no, got "on"'],
    ['api', { GLIDEPATH_OIDC_ISSUER: 'https://idp.example.com' }, 'GLIDEPATH_OIDC_CLIENT_ID must be set when GLIDEPATH_OIDC_ISSUER is, got nothing'],
    [
      'api',
      { GLIDEPATH_OIDC_ISSUER: 'http://idp.example.com', GLIDEPATH_OIDC_CLIENT_ID: 'glidepath' },
      'GLIDEPATH_OIDC_ISSUER must be an https URL (plain http only for an issuer on loopback), got "http://idp.example.com"',
    ],
    ['api', { GLIDEPATH_OIDC_SCOPES: 'email profile' }, 'GLIDEPATH_OIDC_SCOPES must be space-separated scopes that include openid, got "email profile"'],
    ['worker', { GLIDEPATH_WORKER_CONCURRENCY: '0' }, 'GLIDEPATH_WORKER_CONCURRENCY must be an integer 1-200, got "0"'],
    ['worker', { GLIDEPATH_JOB_LOCK_MS: ' 5000' }, 'GLIDEPATH_JOB_LOCK_MS must be an integer 1000-600000, got " 5000"'],
    [
      'worker',
      { GLIDEPATH_GATE_SIGNING_SECRET: 'whsec_short' },
      'GLIDEPATH_GATE_SIGNING_SECRET must be whsec_ followed by base64 of at least 24 random bytes, got a value of 11 characters',
    ],
  ])('the %s refuses %o', (app, env, message) => {
    expect(problems(env, app)).toEqual([message]);
  });

  it("does not judge the other app's variables (they may share one environment file, but not one schema reading)", () => {
    expect(problems({ GLIDEPATH_WORKER_CONCURRENCY: 'lots' }, 'api')).toEqual([]);
    expect(problems({ GLIDEPATH_PORT: 'http' }, 'worker')).toEqual([]);
  });

  it('gives the tools only what they connect with', () => {
    expect(loadSettings({ GLIDEPATH_QUEUE_PREFIX: 'gp-1' }, 'tools')).toEqual({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/glidepath',
      REDIS_URL: 'redis://127.0.0.1:6379',
      GLIDEPATH_QUEUE_PREFIX: 'gp-1',
    });
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DEVELOPMENT_SECRETS_KEY } from '@glidepath/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe("the API's configuration", () => {
  it('keeps the settings it had before the shared schema', () => {
    expect(loadConfig({})).toEqual({
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
      host: '127.0.0.1',
      port: 3000,
      webDist: fileURLToPath(new URL('../../web/dist', import.meta.url)),
      bootstrapToken: undefined,
      publicUrl: 'http://127.0.0.1:3000',
      oidc: undefined,
      sessions: { idleMs: 60 * 60_000, absoluteMs: 12 * 3_600_000 },
      publicApiDocs: false,
      approvalMaxAuthAgeMs: 15 * 60_000,
    });
  });

  it('derives the public URL and the sign-in settings from the variables', () => {
    const config = loadConfig({
      GLIDEPATH_HOST: '0.0.0.0',
      GLIDEPATH_PORT: '8080',
      GLIDEPATH_OIDC_ISSUER: 'http://127.0.0.1:9000',
      GLIDEPATH_OIDC_CLIENT_ID: 'glidepath',
      GLIDEPATH_CREATE_DATABASE: '0',
    });
    expect(config).toMatchObject({
      publicUrl: 'http://127.0.0.1:8080',
      createDatabase: false,
      oidc: {
        issuer: 'http://127.0.0.1:9000',
        clientId: 'glidepath',
        clientSecret: undefined,
        redirectUrl: 'http://127.0.0.1:8080/auth/callback',
        scopes: 'openid email profile',
        groupsClaim: 'groups',
        allowInsecure: true,
      },
    });
    expect(loadConfig({ GLIDEPATH_PUBLIC_URL: 'https://glidepath.example.com/' }).publicUrl).toBe('https://glidepath.example.com');
  });

  it('stops the real API on a bad environment: non-zero exit, one line per problem, no stack', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', `${root}apps/api/src/server.ts`], {
      cwd: root,
      env: { ...process.env, GLIDEPATH_ENV: 'prod', GLIDEPATH_CREATE_DATABASE: 'maybe', LOG_LEVEL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      'glidepath api: GLIDEPATH_ENV must be one of development, test, production, got "prod"',
      'glidepath api: GLIDEPATH_CREATE_DATABASE must be true, false, 1, 0, yes or no, got "maybe"',
    ]);
  });
});

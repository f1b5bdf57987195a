import { once } from 'node:events';
import { startWorkerProcess } from '@glidepath/db/testing';
import { DEVELOPMENT_SECRETS_KEY } from '@glidepath/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe("the worker's configuration", () => {
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
      deployStateDir: '.glidepath/deploy-runs',
      metricsHost: '127.0.0.1',
      metricsPort: 3001,
      concurrency: 10,
      auditVerifyEveryMs: 300_000,
      sweepEveryMs: 5000,
      jobLockMs: 30_000,
      webhooks: { pollMs: 500, retryBaseMs: 5000, retryForMs: 26 * 3_600_000, timeoutMs: 10_000 },
      gateSigningSecret: undefined,
      mirrorToken: undefined,
    });
  });

  it('reads GLIDEPATH_CREATE_DATABASE=0 as false, as the API does', () => {
    expect(loadConfig({ GLIDEPATH_CREATE_DATABASE: '0' }).createDatabase).toBe(false);
  });

  it('stops the real worker on a bad environment: non-zero exit, one line per problem, no stack', async () => {
    const worker = startWorkerProcess({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/glidepath_never_used',
      queuePrefix: 'gp-config-test',
      extra: { GLIDEPATH_ENV: 'prod', LOG_LEVEL: 'loud' },
    });
    if (worker.child.exitCode === null) await once(worker.child, 'exit');
    expect(worker.child.exitCode).toBe(1);
    expect(worker.output().trim().split('\n')).toEqual([
      'glidepath worker: GLIDEPATH_ENV must be one of development, test, production, got "prod"',
      'glidepath worker: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });
});

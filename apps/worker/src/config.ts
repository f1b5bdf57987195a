import { secretsKeyFromEnv } from '@glidepath/db';
import { ConfigError } from './config-error.ts';

export interface WorkerConfig {
  databaseUrl: string;
  redisUrl: string;
  logLevel: string;
  metricsHost: string;
  metricsPort: number;
  /** When set, /metrics answers only "Authorization: Bearer <it>" (the same GLIDEPATH_METRICS_TOKEN as the API's). */
  metricsToken: string | undefined;
  concurrency: number;
  auditVerifyEveryMs: number;
  createDatabase: boolean;
  /** Redis key prefix of the queues: separate Glidepath installations sharing one Redis. */
  queuePrefix: string;
  /** production hides test-only providers such as the recording router. */
  production: boolean;
  sweepEveryMs: number;
  /** How long a job may go unheard from before another worker takes it over as stalled. */
  jobLockMs: number;
  /** Opens sealed webhook secrets; `development` when the built-in key stands in (never in production). */
  secretsKey: { key: Buffer; development: boolean };
  webhooks: {
    /** How often the outbox reads the audit log and due deliveries are handed out. */
    pollMs: number;
    /** First retry after this; each next one waits twice as long, up to an hour. */
    retryBaseMs: number;
    /** A delivery is retried for this long before it is marked failed (redelivery stays possible). */
    retryForMs: number;
    timeoutMs: number;
  };
  /** Signs the webhook gate's requests (Standard Webhooks); required in production. */
  gateSigningSecret: string | undefined;
}

/** The only place the worker reads the environment. */
export function loadConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const production = (env.GLIDEPATH_ENV || 'development') === 'production';
  let secretsKey: WorkerConfig['secretsKey'];
  try {
    secretsKey = secretsKeyFromEnv(env, production);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const gateSigningSecret = env.GLIDEPATH_GATE_SIGNING_SECRET || undefined;
  if (gateSigningSecret && !/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(gateSigningSecret))
    throw new ConfigError('GLIDEPATH_GATE_SIGNING_SECRET must be whsec_ followed by base64 of at least 24 random bytes');
  if (production && !gateSigningSecret)
    throw new ConfigError('GLIDEPATH_GATE_SIGNING_SECRET is required in production: webhook gates must be able to tell Glidepath from anyone else');
  return {
    databaseUrl: env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/glidepath',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    logLevel: env.LOG_LEVEL || 'info',
    metricsHost: env.GLIDEPATH_WORKER_METRICS_HOST || '127.0.0.1',
    metricsPort: int(env, 'GLIDEPATH_WORKER_METRICS_PORT', 3001, 0, 65535),
    metricsToken: env.GLIDEPATH_METRICS_TOKEN || undefined,
    concurrency: int(env, 'GLIDEPATH_WORKER_CONCURRENCY', 10, 1, 200),
    auditVerifyEveryMs: int(env, 'GLIDEPATH_AUDIT_VERIFY_EVERY_MS', 300_000, 1000, 86_400_000),
    createDatabase: env.GLIDEPATH_CREATE_DATABASE !== 'false',
    queuePrefix: env.GLIDEPATH_QUEUE_PREFIX || 'glidepath',
    production,
    secretsKey,
    gateSigningSecret,
    webhooks: {
      pollMs: int(env, 'GLIDEPATH_WEBHOOK_POLL_MS', 500, 50, 60_000),
      retryBaseMs: int(env, 'GLIDEPATH_WEBHOOK_RETRY_BASE_MS', 5000, 10, 600_000),
      retryForMs: int(env, 'GLIDEPATH_WEBHOOK_RETRY_HOURS', 26, 1, 720) * 3_600_000,
      timeoutMs: int(env, 'GLIDEPATH_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    },
    sweepEveryMs: int(env, 'GLIDEPATH_SWEEP_EVERY_MS', 5000, 100, 600_000),
    jobLockMs: int(env, 'GLIDEPATH_JOB_LOCK_MS', 30_000, 1000, 600_000),
  };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer ${min}-${max}, got "${raw}"`);
  return value;
}

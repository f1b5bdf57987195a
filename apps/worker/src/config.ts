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
}

/** The only place the worker reads the environment. */
export function loadConfig(env: NodeJS.ProcessEnv): WorkerConfig {
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
    production: (env.GLIDEPATH_ENV || 'development') === 'production',
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

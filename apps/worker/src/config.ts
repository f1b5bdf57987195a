import { loadSettings, sharedConfig, type Env, type SharedConfig } from '@glidepath/config';

export { ConfigError } from '@glidepath/config';

/** The worker's settings; what it shares with the API comes from @glidepath/config's sharedConfig. */
export interface WorkerConfig extends SharedConfig {
  metricsHost: string;
  metricsPort: number;
  concurrency: number;
  auditVerifyEveryMs: number;
  sweepEveryMs: number;
  /** How long a job may go unheard from before another worker takes it over as stalled. */
  jobLockMs: number;
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
  /** The bearer token of the mirroring proxies' control API (shadow steps), when they want one. */
  mirrorToken: string | undefined;
  /** Where command deploy runs are recorded, so that a replacement worker resumes them. */
  deployStateDir: string;
}

/** Picks the worker's shape from the one validated schema (which throws a ConfigError listing every problem). */
export function loadConfig(env: Env): WorkerConfig {
  const s = loadSettings(env, 'worker');
  return {
    ...sharedConfig(s),
    metricsHost: s.GLIDEPATH_WORKER_METRICS_HOST,
    metricsPort: s.GLIDEPATH_WORKER_METRICS_PORT,
    concurrency: s.GLIDEPATH_WORKER_CONCURRENCY,
    auditVerifyEveryMs: s.GLIDEPATH_AUDIT_VERIFY_EVERY_MS,
    sweepEveryMs: s.GLIDEPATH_SWEEP_EVERY_MS,
    jobLockMs: s.GLIDEPATH_JOB_LOCK_MS,
    webhooks: {
      pollMs: s.GLIDEPATH_WEBHOOK_POLL_MS,
      retryBaseMs: s.GLIDEPATH_WEBHOOK_RETRY_BASE_MS,
      retryForMs: s.GLIDEPATH_WEBHOOK_RETRY_HOURS * 3_600_000,
      timeoutMs: s.GLIDEPATH_WEBHOOK_TIMEOUT_MS,
    },
    gateSigningSecret: s.GLIDEPATH_GATE_SIGNING_SECRET,
    deployStateDir: s.GLIDEPATH_DEPLOY_STATE_DIR,
    mirrorToken: s.GLIDEPATH_MIRROR_TOKEN,
  };
}

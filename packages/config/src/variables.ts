import { checkEgressEntry, checkSocketDir, EGRESS_RULE, SOCKET_DIRS_RULE } from './egress.ts';
import { oidcIssuer, oidcScopes } from './oidc-values.ts';
import { secretsKey } from './secrets-key.ts';
import { bool, int, list, oneOf, port, secret, text, url, type ValueType } from './value-types.ts';

/** Who reads a variable: the two apps, and `tools` for `pnpm db:migrate` and `pnpm token:create`. */
export type App = 'api' | 'worker' | 'tools';

export interface Variable<T, A extends readonly App[] = readonly App[]> {
  apps: A;
  type: ValueType<T>;
  description: string;
  /** Why it must be set when GLIDEPATH_ENV is production. */
  requiredInProduction?: string;
  /** Another variable that makes this one required. */
  requiredWith?: string;
}

const variable = <T, const A extends readonly App[]>(v: Variable<T, A>): Variable<T, A> => v;
const both = ['api', 'worker'] as const;
const TOKEN_RULE = '32-200 characters of letters, digits, _ and - (e.g. from: openssl rand -hex 32)';
const TOKEN = /^[A-Za-z0-9_-]{32,200}$/;

/**
 * Every variable Glidepath reads, in one table: the API, the worker and the tools parse a
 * variable they share with exactly the same code, so it cannot mean one thing in one and
 * another in the other. README's configuration table lists the same names (a test checks).
 */
export const VARIABLES = {
  DATABASE_URL: variable({
    apps: ['api', 'worker', 'tools'],
    type: url(['postgres:', 'postgresql:'], 'postgresql://postgres@127.0.0.1:5432/glidepath'),
    description: 'PostgreSQL; the database is created when missing (if the role may)',
  }),
  REDIS_URL: variable({
    apps: ['api', 'worker', 'tools'],
    type: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
    description: 'Redis for the job queues, the live stream and rate limits',
  }),
  GLIDEPATH_QUEUE_PREFIX: variable({
    apps: ['api', 'worker', 'tools'],
    type: text('glidepath', '1-100 letters, digits and _ . : -', /^[A-Za-z0-9_.:-]{1,100}$/),
    description: 'Redis key prefix, for several installations on one Redis',
  }),
  GLIDEPATH_ENV: variable({
    apps: both,
    type: oneOf(['development', 'test', 'production'], 'development'),
    description: '`production` hides test-only providers (the recording router), requires the secrets marked so',
  }),
  LOG_LEVEL: variable({
    apps: both,
    type: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    description: 'pino log level',
  }),
  GLIDEPATH_CREATE_DATABASE: variable({ apps: both, type: bool(true), description: 'create the database when it does not exist' }),
  GLIDEPATH_SECRETS_KEY: variable({
    apps: both,
    type: secretsKey,
    description: '32 bytes, base64 or hex (`openssl rand -base64 32`): seals webhook secrets',
    requiredInProduction: 'webhook secrets must not be sealed with the built-in development key',
  }),
  GLIDEPATH_METRICS_TOKEN: variable({
    apps: both,
    type: secret(TOKEN_RULE, TOKEN),
    description: 'a bearer token Prometheus scrapes both `/metrics` with',
  }),
  GLIDEPATH_EGRESS_ALLOW: variable({
    apps: both,
    type: list(EGRESS_RULE, checkEgressEntry),
    description: 'where outbound calls may go: CIDRs, IPs or host names, each optionally `:port`, comma-separated',
  }),
  GLIDEPATH_EGRESS_DENY: variable({
    apps: both,
    type: list(EGRESS_RULE, checkEgressEntry),
    description: 'where outbound calls may not go, in the same syntax (deny beats allow)',
  }),
  GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: variable({
    apps: both,
    type: list(SOCKET_DIRS_RULE, checkSocketDir),
    description: 'absolute directories whose unix sockets may be used, comma-separated',
  }),
  GLIDEPATH_DEPLOY_COMMAND_DIRS: variable({
    apps: both,
    type: list(SOCKET_DIRS_RULE, checkSocketDir),
    description: 'absolute directories whose executables command deployers may run, comma-separated; empty refuses command deployers',
  }),
  GLIDEPATH_DEPLOY_STATE_DIR: variable({
    apps: ['worker'],
    type: text('.glidepath/deploy-runs', 'a directory'),
    description: 'where command deploy runs are recorded; on storage that outlives the worker, so a replacement resumes them',
  }),

  GLIDEPATH_HOST: variable({ apps: ['api'], type: text('127.0.0.1'), description: 'where the API and dashboard listen' }),
  GLIDEPATH_PORT: variable({ apps: ['api'], type: port(3000), description: 'the port the API and dashboard listen on' }),
  GLIDEPATH_PUBLIC_URL: variable({
    apps: ['api'],
    type: url(['http:', 'https:'], undefined, 'http://<host>:<port>'),
    description: 'where people reach Glidepath; `https:` makes cookies Secure',
  }),
  GLIDEPATH_WEB_DIST: variable({
    apps: ['api'],
    type: text(undefined, 'a directory', undefined, 'apps/web/dist'),
    description: 'the built dashboard the API serves',
  }),
  GLIDEPATH_BOOTSTRAP_TOKEN: variable({
    apps: ['api'],
    type: secret(TOKEN_RULE, TOKEN),
    description: 'becomes the global admin token named `bootstrap`, for first setup',
  }),
  GLIDEPATH_PUBLIC_API_DOCS: variable({
    apps: ['api'],
    type: bool(false),
    description: 'serve `/api/docs` and `/api/openapi.json` without sign-in',
  }),
  GLIDEPATH_OIDC_ISSUER: variable({ apps: ['api'], type: oidcIssuer, description: 'the OpenID provider; plain `http:` only on loopback' }),
  GLIDEPATH_OIDC_CLIENT_ID: variable({
    apps: ['api'],
    type: text(undefined),
    description: "Glidepath's client at the provider",
    requiredWith: 'GLIDEPATH_OIDC_ISSUER',
  }),
  GLIDEPATH_OIDC_CLIENT_SECRET: variable({
    apps: ['api'],
    type: secret('any text'),
    description: 'its secret (unset: a public client with PKCE)',
  }),
  GLIDEPATH_OIDC_REDIRECT_URL: variable({
    apps: ['api'],
    type: url(['http:', 'https:'], undefined, '<public URL>/auth/callback'),
    description: 'the redirect URL registered at the provider',
  }),
  GLIDEPATH_OIDC_SCOPES: variable({ apps: ['api'], type: oidcScopes, description: 'scopes asked for' }),
  GLIDEPATH_OIDC_GROUPS_CLAIM: variable({
    apps: ['api'],
    type: text('groups'),
    description: 'the claim (ID token or userinfo) that lists groups',
  }),
  GLIDEPATH_SESSION_IDLE_MINUTES: variable({
    apps: ['api'],
    type: int(1, 7 * 24 * 60, 60),
    description: 'a session ends after this long unused',
  }),
  GLIDEPATH_SESSION_MAX_HOURS: variable({ apps: ['api'], type: int(1, 30 * 24, 12), description: 'a session ends this long after sign-in' }),
  GLIDEPATH_APPROVAL_MAX_AUTH_AGE_MINUTES: variable({
    apps: ['api'],
    type: int(1, 24 * 60, 15),
    description: 'an approver in a protected environment must have signed in this recently',
  }),

  GLIDEPATH_WORKER_CONCURRENCY: variable({ apps: ['worker'], type: int(1, 200, 10), description: 'jobs one worker runs at once' }),
  GLIDEPATH_WORKER_METRICS_HOST: variable({ apps: ['worker'], type: text('127.0.0.1'), description: "where the worker's `/metrics` listens" }),
  GLIDEPATH_WORKER_METRICS_PORT: variable({ apps: ['worker'], type: port(3001), description: "the worker's `/metrics` port" }),
  GLIDEPATH_SWEEP_EVERY_MS: variable({
    apps: ['worker'],
    type: int(100, 600_000, 5000),
    description: 'how often a worker re-derives lost jobs from PostgreSQL',
  }),
  GLIDEPATH_JOB_LOCK_MS: variable({
    apps: ['worker'],
    type: int(1000, 600_000, 30_000),
    description: 'a job unheard from this long is taken over by another worker',
  }),
  GLIDEPATH_AUDIT_VERIFY_EVERY_MS: variable({
    apps: ['worker'],
    type: int(1000, 86_400_000, 300_000),
    description: 'how often the worker verifies the audit chain',
  }),
  GLIDEPATH_MIRROR_TOKEN: variable({
    apps: ['worker'],
    type: secret("the text of the mirroring proxies' --token-file"),
    description: "the bearer token shadow steps send to the mirroring proxy's control API (its `--token-file`)",
  }),
  GLIDEPATH_GATE_SIGNING_SECRET: variable({
    apps: ['worker'],
    type: secret('whsec_ followed by base64 of at least 24 random bytes', /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'none: unsigned'),
    description: '`whsec_…`: signs webhook gate requests (Standard Webhooks)',
    requiredInProduction: 'webhook gates must be able to tell Glidepath from anyone else',
  }),
  GLIDEPATH_WEBHOOK_POLL_MS: variable({
    apps: ['worker'],
    type: int(50, 60_000, 500),
    description: 'how often due webhook deliveries are handed out',
  }),
  GLIDEPATH_WEBHOOK_TIMEOUT_MS: variable({ apps: ['worker'], type: int(100, 60_000, 10_000), description: 'how long one webhook delivery attempt may take' }),
  GLIDEPATH_WEBHOOK_RETRY_BASE_MS: variable({
    apps: ['worker'],
    type: int(10, 600_000, 5000),
    description: 'first webhook retry (each next waits twice as long, up to an hour)',
  }),
  GLIDEPATH_WEBHOOK_RETRY_HOURS: variable({
    apps: ['worker'],
    type: int(1, 720, 26),
    description: 'how long a webhook delivery is retried before it is marked failed',
  }),
} satisfies Record<string, Variable<unknown>>;

export type VariableName = keyof typeof VARIABLES;
type Table = typeof VARIABLES;
type AppsOf<K extends VariableName> = Table[K]['apps'][number];
type ValueOf<K extends VariableName> = Table[K] extends Variable<infer T, readonly App[]> ? T : never;

/** The parsed variables `A` reads, by name. */
export type Settings<A extends App> = { [K in VariableName as A extends AppsOf<K> ? K : never]: ValueOf<K> };

/** The variables both apps read (its own mapped type: TypeScript compares it with each app's Settings member by member). */
export type SharedSettings = { [K in VariableName as 'api' extends AppsOf<K> ? ('worker' extends AppsOf<K> ? K : never) : never]: ValueOf<K> };

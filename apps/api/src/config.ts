import { secretsKeyFromEnv } from '@glidepath/db';
import { fileURLToPath } from 'node:url';

export interface ApiConfig {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  logLevel: string;
  /** Built dashboard to serve at `/`; absent in dev, where Vite serves it. */
  webDist: string;
  createDatabase: boolean;
  /** production hides test-only providers such as the recording router. */
  production: boolean;
  queuePrefix: string;
  /** Becomes the admin token named "bootstrap" (for first setup and the demo). */
  bootstrapToken: string | undefined;
  /** Where people reach Glidepath; https makes session cookies Secure. */
  publicUrl: string;
  /** Single sign-on; absent when no issuer is configured (API tokens only). */
  oidc: OidcConfig | undefined;
  sessions: { idleMs: number; absoluteMs: number };
  /** A bearer token Prometheus may scrape /metrics with, besides any identity allowed to read it. */
  metricsToken: string | undefined;
  /** Encrypts secrets kept for later use (webhook signing secrets); `development` when the built-in key stands in. */
  secretsKey: { key: Buffer; development: boolean };
  /** Serve /api/docs and /api/openapi.json without sign-in. */
  publicApiDocs: boolean;
  /** How recent an approver's sign-in must be to approve in a protected environment. */
  approvalMaxAuthAgeMs: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret: string | undefined;
  redirectUrl: string;
  scopes: string;
  groupsClaim: string;
  /** Plain http, allowed only for an issuer on this machine (dev and tests). */
  allowInsecure: boolean;
}

export class ConfigError extends Error {}

/** The only place the API reads the environment. */
export function loadConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const host = env.GLIDEPATH_HOST ?? '127.0.0.1';
  const listenPort = port(env, 'GLIDEPATH_PORT', 3000);
  const publicUrl = url(env, 'GLIDEPATH_PUBLIC_URL', `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${listenPort}`, [
    'http:',
    'https:',
  ]).replace(/\/$/, '');
  const production = oneOf(env, 'GLIDEPATH_ENV', 'development', ['development', 'test', 'production']) === 'production';
  let secretsKey: ApiConfig['secretsKey'];
  try {
    secretsKey = secretsKeyFromEnv(env, production);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    host,
    port: listenPort,
    databaseUrl: url(env, 'DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/glidepath', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    webDist: env.GLIDEPATH_WEB_DIST ?? fileURLToPath(new URL('../../web/dist', import.meta.url)),
    createDatabase: bool(env, 'GLIDEPATH_CREATE_DATABASE', true),
    production,
    secretsKey,
    queuePrefix: env.GLIDEPATH_QUEUE_PREFIX || 'glidepath',
    bootstrapToken: token(env, 'GLIDEPATH_BOOTSTRAP_TOKEN'),
    publicUrl,
    oidc: oidcConfig(env, publicUrl),
    sessions: {
      idleMs: int(env, 'GLIDEPATH_SESSION_IDLE_MINUTES', 60, 1, 7 * 24 * 60) * 60_000,
      absoluteMs: int(env, 'GLIDEPATH_SESSION_MAX_HOURS', 12, 1, 30 * 24) * 3_600_000,
    },
    metricsToken: token(env, 'GLIDEPATH_METRICS_TOKEN'),
    publicApiDocs: bool(env, 'GLIDEPATH_PUBLIC_API_DOCS', false),
    approvalMaxAuthAgeMs: int(env, 'GLIDEPATH_APPROVAL_MAX_AUTH_AGE_MINUTES', 15, 1, 24 * 60) * 60_000,
  };
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts a plain-http issuer may be on. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function oidcConfig(env: NodeJS.ProcessEnv, publicUrl: string): OidcConfig | undefined {
  if (!env.GLIDEPATH_OIDC_ISSUER) return undefined;
  const issuer = url(env, 'GLIDEPATH_OIDC_ISSUER', '', ['https:', 'http:']);
  const parsed = new URL(issuer);
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname))
    throw new ConfigError(`GLIDEPATH_OIDC_ISSUER must be https (plain http only for an issuer on loopback), got "${redact(issuer)}"`);
  const clientId = env.GLIDEPATH_OIDC_CLIENT_ID;
  if (!clientId) throw new ConfigError('GLIDEPATH_OIDC_CLIENT_ID must be set when GLIDEPATH_OIDC_ISSUER is');
  const redirectUrl = url(env, 'GLIDEPATH_OIDC_REDIRECT_URL', `${publicUrl}/auth/callback`, ['http:', 'https:']);
  const groupsClaim = env.GLIDEPATH_OIDC_GROUPS_CLAIM || 'groups';
  const scopes = env.GLIDEPATH_OIDC_SCOPES || 'openid email profile';
  if (!scopes.split(' ').includes('openid')) throw new ConfigError(`GLIDEPATH_OIDC_SCOPES must include openid, got "${scopes}"`);
  return {
    issuer,
    clientId,
    clientSecret: env.GLIDEPATH_OIDC_CLIENT_SECRET || undefined,
    redirectUrl,
    scopes,
    groupsClaim,
    allowInsecure: parsed.protocol === 'http:',
  };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer ${min}-${max}, got "${raw}"`);
  return value;
}

export function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`${name} must be a port number 0-65535, got "${raw}"`);
  return value;
}

export function url(env: NodeJS.ProcessEnv, name: string, fallback: string, protocols: string[]): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${redact(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must start with ${protocols.join(' or ')}, got "${redact(raw)}"`);
  return raw;
}

function token(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  if (!/^[A-Za-z0-9_-]{32,200}$/.test(raw))
    throw new ConfigError(`${name} must be 32-200 characters of letters, digits, _ and - (e.g. from: openssl rand -hex 32)`);
  return raw;
}

export function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, fallback: T, allowed: T[]): T {
  const raw = env[name] || fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** Never echo a password from a connection string into a log. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

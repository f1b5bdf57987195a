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
}

export class ConfigError extends Error {}

/** The only place the API reads the environment. */
export function loadConfig(env: NodeJS.ProcessEnv): ApiConfig {
  return {
    host: env.GLIDEPATH_HOST ?? '127.0.0.1',
    port: port(env, 'GLIDEPATH_PORT', 3000),
    databaseUrl: url(env, 'DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/glidepath', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    webDist: env.GLIDEPATH_WEB_DIST ?? fileURLToPath(new URL('../../web/dist', import.meta.url)),
    createDatabase: bool(env, 'GLIDEPATH_CREATE_DATABASE', true),
    production: oneOf(env, 'GLIDEPATH_ENV', 'development', ['development', 'test', 'production']) === 'production',
    queuePrefix: env.GLIDEPATH_QUEUE_PREFIX || 'glidepath',
    bootstrapToken: token(env, 'GLIDEPATH_BOOTSTRAP_TOKEN'),
  };
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

import { ConfigError, Refusal } from './config-error.ts';
import { DEVELOPMENT_SECRETS_KEY } from './secrets-key.ts';
import { VARIABLES, type App, type Settings, type SharedSettings, type Variable } from './variables.ts';

/** The environment as given (process.env in the entry points, a literal in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variables `app` reads, parsed and checked. Every problem is collected first and thrown
 * together as one ConfigError, one line each: "NAME must be <what is allowed>, got <what it got>".
 */
export function loadSettings<A extends App>(env: Env, app: A): Settings<A> {
  const table = Object.entries(VARIABLES as Record<string, Variable<unknown>>).filter(([, v]) => v.apps.includes(app));
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, v] of table) {
    try {
      values[name] = v.type.read(env[name]);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      problems.push(`${name} must be ${v.type.rule}, got ${error.got}`);
    }
  }
  // Requirements between variables; a variable already refused above is not reported twice.
  const production = values.GLIDEPATH_ENV === 'production';
  for (const [name, v] of table) {
    if (!(name in values) || values[name] !== undefined) continue;
    if (production && v.requiredInProduction)
      problems.push(`${name} must be ${v.type.rule} when GLIDEPATH_ENV is production (${v.requiredInProduction}), got nothing`);
    if (v.requiredWith && values[v.requiredWith] !== undefined) problems.push(`${name} must be set when ${v.requiredWith} is, got nothing`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as Settings<A>;
}

/** Where outbound calls may go; read by the network policy. */
export interface EgressConfig {
  allow: string[];
  deny: string[];
  unixSocketDirs: string[];
}

/** The settings the API and the worker share, in the shape both configs carry. */
export interface SharedConfig {
  databaseUrl: string;
  redisUrl: string;
  logLevel: SharedSettings['LOG_LEVEL'];
  /** production hides test-only providers such as the recording router. */
  production: boolean;
  createDatabase: boolean;
  /** Redis key prefix of the queues: separate Glidepath installations sharing one Redis. */
  queuePrefix: string;
  /** A bearer token Prometheus may scrape /metrics with (API and worker alike). */
  metricsToken: string | undefined;
  /** Seals and opens webhook secrets; `development` when the built-in key stands in (never in production). */
  secretsKey: { key: Buffer; development: boolean };
  egress: EgressConfig;
  /** Directories whose executables command deployers may run; empty refuses command deployers. */
  deployCommandDirs: string[];
}

export function sharedConfig(s: SharedSettings): SharedConfig {
  return {
    databaseUrl: s.DATABASE_URL,
    redisUrl: s.REDIS_URL,
    logLevel: s.LOG_LEVEL,
    production: s.GLIDEPATH_ENV === 'production',
    createDatabase: s.GLIDEPATH_CREATE_DATABASE,
    queuePrefix: s.GLIDEPATH_QUEUE_PREFIX,
    metricsToken: s.GLIDEPATH_METRICS_TOKEN,
    secretsKey: s.GLIDEPATH_SECRETS_KEY ? { key: s.GLIDEPATH_SECRETS_KEY, development: false } : { key: DEVELOPMENT_SECRETS_KEY, development: true },
    egress: { allow: s.GLIDEPATH_EGRESS_ALLOW, deny: s.GLIDEPATH_EGRESS_DENY, unixSocketDirs: s.GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS },
    deployCommandDirs: s.GLIDEPATH_DEPLOY_COMMAND_DIRS,
  };
}

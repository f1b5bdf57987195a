import {
  createAuditedTransaction,
  createSecretBox,
  createJobQueue,
  ensureBootstrapToken,
  createPrismaClient,
  createRedisEventBus,
  migrate,
  MIGRATIONS_DIR,
} from '@glidepath/db';
import { createEgress } from '@glidepath/providers';
import { createApiDeployers, createApiMetricSources, createApiRouters } from './providers.ts';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from './app.ts';
import { createOidcClient } from './identity/oidc-client.ts';
import { ConfigError, loadConfig, type ApiConfig } from './config.ts';

async function main(config: ApiConfig, logger: pino.Logger): Promise<void> {
  await migrate({
    databaseUrl: config.databaseUrl,
    migrationsDir: MIGRATIONS_DIR,
    createDatabase: config.createDatabase,
    log: (message) => logger.info(message),
  });
  const prisma = createPrismaClient(config.databaseUrl);
  // No offline queue: while Redis is down, readiness probes fail fast instead of hanging.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  const bus = createRedisEventBus(config.redisUrl, (error) => logger.warn({ err: error }, 'event bus error'), config.queuePrefix);
  const audited = createAuditedTransaction(prisma, bus, (error) => logger.warn({ err: error }, 'could not publish an audit event'));
  if (config.bootstrapToken) await ensureBootstrapToken(prisma, audited, config.bootstrapToken);
  const jobs = createJobQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    bestEffortMs: 1000,
    onEnqueueError: (error) => logger.warn({ err: error }, 'could not enqueue a job; the worker sweeper will pick the work up from the database'),
  });
  // GLIDEPATH_EGRESS_*; the database and Redis named here are refused to everything admins register.
  const egress = createEgress(config.egress, { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl });
  const routers = createApiRouters({ production: config.production, egress });
  const metricSources = createApiMetricSources(egress);
  const deployers = createApiDeployers(egress, config.deployCommandDirs);
  const access = {
    oidc: config.oidc ? createOidcClient(config.oidc) : undefined,
    sessions: config.sessions,
    publicUrl: config.publicUrl,
    metricsToken: config.metricsToken,
    publicApiDocs: config.publicApiDocs,
    rateLimitPrefix: config.queuePrefix,
    approvalMaxAuthAgeMs: config.approvalMaxAuthAgeMs,
  };
  if (!config.oidc) logger.warn('no GLIDEPATH_OIDC_ISSUER: single sign-on is off, only API tokens can call the API');
  if (config.secretsKey.development) logger.warn('no GLIDEPATH_SECRETS_KEY: webhook secrets are sealed with the built-in development key');
  const secrets = createSecretBox(config.secretsKey.key);
  const app = await buildApp(
    { prisma, redis, bus, audited, jobs, routers, metricSources, deployers, webDist: config.webDist, access, secrets, egress },
    { logger },
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await app.close();
    await Promise.allSettled([prisma.$disconnect(), bus.close(), jobs.close(), redis.quit()]);
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
}

let config: ApiConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  // A configuration problem is the operator's to fix: one line each, no stack. Anything else is a bug: show it whole.
  if (error instanceof ConfigError) for (const problem of error.problems) console.error(`glidepath api: ${problem}`);
  else console.error(`glidepath api: could not read the configuration`, error);
  process.exit(1);
}
const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] });
main(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, `glidepath api failed to start: ${(error as Error).message}`);
  process.exit(1);
});

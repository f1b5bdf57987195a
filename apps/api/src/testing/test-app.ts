import { randomBytes } from 'node:crypto';
import type { EgressSettings, Role } from '@glidepath/core';
import { createEgress } from '@glidepath/providers';
import { createApiToken, createAuditedTransaction, createJobQueue, createPrismaClient, createRedisEventBus, type Actor } from '@glidepath/db';
import { createApiDeployers, createApiMetricSources, createApiRouters } from '../providers.ts';
import { createTestDatabase } from '@glidepath/db/testing';
import { Redis } from 'ioredis';
import { buildApp, type AccessDeps } from '../app.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The real API on a database of its own, real Redis; `inject` drives it without a port. */
export async function createTestApp(
  options: {
    redisUrl?: string;
    queuePrefix?: string;
    access?: Partial<AccessDeps>;
    /** How the API reaches its database (an outage test puts a proxy in between). */
    databaseUrlFor?: (url: string) => string;
    logLevel?: string;
    /** GLIDEPATH_EGRESS_* as the test wants them (default: none, so only the built-in denials apply). */
    egress?: Partial<EgressSettings>;
    /** GLIDEPATH_DEPLOY_COMMAND_DIRS: where command deployers may run executables from (default: none). */
    deployCommandDirs?: string[];
  } = {},
) {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const db = await createTestDatabase();
  const prisma = createPrismaClient(options.databaseUrlFor?.(db.url) ?? db.url);
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  redis.connect().catch(() => {});
  const queuePrefix = options.queuePrefix ?? `gp-test-${randomBytes(4).toString('hex')}`;
  const bus = createRedisEventBus(redisUrl, () => {}, queuePrefix);
  const audited = createAuditedTransaction(prisma, bus, () => {});
  const jobs = createJobQueue({ redisUrl, prefix: queuePrefix, bestEffortMs: 1000 });
  const access: AccessDeps = {
    sessions: { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 },
    publicUrl: 'http://127.0.0.1:3000',
    rateLimitPrefix: queuePrefix,
    ...options.access,
  };
  // The test database and Redis are the control plane's own, as in production.
  const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [], ...options.egress }, { databaseUrl: db.url, redisUrl });
  const app = await buildApp(
    {
      prisma,
      redis,
      bus,
      audited,
      jobs,
      routers: createApiRouters({ production: false, egress }),
      metricSources: createApiMetricSources(egress),
      deployers: createApiDeployers(egress, options.deployCommandDirs ?? []),
      access,
      egress,
    },
    { logLevel: options.logLevel ?? 'silent' },
  );
  const system: Actor = { type: 'system', id: 'test' };
  /** A service-account token holding `role` everywhere, or only where the ids say. */
  const tokenWith = async (name: string, role: Role, where: { serviceId?: string; environmentId?: string } = {}) =>
    (await createApiToken(audited, { name, roles: [{ role, serviceId: where.serviceId ?? null, environmentId: where.environmentId ?? null }] }, system)).secret;
  const adminToken = await tokenWith('test-admin', 'admin');
  const deployerToken = await tokenWith('test-ci', 'deployer');
  return {
    app,
    adminToken,
    deployerToken,
    tokenWith,
    admin: { authorization: `Bearer ${adminToken}` },
    prisma,
    redis,
    audited,
    jobs,
    databaseUrl: db.url,
    queuePrefix,
    async close() {
      await app.close();
      if (!options.redisUrl) await jobs.queue.obliterate({ force: true });
      await Promise.allSettled([prisma.$disconnect(), bus.close(), jobs.close()]);
      redis.disconnect();
      await db.drop();
    },
  };
}

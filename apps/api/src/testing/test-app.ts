import { randomBytes } from 'node:crypto';
import { createApiToken, createAuditedTransaction, createJobQueue, createPrismaClient, createRedisEventBus } from '@glidepath/db';
import { createApiMetricSources, createApiRouters } from '../providers.ts';
import { createTestDatabase } from '@glidepath/db/testing';
import { Redis } from 'ioredis';
import { buildApp } from '../app.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The real API on a database of its own, real Redis; `inject` drives it without a port. */
export async function createTestApp(options: { redisUrl?: string; queuePrefix?: string } = {}) {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const db = await createTestDatabase();
  const prisma = createPrismaClient(db.url);
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  redis.connect().catch(() => {});
  const queuePrefix = options.queuePrefix ?? `gp-test-${randomBytes(4).toString('hex')}`;
  const bus = createRedisEventBus(redisUrl, () => {}, queuePrefix);
  const audited = createAuditedTransaction(prisma, bus, () => {});
  const jobs = createJobQueue({ redisUrl, prefix: queuePrefix, bestEffortMs: 1000 });
  const app = await buildApp(
    { prisma, redis, bus, audited, jobs, routers: createApiRouters({ production: false }), metricSources: createApiMetricSources() },
    { logLevel: 'silent' },
  );
  const system = { type: 'system' as const, id: 'test' };
  const adminToken = (await createApiToken(audited, { name: 'test-admin', role: 'admin' }, system)).token;
  const deployerToken = (await createApiToken(audited, { name: 'test-ci', role: 'deployer' }, system)).token;
  return {
    app,
    adminToken,
    deployerToken,
    admin: { authorization: `Bearer ${adminToken}` },
    prisma,
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

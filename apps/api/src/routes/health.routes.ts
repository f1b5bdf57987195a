import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { PrismaClient } from '@glidepath/db';
import type { Redis } from 'ioredis';
import type { ApiMetrics } from '../metrics.ts';

const CHECK_TIMEOUT_MS = 2000;

interface Check {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { ok: false, error: (error as Error).message || String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: { prisma: PrismaClient; redis: Redis; metrics: ApiMetrics }) {
  return async (app: FastifyInstance) => {
    app.get('/livez', { config: { access: 'public' }, schema: { tags: ['health'], summary: 'The process is up' } }, async () => ({ status: 'ok' }));

    const Check = Type.Object({ ok: Type.Boolean(), latencyMs: Type.Optional(Type.Number()), error: Type.Optional(Type.String()) });
    const Readiness = Type.Object({
      status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
      checks: Type.Object({ postgres: Check, redis: Check }),
    });
    const readyzSchema = { tags: ['health'], summary: 'PostgreSQL and Redis answer', response: { 200: Readiness, 503: Readiness } };
    app.get('/readyz', { config: { access: 'public' }, schema: readyzSchema }, async (_request, reply) => {
      const [postgres, redis] = await Promise.all([timed(() => deps.prisma.$queryRaw`SELECT 1`), timed(() => deps.redis.ping())]);
      const ok = postgres.ok && redis.ok;
      if (!ok) reply.header('retry-after', '5');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { postgres, redis } });
    });

    app.get('/metrics', { config: { access: 'metrics' }, schema: { hide: true } }, async (_request, reply) => {
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  };
}

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, sqlPool, type PrismaClient } from './prisma-client.ts';
import { createTestDatabase } from './testing/test-database.ts';
import { watchStatementOverlaps, type OverlapWatch } from './testing/statement-overlap.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let prisma: PrismaClient;
let watch: OverlapWatch;
const releaseId = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url, 4);
  const service = await prisma.service.create({ data: { id: randomUUID(), name: 'svc' } });
  const environment = await prisma.environment.create({
    data: { id: randomUUID(), serviceId: service.id, name: 'prod', position: 0, requireUpstreamSuccess: false, target: {}, policy: {} },
  });
  const artifact = await prisma.artifact.create({ data: { id: randomUUID(), serviceId: service.id, version: '1.0.0', digest: `sha256:${'a'.repeat(64)}` } });
  const plan = await prisma.releasePlan.create({ data: { id: randomUUID(), name: 'p', version: 1, spec: {}, compiled: {}, createdBy: 'test' } });
  await prisma.release.create({
    data: {
      id: releaseId,
      serviceId: service.id,
      environmentId: environment.id,
      artifactId: artifact.id,
      planId: plan.id,
      phase: 'succeeded',
      stepIndex: 0,
      state: {},
      version: 0,
      requestedBy: 'test',
    },
  });
  watch = watchStatementOverlaps();
});
afterAll(async () => {
  watch?.stop();
  await prisma.$disconnect();
  await db.drop();
});

const INCLUDE = { service: true, environment: true, artifact: true, plan: true } as const;

describe('one statement at a time on a transaction’s connection', () => {
  it('an include of four relations inside an interactive transaction sends its queries one after another', async () => {
    const release = await prisma.$transaction(async (tx) => tx.release.findUnique({ where: { id: releaseId }, include: INCLUDE }));
    expect(release?.service.name).toBe('svc');
    expect(release?.plan.name).toBe('p');
    expect(watch.overlaps()).toEqual([]);
  });

  it('so do queries a transaction starts together, and an error among them still ends the transaction cleanly', async () => {
    const [a, b, c] = await prisma.$transaction(async (tx) =>
      Promise.all([tx.service.findMany(), tx.release.findMany({ include: INCLUDE }), tx.$queryRaw<Array<{ n: number }>>`SELECT 1::int AS n`]),
    );
    expect([a.length, b.length, c[0]?.n]).toEqual([1, 1, 1]);
    await expect(
      prisma.$transaction(async (tx) => Promise.all([tx.release.findMany({ include: INCLUDE }), tx.$queryRaw`SELECT 1/0`, tx.service.findMany()])),
    ).rejects.toThrow(/division by zero/);
    expect(await prisma.service.count()).toBe(1);
    expect(watch.overlaps()).toEqual([]);
  });

  it('shares its pg pool with the reads that bypass Prisma', async () => {
    const { rows } = await sqlPool(prisma).query<{ name: string }>('SELECT name FROM service');
    expect(rows).toEqual([{ name: 'svc' }]);
    expect(() => sqlPool({} as PrismaClient)).toThrow(/createPrismaClient/);
  });
});

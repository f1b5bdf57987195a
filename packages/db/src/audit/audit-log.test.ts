import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../prisma-client.ts';
import { createTestDatabase } from '../testing/test-database.ts';
import { appendAuditEvent, listAuditEvents, verifyAuditChain } from './audit-log.ts';

const run = promisify(execFile);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url, 20);
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

const actor = { type: 'system' as const, id: 'test' };

describe('audit log', () => {
  it('eight concurrent writers appending 500 events each leave one unbroken chain', async () => {
    // Separate clients stand in for separate processes: each has its own connection pool.
    const writers = Array.from({ length: 8 }, () => createPrismaClient(db.url, 2));
    try {
      await Promise.all(
        writers.map(async (client, w) => {
          for (let i = 0; i < 500; i++) {
            await client.$transaction((tx) =>
              appendAuditEvent(tx, { actor, action: 'test.append', subject: { type: 'writer', id: String(w) }, payload: { i, nested: { b: 1, a: [1, 'x'] } } }),
            );
          }
        }),
      );
    } finally {
      await Promise.all(writers.map((w) => w.$disconnect()));
    }
    const result = await verifyAuditChain(prisma, 700);
    expect(result).toEqual({ ok: true, checked: 4000, lastSeq: '4000' });
  }, 120_000);

  it('is written in the same transaction as the change: a rolled-back change leaves no event', async () => {
    const before = await prisma.auditEvent.count();
    await expect(
      prisma.$transaction(async (tx) => {
        await appendAuditEvent(tx, { actor, action: 'test.rolled-back', subject: { type: 't', id: '1' } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await prisma.auditEvent.count()).toBe(before);
  });

  it('refuses UPDATE, DELETE and TRUNCATE through psql', async () => {
    for (const sql of ["UPDATE audit_event SET reason = 'x' WHERE seq = 1", 'DELETE FROM audit_event WHERE seq = 1', 'TRUNCATE audit_event']) {
      const attempt = run('psql', [db.url, '-v', 'ON_ERROR_STOP=1', '-c', sql]);
      await expect(attempt).rejects.toMatchObject({ stderr: expect.stringMatching(/audit_event is append-only/) });
    }
  });

  it('verify reports the first altered event when the trigger is bypassed by a superuser', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only');
      await client.query("UPDATE audit_event SET reason = 'rewritten' WHERE seq IN (17, 30)");
      await client.query('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only');
    } finally {
      await client.end();
    }
    const result = await verifyAuditChain(prisma, 10);
    expect(result.ok).toBe(false);
    expect(result.checked).toBe(16);
    expect(result.firstBroken).toMatchObject({ seq: '17', problem: expect.stringMatching(/altered/) });
  });

  it('lists newest first with filters', async () => {
    await prisma.$transaction((tx) =>
      appendAuditEvent(tx, { actor: { type: 'user', id: 'alice' }, action: 'service.created', subject: { type: 'service', id: 's1' }, environmentId: 'prod' }),
    );
    const events = await listAuditEvents(prisma, { actorId: 'alice', environmentId: 'prod' }, 10);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'service.created', actorType: 'user' });
    const page = await listAuditEvents(prisma, { action: 'test.append' }, 5);
    expect(page.map((e) => e.seq)).toEqual([4000n, 3999n, 3998n, 3997n, 3996n]);
  });
});

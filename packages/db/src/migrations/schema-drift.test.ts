import { cp, mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase } from '../testing/test-database.ts';
import { migrate } from './migrator.ts';
import { MIGRATIONS_DIR, SCHEMA_PATH } from './migrations-dir.ts';
import { findSchemaDrift } from './schema-drift.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function migratedDatabase(extraMigration?: string) {
  const db = await createEmptyDatabase();
  cleanups.push(db.drop);
  const dir = await mkdtemp(join(tmpdir(), 'gp-drift-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  if (extraMigration) {
    await mkdir(join(dir, '99990101000000_drift'));
    await writeFile(join(dir, '99990101000000_drift', 'migration.sql'), extraMigration);
  }
  await migrate({ databaseUrl: db.url, migrationsDir: dir });
  return db.url;
}

describe('schema drift', () => {
  it('the migrations build exactly the tables and columns of schema.prisma', async () => {
    expect(await findSchemaDrift(SCHEMA_PATH, await migratedDatabase())).toEqual([]);
  });

  it('fails when a migration and the schema disagree', async () => {
    const url = await migratedDatabase(`
      ALTER TABLE "service" ALTER COLUMN "description" SET NOT NULL;
      ALTER TABLE "service" ALTER COLUMN "name" TYPE VARCHAR(20);
      ALTER TABLE "audit_event" DROP COLUMN "reason";
      CREATE TABLE "stray" (id int);`);
    const problems = await findSchemaDrift(SCHEMA_PATH, url);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Service\.description .*NOT NULL in the database, optional in the schema/),
        expect.stringMatching(/Service\.name .*type is character varying\(20\), schema says text/),
        expect.stringMatching(/AuditEvent\.reason .*does not exist/),
        'table "stray" exists but no model maps to it',
      ]),
    );
  });
});

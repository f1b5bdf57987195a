import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, databaseUrl } from '../testing/test-database.ts';
import { migrate, readMigrations } from './migrator.ts';
import { MIGRATIONS_DIR } from './migrations-dir.ts';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migrator', () => {
  it('three processes starting at once on a database that does not exist yet apply each migration exactly once', async () => {
    const name = `gp_test_race_${Date.now()}`;
    const url = databaseUrl(name);
    cleanups.push(async () => {
      await query(databaseUrl('postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
    const cli = join(MIGRATIONS_DIR, '../../packages/db/src/migrate.cli.ts');
    const tsx = join(MIGRATIONS_DIR, '../../node_modules/.bin/tsx');
    const outputs = await Promise.all([1, 2, 3].map(() => run(tsx, [cli], { env: { ...process.env, DATABASE_URL: url } })));
    const rows = await query<{ migration_name: string; n: string }>(
      url,
      'SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY migration_name',
    );
    const files = await readMigrations(MIGRATIONS_DIR);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(files.map((f) => f.name));
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const appliedLines = outputs.flatMap((o) => o.stdout.split('\n')).filter((l) => l.startsWith('applied migration'));
    expect(appliedLines).toHaveLength(files.length);
  });

  it('records Prisma-compatible checksums and stops with a clear error when an applied file changed', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const dir = await mkdtemp(join(tmpdir(), 'gp-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate({ databaseUrl: db.url, migrationsDir: dir });
    const [first] = await readMigrations(dir);
    const [row] = await query<{ checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      db.url,
      `SELECT checksum, finished_at, applied_steps_count FROM "_prisma_migrations" WHERE migration_name = '${first!.name}'`,
    );
    expect(row).toMatchObject({ checksum: first!.checksum, applied_steps_count: 1 });
    expect(row!.finished_at).toBeInstanceOf(Date);

    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir })).toEqual([]);

    await appendFile(join(dir, first!.name, 'migration.sql'), '\n-- edited later\n');
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(new RegExp(`migration ${first!.name} was changed after it was applied`));
  });

  it('rolls back a failing migration completely and names it', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const dir = await mkdtemp(join(tmpdir(), 'gp-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const bad = join(dir, '99991231000000_broken');
    await cp(join(MIGRATIONS_DIR, (await readMigrations(MIGRATIONS_DIR))[0]!.name), bad, { recursive: true });
    await writeFile(join(bad, 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(/migration 99991231000000_broken failed/);
    const tables = await query<{ n: string }>(db.url, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'half_done'");
    expect(tables[0]!.n).toBe('0');
    const recorded = await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM "_prisma_migrations" WHERE migration_name LIKE '9999%'`);
    expect(recorded[0]!.n).toBe('0');
  });

  it('says what to do when the database is missing and creating it is not allowed', async () => {
    await expect(migrate({ databaseUrl: databaseUrl('gp_test_absent_db'), migrationsDir: MIGRATIONS_DIR, createDatabase: false })).rejects.toThrow(
      /database "gp_test_absent_db" does not exist: create it \(createdb/,
    );
  });
});

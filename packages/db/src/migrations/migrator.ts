import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

/** Any stable 64-bit number: every Glidepath process migrating one database queues on it. */
const MIGRATION_LOCK_KEY = 7_201_246_118_400_001n;

export type MigrationLog = (message: string) => void;

export interface MigrateOptions {
  databaseUrl: string;
  migrationsDir: string;
  /** Create the database when it does not exist and the role is allowed to. */
  createDatabase?: boolean;
  log?: MigrationLog;
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(migrationsDir, name, 'migration.sql'));
      // Prisma records the sha256 of the file's bytes; using the same lets its CLI agree.
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory
 * lock so that replicas starting together apply each migration exactly once. Records
 * them in Prisma's `_prisma_migrations` table and format.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.migrationsDir);
  const client = await connect(options, log);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(PRISMA_MIGRATIONS_DDL);
      const applied = await appliedMigrations(client);
      verifyApplied(migrations, applied, log);
      const appliedNow: string[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.name)) continue;
        await applyOne(client, migration);
        log(`applied migration ${migration.name}`);
        appliedNow.push(migration.name);
      }
      return appliedNow;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    await client.end();
  }
}

const PRISMA_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  checksum: string;
  finished: boolean;
}

async function appliedMigrations(client: pg.Client): Promise<Map<string, AppliedRow>> {
  const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
    'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  return new Map(rows.map((r) => [r.migration_name, { checksum: r.checksum, finished: r.finished_at !== null }]));
}

function verifyApplied(migrations: MigrationFile[], applied: Map<string, AppliedRow>, log: MigrationLog): void {
  const onDisk = new Set(migrations.map((m) => m.name));
  for (const migration of migrations) {
    const row = applied.get(migration.name);
    if (!row) continue;
    if (!row.finished) {
      throw new MigrationError(
        `migration ${migration.name} was started but never finished (recorded by another tool); resolve it by hand before starting Glidepath`,
      );
    }
    if (row.checksum !== migration.checksum) {
      throw new MigrationError(
        `migration ${migration.name} was changed after it was applied (checksum ${row.checksum} in the database, ${migration.checksum} on disk); restore the original file and add a new migration instead`,
      );
    }
  }
  for (const name of applied.keys()) {
    if (!onDisk.has(name)) log(`warning: migration ${name} is applied but not present on disk (is this build older than the database?)`);
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${(error as Error).message}`);
  }
}

async function connect(options: MigrateOptions, log: MigrationLog): Promise<pg.Client> {
  try {
    return await open(options.databaseUrl);
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  }
  const url = new URL(options.databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!options.createDatabase) {
    throw new MigrationError(
      `database "${name}" does not exist: create it (createdb -h ${url.hostname} -p ${url.port || 5432} ${name}) or allow Glidepath to create it`,
    );
  }
  await createDatabase(url, name);
  log(`created database ${name}`);
  return open(options.databaseUrl);
}

async function createDatabase(url: URL, name: string): Promise<void> {
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = await open(adminUrl.toString());
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42P04: a replica starting beside us created it first; 23505 is the same race seen through pg_database.
    if (code === '42P04' || code === '23505') return;
    if (code === '42501') {
      throw new MigrationError(
        `database "${name}" does not exist and role "${url.username}" may not create it: run createdb ${name} as a superuser, or grant CREATEDB`,
      );
    }
    throw error;
  } finally {
    await admin.end();
  }
}

async function open(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  return client;
}

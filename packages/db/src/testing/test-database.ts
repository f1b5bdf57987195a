import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../migrations/migrator.ts';
import { MIGRATIONS_DIR } from '../migrations/migrations-dir.ts';

/** Server holding the test databases; the same defaults as the apps. */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Per test run (set by the global setup), so two runs on one machine never drop each other's template. */
const template = () => process.env.GLIDEPATH_TEST_TEMPLATE ?? 'glidepath_test_template';

export function databaseUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Run once per test run: a freshly migrated template that every test file clones. */
export async function prepareTemplateDatabase(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${template()} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${template()}`);
  });
  await migrate({ databaseUrl: databaseUrl(template()), migrationsDir: MIGRATIONS_DIR });
}

export async function dropTemplateDatabase(): Promise<void> {
  await dropDatabase(template());
}

export async function createEmptyDatabase(prefix = 'gp_test'): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

/** A migrated database of its own for one test file, cloned from the template in ~100 ms. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `gp_test_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template()}`));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

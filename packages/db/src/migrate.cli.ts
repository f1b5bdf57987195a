import { migrate } from './migrations/migrator.ts';
import { MIGRATIONS_DIR } from './migrations/migrations-dir.ts';

// `pnpm db:migrate`: the same migrations the API and worker apply at start-up.
const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/glidepath';
try {
  const applied = await migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, createDatabase: true, log: console.log });
  console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exit(1);
}

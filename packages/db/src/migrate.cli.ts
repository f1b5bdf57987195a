import { ConfigError, loadSettings } from '@glidepath/config';
import { migrate } from './migrations/migrator.ts';
import { MIGRATIONS_DIR } from './migrations/migrations-dir.ts';

// `pnpm db:migrate`: the same migrations the API and worker apply at start-up, on the same DATABASE_URL rules.
try {
  const { DATABASE_URL: databaseUrl } = loadSettings(process.env, 'tools');
  const applied = await migrate({ databaseUrl, migrationsDir: MIGRATIONS_DIR, createDatabase: true, log: console.log });
  console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
} catch (error) {
  if (error instanceof ConfigError) for (const problem of error.problems) console.error(`db:migrate: ${problem}`);
  else console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exit(1);
}

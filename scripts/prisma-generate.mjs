// Runs `prisma generate` offline. The Prisma CLI insists on finding its native schema
// engine before generating, although generate never runs it, and that engine cannot be
// downloaded here. We point it at a stand-in that fails loudly, so that any other Prisma
// command reached through this environment (db push, migrate) errors instead of silently
// "succeeding". Glidepath applies its own SQL migrations (`pnpm db:migrate`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const prismaBin = `${root}node_modules/.bin/prisma`;
if (!existsSync(prismaBin)) {
  // First pass of a fresh install, before the CLI itself is linked: nothing to do yet.
  console.log('prisma CLI not installed yet; skipping generate');
  process.exit(0);
}
const result = spawnSync(prismaBin, ['generate', '--schema', 'prisma/schema.prisma'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: `${root}scripts/no-schema-engine.sh`,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);

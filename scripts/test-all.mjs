// `pnpm test`: the whole suite: typecheck, lint, unit + integration tests (vitest, against
// the real PostgreSQL and Redis), then browser tests (Playwright, Debian's Chromium).
// then README command 1 (the live demo, run to its end). Ends with one line "N passed, N failed"
// counting every test that ran.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = `${root}.tmp`;
mkdirSync(tmp, { recursive: true });
const bin = (name) => `${root}node_modules/.bin/${name}`;

function step(title, command, args, options = {}) {
  console.log(`\n=== ${title}`);
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options }).status ?? 1;
}

// What the browser, HAProxy and demo tests run, from Debian's packages: installed here when
// missing (as root, as README command 1 does), or named in one line otherwise.
const needed = { chromium: 'chromium', haproxy: 'haproxy', prometheus: 'prometheus', psql: 'postgresql-client' };
const missing = Object.entries(needed)
  .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0)
  .map(([, pkg]) => pkg);
if (missing.length) {
  if (process.getuid?.() === 0) {
    console.log(`\n=== installing Debian packages the tests need: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } else {
    console.error(`the tests need Debian's ${missing.join(' ')}: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
    process.exit(1);
  }
}

// A fresh clone: the packages first (the lockfile decides every version).
if (!existsSync(bin('vitest')) && step('installing packages', 'pnpm', ['install', '--frozen-lockfile']) !== 0) process.exit(1);

let passed = 0;
let failed = 0;
let broken = false;

for (const [title, command, args] of [
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.json']],
  ['typecheck web', bin('tsc'), ['-p', 'apps/web/tsconfig.json']],
  ['lint', bin('eslint'), ['.']],
]) {
  if (step(title, command, args) !== 0) broken = true;
}

const vitestReport = `${tmp}/vitest.json`;
rmSync(vitestReport, { force: true });
if (step('unit and integration tests', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`]) !== 0)
  broken = true;
if (existsSync(vitestReport)) {
  const report = JSON.parse(readFileSync(vitestReport, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
} else broken = true;

const e2eReport = `${tmp}/e2e.json`;
rmSync(e2eReport, { force: true });
const e2eStatus = step('browser tests', `${root}e2e/node_modules/.bin/playwright`, ['test', '--config', 'e2e/playwright.config.ts', '--reporter=list,json'], {
  env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: e2eReport },
});
if (e2eStatus !== 0) broken = true;
if (existsSync(e2eReport)) {
  const { stats } = JSON.parse(readFileSync(e2eReport, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
} else broken = true;

// README command 1, as a newcomer runs it (minus the install): Glidepath with the live demo,
// stopping once the demo's releases ended; exit 0 only when each ended as expected.
const demoDatabase = `gp_readme_${process.pid}`;
const demoStatus = step('README command 1: the live demo', 'node', ['scripts/start.mjs', '--demo', '--exit-when-done'], {
  env: {
    ...process.env,
    GLIDEPATH_PORT: '3990',
    DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${demoDatabase}`,
    GLIDEPATH_QUEUE_PREFIX: demoDatabase,
    GLIDEPATH_WORKER_METRICS_PORT: '0',
  },
  timeout: 10 * 60_000,
});
spawnSync('psql', ['postgresql://postgres@127.0.0.1:5432/postgres', '-qc', `DROP DATABASE IF EXISTS ${demoDatabase} WITH (FORCE)`], { stdio: 'inherit' });
if (demoStatus === 0) passed += 1;
else failed += 1;

if (broken && failed === 0) console.log('\na check or a runner failed outside the counted tests (see above)');
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(broken || failed ? 1 : 0);

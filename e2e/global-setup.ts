// Runs the real system for the browser tests: builds the dashboard, then starts the API on a
// free port against a fresh database (the API creates and migrates it), which it serves the
// dashboard from. Tests find it at process.env.GLIDEPATH_E2E_URL. The returned function stops
// the API and drops the database.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const adminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';
const logFile = fileURLToPath(new URL('api.log', import.meta.url));

export default async function globalSetup(): Promise<() => Promise<void>> {
  execFileSync('pnpm', ['--filter', '@glidepath/web', 'build'], { cwd: root, stdio: 'inherit' });

  const port = await freePort();
  const database = `gp_e2e_${randomBytes(6).toString('hex')}`;
  // The admin token the tests write with; the dashboard itself only reads.
  const token = randomBytes(32).toString('hex');
  const log = createWriteStream(logFile);
  const api = spawn(`${root}node_modules/.bin/tsx`, ['apps/api/src/server.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GLIDEPATH_PORT: String(port),
      DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
      REDIS_URL: 'redis://127.0.0.1:6379',
      GLIDEPATH_WEB_DIST: `${root}apps/web/dist`,
      GLIDEPATH_BOOTSTRAP_TOKEN: token,
      GLIDEPATH_QUEUE_PREFIX: database,
    },
  });
  api.stdout.pipe(log);
  api.stderr.pipe(log);

  const teardown = async () => {
    await stop(api);
    execFileSync('psql', [adminUrl, '-q', '-c', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`], { stdio: 'inherit' });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(baseUrl, api);
  } catch (error) {
    await teardown();
    throw new Error(`${(error as Error).message}; API log: ${logFile}`);
  }
  process.env.GLIDEPATH_E2E_URL = baseUrl;
  process.env.GLIDEPATH_E2E_TOKEN = token;
  return teardown;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitUntilReady(baseUrl: string, api: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (api.exitCode !== null || api.signalCode !== null) throw new Error(`the API exited (${api.exitCode ?? api.signalCode}) before it was ready`);
    const status = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the API was not ready within 60 s at ${baseUrl}/readyz`);
}

async function stop(api: ChildProcess): Promise<void> {
  if (api.exitCode !== null || api.signalCode !== null) return;
  const exited = new Promise((resolve) => api.once('exit', resolve));
  api.kill('SIGTERM');
  const timer = setTimeout(() => api.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

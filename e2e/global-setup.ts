// Runs the real system for the browser tests: builds the dashboard, then starts two stacks
// (startStack), each a development OpenID provider and the API on free ports against a fresh
// database (the API creates and migrates it), which it serves the dashboard from; the "live"
// stack runs a worker too. Victor (group engineering) gets the viewer role and signs in once in
// a real browser; the pages tests start signed in as him (storage state). Tests find the stacks
// at GLIDEPATH_E2E_URL and GLIDEPATH_E2E_LIVE_URL. The returned function stops everything and
// drops the databases.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { launchOptions } from './playwright.config.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const adminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';
const logFile = fileURLToPath(new URL('api.log', import.meta.url));
export const storageStateFile = fileURLToPath(new URL('test-results/signed-in-viewer.json', import.meta.url));

interface Stack {
  baseUrl: string;
  token: string;
  databaseUrl: string;
  stop: () => Promise<void>;
}

/**
 * Two stacks, each with its own database, OpenID provider and API: "pages" runs no worker, so
 * releases stay where a test puts them; "live" runs the worker too, so approvals, rollbacks and
 * promotions really happen.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  execFileSync('pnpm', ['--filter', '@glidepath/web', 'build'], { cwd: root, stdio: 'inherit' });
  const log = createWriteStream(logFile);
  const stacks: Stack[] = [];
  const teardown = async () => {
    await Promise.all(stacks.map((stack) => stack.stop()));
  };
  try {
    const pages = await startStack('pages', { worker: false, log });
    stacks.push(pages);
    const live = await startStack('live', { worker: true, log });
    stacks.push(live);
    await signInOnce(pages.baseUrl, 'victor');
    process.env.GLIDEPATH_E2E_URL = pages.baseUrl;
    process.env.GLIDEPATH_E2E_TOKEN = pages.token;
    process.env.GLIDEPATH_E2E_STORAGE_STATE = storageStateFile;
    // For tests that must set what only a worker would (a release's outcome): no worker runs there.
    process.env.GLIDEPATH_E2E_DATABASE_URL = pages.databaseUrl;
    process.env.GLIDEPATH_E2E_LIVE_URL = live.baseUrl;
    process.env.GLIDEPATH_E2E_LIVE_TOKEN = live.token;
  } catch (error) {
    await teardown();
    throw new Error(`${(error as Error).message}; API, worker and OpenID provider log: ${logFile}`);
  }
  return teardown;
}

async function startStack(name: string, { worker, log }: { worker: boolean; log: NodeJS.WritableStream }): Promise<Stack> {
  const [port, oidcPort] = [await freePort(), await freePort()];
  const database = `gp_e2e_${name}_${randomBytes(6).toString('hex')}`;
  // The admin token the tests write with; the dashboard acts as the people signed in.
  const token = randomBytes(32).toString('hex');
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    GLIDEPATH_PORT: String(port),
    GLIDEPATH_WORKER_METRICS_PORT: String(await freePort()),
    DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    GLIDEPATH_WEB_DIST: `${root}apps/web/dist`,
    GLIDEPATH_BOOTSTRAP_TOKEN: token,
    GLIDEPATH_QUEUE_PREFIX: database,
    GLIDEPATH_DEV_OIDC_PORT: String(oidcPort),
    GLIDEPATH_OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
    GLIDEPATH_OIDC_CLIENT_ID: `glidepath-e2e-${name}`,
    GLIDEPATH_OIDC_CLIENT_SECRET: randomBytes(24).toString('hex'),
    GLIDEPATH_OIDC_REDIRECT_URL: `${baseUrl}/auth/callback`,
  };
  const run = (entry: string) => {
    const child = spawn(`${root}node_modules/.bin/tsx`, [entry], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => log.write(`[${name}] ${chunk.toString()}`));
    return child;
  };
  const processes = [run('packages/dev-oidc/src/main.ts')];
  const api = run('apps/api/src/server.ts');
  processes.push(api);
  const stop = async () => {
    await Promise.all(processes.map(stopProcess));
    execFileSync('psql', [adminUrl, '-q', '-c', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`], { stdio: 'inherit' });
  };
  try {
    // The API creates and migrates the database; the worker starts after it, on the same one.
    await waitUntilReady(baseUrl, api);
    if (worker) processes.push(run('apps/worker/src/main.ts'));
    // Victor (engineering) reads; Alice (release-managers) deploys; Dana (glidepath-admins) administers;
    // on the live stack Bob and Carol (prod-approvers) approve.
    // On the pages stack Bob's group has no role: the sign-in test shows what such a person sees.
    const grants = [
      ['engineering', 'viewer'],
      ['release-managers', 'deployer'],
      ['glidepath-admins', 'admin'],
      ...(worker ? [['prod-approvers', 'approver']] : []),
    ];
    for (const [group, role] of grants) {
      const granted = await fetch(`${baseUrl}/api/v1/role-bindings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: { type: 'group', id: group }, role }),
      });
      if (granted.status !== 201) throw new Error(`granting ${group} the ${role} role answered ${granted.status}: ${await granted.text()}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, token, databaseUrl: env.DATABASE_URL, stop };
}

/** Signs in through the real sign-in page and provider, and keeps the browser's cookies for the tests. */
async function signInOnce(baseUrl: string, login: string): Promise<void> {
  const browser = await chromium.launch(launchOptions);
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/`);
    await page.waitForURL(/\/login\?returnTo=/);
    await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any');
    await page.locator('button[type=submit]').click();
    await page.waitForURL(`${baseUrl}/`);
    await page.getByTestId('whoami').waitFor();
    await page.context().storageState({ path: storageStateFile });
  } finally {
    await browser.close();
  }
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

async function stopProcess(api: ChildProcess): Promise<void> {
  if (api.exitCode !== null || api.signalCode !== null) return;
  const exited = new Promise((resolve) => api.once('exit', resolve));
  api.kill('SIGTERM');
  const timer = setTimeout(() => api.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// Starts the API (which also serves the built dashboard) and the worker, and with --demo the
// live demo (demo/main.ts); prefixes their logs and stops them all on Ctrl-C. With
// --exit-when-done the demo's exit ends everything with its exit code (used by CI).
// Configuration comes from the environment (README).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const withDemo = args.includes('--demo');
const exitWhenDone = args.includes('--exit-when-done');
const children = [];
let stopping = false;

const env = { ...process.env };
// With the demo, request logs would bury its story; LOG_LEVEL still wins when set.
if (withDemo && !env.LOG_LEVEL) env.LOG_LEVEL = 'warn';
// The demo's HAProxy runtime API is a unix socket in a temporary directory: the network policy must allow it there.
if (withDemo) env.GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS = [env.GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS, tmpdir()].filter(Boolean).join(',');
// Glidepath deploys the demo's releases itself, with a command deployer running demo/deploy/sample-app-deploy.mjs.
if (withDemo) env.GLIDEPATH_DEPLOY_COMMAND_DIRS = [env.GLIDEPATH_DEPLOY_COMMAND_DIRS, `${root}demo/deploy`].filter(Boolean).join(',');
// The demo brings its own OpenID provider with demo people, unless a real issuer is configured.
const devOidc = withDemo && !env.GLIDEPATH_OIDC_ISSUER;
if (devOidc) {
  const apiPort = Number(env.GLIDEPATH_PORT ?? 3000);
  env.GLIDEPATH_DEV_OIDC_PORT ??= String(apiPort === 0 ? 0 : apiPort + 2);
  env.GLIDEPATH_OIDC_ISSUER = `http://127.0.0.1:${env.GLIDEPATH_DEV_OIDC_PORT}`;
  env.GLIDEPATH_OIDC_CLIENT_ID = 'glidepath-demo';
  env.GLIDEPATH_OIDC_CLIENT_SECRET = randomBytes(24).toString('hex');
  env.GLIDEPATH_OIDC_REDIRECT_URL = `${env.GLIDEPATH_PUBLIC_URL ?? `http://127.0.0.1:${apiPort}`}/auth/callback`;
}
if (!env.GLIDEPATH_BOOTSTRAP_TOKEN) {
  env.GLIDEPATH_BOOTSTRAP_TOKEN = randomBytes(32).toString('hex');
  console.log(`admin API token for this run (set GLIDEPATH_BOOTSTRAP_TOKEN to choose your own): ${env.GLIDEPATH_BOOTSTRAP_TOKEN}`);
}

function start(name, entry, entryArgs = [], { onExit } = {}) {
  // node with tsx's loader rather than the tsx CLI, so signals reach the process itself.
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...entryArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    if (onExit) return onExit(code ?? 1);
    console.error(`[${name}] exited (${signal ?? code}); stopping everything`);
    stop(code || 1);
  });
  children.push(child);
}

function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 15_000).unref();
  Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() => process.exit(code));
}

// Stopped from outside before the demo ended: with --exit-when-done that is not a success (CI's
// timeout sends SIGTERM to a demo stuck on a paused release).
process.on('SIGINT', () => stop(exitWhenDone ? 130 : 0));
process.on('SIGTERM', () => stop(exitWhenDone ? 143 : 0));
if (devOidc) start('oidc', 'packages/dev-oidc/src/main.ts');
start('api', 'apps/api/src/server.ts');
start('worker', 'apps/worker/src/main.ts');
if (withDemo) {
  start('demo', 'demo/main.ts', exitWhenDone ? ['--exit-when-done'] : [], {
    onExit: (code) => {
      if (exitWhenDone || code !== 0) stop(code);
    },
  });
}
const port = env.GLIDEPATH_PORT ?? '3000';
console.log(`Glidepath starting: dashboard and API on http://127.0.0.1:${port} (API docs: /api/docs). Ctrl-C stops it.`);
if (devOidc)
  console.log('Sign in with the demo OpenID provider as alice (deploys), bob or carol (approve prod), dana (admin) or victor (reads), with any password.');

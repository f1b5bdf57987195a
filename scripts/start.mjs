// Starts the API (which also serves the built dashboard) and the worker, prefixing their
// logs, and stops both on Ctrl-C. Configuration comes from the environment (README).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const children = [];
let stopping = false;

function start(name, entry) {
  const child = spawn(tsx, [entry], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping everything`);
      stop(code || 1);
    }
  });
  children.push(child);
}

function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 200).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() => process.exit(code));
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
start('api', 'apps/api/src/server.ts');
start('worker', 'apps/worker/src/main.ts');
const port = process.env.GLIDEPATH_PORT ?? '3000';
console.log(`Glidepath starting: dashboard and API on http://127.0.0.1:${port} (API docs: /api/docs). Ctrl-C stops it.`);

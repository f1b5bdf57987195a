// Starts Glidepath itself (API + worker, scripts/start.mjs) as real processes on a fresh
// database, for the integration test and the rollback benchmark. stop() ends both and drops
// the database.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl } from '@glidepath/db/testing';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Glidepath {
  api: string;
  token: string;
  databaseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startGlidepath(extraEnv: Record<string, string> = {}): Promise<Glidepath> {
  const port = await freePort();
  const name = `gp_stack_${randomBytes(5).toString('hex')}`;
  const token = randomBytes(32).toString('hex');
  let output = '';
  const child = spawn('node', [`${ROOT}scripts/start.mjs`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GLIDEPATH_PORT: String(port),
      DATABASE_URL: databaseUrl(name),
      GLIDEPATH_BOOTSTRAP_TOKEN: token,
      GLIDEPATH_QUEUE_PREFIX: name,
      GLIDEPATH_WORKER_METRICS_PORT: '0',
      GLIDEPATH_SWEEP_EVERY_MS: '1000',
      // The demo stack's HAProxy runtime API is a unix socket in a temporary directory.
      GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS: tmpdir(),
      // Environments may deploy with the demo's deploy script (stack.commandDeployer); its runs are recorded beside the stack.
      GLIDEPATH_DEPLOY_COMMAND_DIRS: `${ROOT}demo/deploy`,
      GLIDEPATH_DEPLOY_STATE_DIR: join(tmpdir(), `${name}-deploy-runs`),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
    await rm(join(tmpdir(), `${name}-deploy-runs`), { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`${api}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Glidepath did not become ready:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { api, token, databaseUrl: databaseUrl(name), output: () => output, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

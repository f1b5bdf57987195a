import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<void>;
  /** SIGKILL: the process gets no chance to clean up. */
  kill(): Promise<void>;
}

/** Starts a real worker process (apps/worker) against the given database and queue prefix. */
export function startWorkerProcess(env: { databaseUrl: string; queuePrefix: string; redisUrl?: string; extra?: Record<string, string> }): WorkerProcess {
  let output = '';
  // node itself with tsx's loader, not the tsx CLI: a SIGKILL must hit the worker, not a wrapper
  // that would leave the real worker running as an orphan.
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}apps/worker/src/main.ts`], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      GLIDEPATH_QUEUE_PREFIX: env.queuePrefix,
      GLIDEPATH_WORKER_METRICS_PORT: '0',
      GLIDEPATH_SWEEP_EVERY_MS: '500',
      GLIDEPATH_JOB_LOCK_MS: '2000',
      GLIDEPATH_CREATE_DATABASE: 'false',
      LOG_LEVEL: 'warn',
      ...env.extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

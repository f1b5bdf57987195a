import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pause } from './deploy-request.ts';

const RUNNER = fileURLToPath(new URL('./command-runner.mjs', import.meta.url));

/** What command-runner.mjs reads: everything it needs to run the command without the worker. */
export interface RunJob {
  action: 'deploy' | 'remove';
  id: string;
  slot: string;
  digest: string | null;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  killGraceMs: number;
  outputLimitBytes: number;
  heartbeatMs: number;
  cancelReason: string;
  createdAt: string;
}

/** What command-runner.mjs writes at the end. */
export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: string | null;
  error: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export type RunState =
  | { state: 'absent' }
  | { state: 'running'; job: RunJob }
  | { state: 'done'; job: RunJob; result: RunResult }
  /** The runner is gone without a result: whether the command finished is unknown, so it is not run again. */
  | { state: 'lost'; job: RunJob; reason: string };

export interface RunStoreOptions {
  stateDir: string;
  /** A runner whose heartbeat is older than this is gone (its pid may have been reused); default 10000. */
  staleAfterMs?: number;
  heartbeatMs?: number;
}

/**
 * Run records on disk, one directory per operation (action and idempotency key). The directory
 * is created by an atomic rename with job.json already inside, so of two workers asking at once
 * exactly one starts the runner; every later ask finds the record and waits on it.
 */
export function createRunStore(options: RunStoreOptions) {
  // Absolute: the runner starts in the run's own directory, where a relative path (the default
  // GLIDEPATH_DEPLOY_STATE_DIR is one) would name nothing.
  const stateDir = resolve(options.stateDir);
  const runs = join(stateDir, 'runs');
  const slots = join(stateDir, 'slots');
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(staleAfterMs / 5));

  const readJson = async <T>(path: string): Promise<T | null> => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
  const writeAtomic = async (path: string, value: unknown) => {
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
    await rename(tmp, path);
  };

  const store = {
    heartbeatMs,
    /** The record of one operation; the key is hashed, so no id can name a path outside the store. */
    dirFor: (action: RunJob['action'], id: string) => join(runs, `${action}-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`),

    /** Starts the run unless a record exists already. `existing` carries that record's job. */
    async claim(job: RunJob): Promise<{ claimed: true } | { claimed: false; job: RunJob }> {
      const dir = store.dirFor(job.action, job.id);
      await mkdir(runs, { recursive: true, mode: 0o700 });
      await mkdir(slots, { recursive: true, mode: 0o700 });
      const existing = await readJson<RunJob>(join(dir, 'job.json'));
      if (existing) return { claimed: false, job: existing };
      const tmp = join(runs, `.claim-${randomUUID()}`);
      await mkdir(tmp, { mode: 0o700 });
      await writeFile(join(tmp, 'job.json'), JSON.stringify(job), { mode: 0o600 });
      try {
        // Fails when the directory exists (and is never empty): someone else claimed it first.
        await rename(tmp, dir);
      } catch (error) {
        await rm(tmp, { recursive: true, force: true });
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        const theirs = await readJson<RunJob>(join(dir, 'job.json'));
        if (!theirs) throw error;
        return { claimed: false, job: theirs };
      }
      await writeAtomic(join(slots, `${job.slot}.json`), { action: job.action, id: job.id, dir, at: new Date().toISOString() });
      // Detached and unreferenced: it outlives this process. Its own errors go to runner.log.
      const log = openSync(join(dir, 'runner.log'), 'a', 0o600);
      try {
        spawn(process.execPath, [RUNNER, dir], { detached: true, stdio: ['ignore', log, log], env: {}, cwd: dir }).unref();
      } finally {
        closeSync(log);
      }
      return { claimed: true };
    },

    async inspect(dir: string): Promise<RunState> {
      const result = await readJson<RunResult>(join(dir, 'result.json'));
      const job = await readJson<RunJob>(join(dir, 'job.json'));
      if (!job) return { state: 'absent' };
      if (result) return { state: 'done', job, result };
      const runner = await readJson<{ pid: number }>(join(dir, 'runner.json'));
      if (!runner) {
        if (Date.now() - Date.parse(job.createdAt) <= staleAfterMs) return { state: 'running', job };
        return { state: 'lost', job, reason: 'its runner never started (the worker that claimed it died first, or node could not start)' };
      }
      const beat = await stat(join(dir, 'heartbeat')).then(
        (s) => s.mtimeMs,
        () => 0,
      );
      if (pidAlive(runner.pid) && Date.now() - beat <= staleAfterMs) return { state: 'running', job };
      // It may have finished between the two reads.
      const late = await readJson<RunResult>(join(dir, 'result.json'));
      if (late) return { state: 'done', job, result: late };
      return { state: 'lost', job, reason: `its runner (pid ${runner.pid}) ended without a result, so whether the command finished is unknown` };
    },

    /** Waits for the end of a run, until the deadline ('timeout') or the signal (rejects). */
    async wait(dir: string, deadline: number, signal: AbortSignal): Promise<Exclude<RunState, { state: 'running' }> | { state: 'timeout'; job: RunJob }> {
      for (;;) {
        const now = await store.inspect(dir);
        if (now.state !== 'running') return now;
        if (Date.now() >= deadline) return { state: 'timeout', job: now.job };
        if (!(await pause(Math.min(100, Math.max(1, deadline - Date.now())), signal))) throw signal.reason;
      }
    },

    /** Asks the runner to stop the command (SIGTERM to its group, SIGKILL after the grace); false when it is already gone. */
    async cancel(dir: string): Promise<boolean> {
      const runner = await readJson<{ pid: number }>(join(dir, 'runner.json'));
      if (!runner || !pidAlive(runner.pid)) return false;
      try {
        process.kill(runner.pid, 'SIGTERM');
        return true;
      } catch {
        return false;
      }
    },

    /** What was last started on a slot: its record's directory. */
    async lastOnSlot(slot: string): Promise<{ action: RunJob['action']; id: string; dir: string } | null> {
      return readJson(join(slots, `${slot}.json`));
    },
  };
  return store;
}
export type RunStore = ReturnType<typeof createRunStore>;

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Runs one deployer command for Glidepath, detached from the worker that asked for it, and writes
// its result next to its job. A worker that dies mid-deploy is then replaced by one that finds the
// run still going (or its result) instead of running the command a second time.
//
// Plain JavaScript, no dependencies: it is started with `node command-runner.mjs <record dir>`
// whatever loader the worker runs under.
//
// <record dir>/job.json     written by the worker before this starts (argv, env, cwd, limits)
// <record dir>/runner.json  { pid, startedAt }, written here first
// <record dir>/heartbeat    its mtime is renewed every job.heartbeatMs while this runs
// <record dir>/result.json  written once, atomically, at the end
//
// SIGTERM to this process (a deploy past its deadline) stops the command as a timeout does: the
// command's whole process group gets SIGTERM, then SIGKILL after job.killGraceMs.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const job = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
const startedAt = new Date();

function writeAtomic(name, value) {
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, join(dir, name));
}

/** The last `limit` bytes of a stream, and how many arrived in all. */
function tailOf(limit) {
  const chunks = [];
  let kept = 0;
  let total = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      kept += chunk.length;
      total += chunk.length;
      while (chunks.length > 1 && kept - chunks[0].length >= limit) kept -= chunks.shift().length;
    },
    text: () => Buffer.concat(chunks).subarray(-limit).toString('utf8'),
    total: () => total,
  };
}

const heartbeat = join(dir, 'heartbeat');
writeFileSync(heartbeat, '', { mode: 0o600 });
writeAtomic('runner.json', { pid: process.pid, startedAt: startedAt.toISOString() });
const beat = setInterval(() => {
  const now = new Date();
  try {
    utimesSync(heartbeat, now, now);
  } catch {
    // The record was removed under us: the result cannot be written either; keep running the command.
  }
}, job.heartbeatMs);

const stdout = tailOf(job.outputLimitBytes);
const stderr = tailOf(job.outputLimitBytes);
let stopping = null;
let finished = false;

function finish(outcome) {
  if (finished) return;
  finished = true;
  clearInterval(beat);
  const finishedAt = new Date();
  writeAtomic('result.json', {
    exitCode: null,
    signal: null,
    timedOut: false,
    cancelled: null,
    error: null,
    ...outcome,
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutBytes: stdout.total(),
    stderrBytes: stderr.total(),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
  });
  process.exit(0);
}

let child;
try {
  // Its own process group (detached), so a timeout kills whatever the command started as well.
  child = spawn(job.argv[0], job.argv.slice(1), { cwd: job.cwd, env: job.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
} catch (error) {
  finish({ error: `could not start ${job.argv[0]}: ${error.code ?? error.message}` });
}

const groupAlive = () => {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};
const killGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
};

/** Stops the command's whole group: SIGTERM, SIGKILL after the grace, then the result once the command itself is gone. */
let killed = false;
function stop(why) {
  // Once the command has exited, what it left running is not ours to stop.
  if (stopping || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  stopping = why;
  killGroup('SIGTERM');
  setTimeout(() => {
    killGroup('SIGKILL');
    killed = true;
  }, job.killGraceMs);
}

child.on('error', (error) => finish({ error: `could not start ${job.argv[0]}: ${error.code ?? error.message}` }));
child.stdout.on('data', (chunk) => stdout.push(chunk));
child.stderr.on('data', (chunk) => stderr.push(chunk));
const timer = setTimeout(() => stop('timeout'), job.timeoutMs);
process.on('SIGTERM', () => stop('cancelled'));

child.on('exit', (exitCode, signal) => {
  clearTimeout(timer);
  const outcome = { exitCode, signal, timedOut: stopping === 'timeout', cancelled: stopping === 'cancelled' ? job.cancelReason : null };
  if (!stopping) {
    // A service the command left running may hold the pipes open for ever: take what has arrived
    // and do not wait for it (nor kill it: starting it may have been the point).
    setTimeout(() => finish(outcome), 100);
    return;
  }
  // A stopped run ends once nothing of its group is left, or once SIGKILL was sent (which nothing
  // survives: what still answers then is a zombie its new parent has yet to reap).
  const waitForGroup = setInterval(() => {
    if (groupAlive() && !killed) return;
    clearInterval(waitForGroup);
    setTimeout(() => finish(outcome), killed ? 50 : 0);
  }, 20);
});

import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type {
  ConfigProblem,
  DeployCallOptions,
  DeployEvidence,
  Deployer,
  DeployerProvider,
  DeploymentStatus,
  DeployOutcome,
  RemoveOutcome,
} from '@glidepath/core';
import { Type, type Static } from 'typebox';
import type { Egress } from '../network/egress.ts';
import { configChecker } from '../registry/check-config.ts';
import { deadlineFor, deployRequestProblem, keyProblem, removeRequestProblem, slotProblem } from './deploy-request.ts';
import { healthBudgetMs, healthCheckDestinations, healthCheckProblems, HealthCheckSchema, waitUntilHealthy } from './health-check.ts';
import { createRunStore, type RunJob, type RunResult, type RunState, type RunStore } from './command-runs.ts';

const NO_NUL = '^[^\\u0000]*$';

const CommandDeployerSchema = Type.Object(
  {
    command: Type.Array(Type.String({ minLength: 1, maxLength: 4096, pattern: NO_NUL }), {
      minItems: 1,
      maxItems: 64,
      description: 'the executable (an absolute path inside a directory the worker allows) and its arguments; never run through a shell',
    }),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: '^(?!GLIDEPATH_)[A-Za-z_][A-Za-z0-9_]{0,127}$' }), Type.String({ maxLength: 4096, pattern: NO_NUL }), {
        maxProperties: 32,
        additionalProperties: false,
        description: 'more environment variables for the command (the GLIDEPATH_ ones are set by Glidepath); values are never shown in evidence',
      }),
    ),
    cwd: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$', maxLength: 1024, description: 'working directory; default the run record directory' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'how long the command may run; default 600000' })),
    killGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'between SIGTERM and SIGKILL of the timed-out group; default 5000' })),
    healthCheck: Type.Optional(HealthCheckSchema),
  },
  { additionalProperties: false },
);
export type CommandDeployerConfig = Static<typeof CommandDeployerSchema>;

/** The worker's own settings for command deployers (not the environment's: they decide what may run on this host). */
export interface CommandDeployerHost {
  /** Where run records live; on storage that outlives a worker process, as they are how a replacement finds a run. */
  stateDir: string;
  /** Only executables inside these directories may be configured; none means command deployers are refused here. */
  executableDirs: string[];
  /** The PATH commands get; default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin. */
  path?: string;
  staleAfterMs?: number;
}

export interface CommandDeployerDeps {
  egress: Egress;
  commandHost?: CommandDeployerHost;
}

const DEFAULTS = { timeoutMs: 600_000, killGraceMs: 5000, outputLimitBytes: 32 * 1024 } as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Time for the runner to start, notice a deadline and write its result, beyond the command's own limits. */
const SLACK_MS = 5000;

const checkSchema = configChecker(CommandDeployerSchema);

function commandProblems(config: CommandDeployerConfig): ConfigProblem[] {
  const executable = config.command[0]!;
  const problems: ConfigProblem[] = [];
  if (!isAbsolute(executable) || resolve(executable) !== executable) {
    problems.push({ path: 'command.0', message: 'must be an absolute, normalised path to the executable (no shell, no PATH look-up)' });
  }
  if (config.cwd !== undefined && resolve(config.cwd) !== config.cwd) problems.push({ path: 'cwd', message: 'must be an absolute, normalised path' });
  return [...problems, ...healthCheckProblems(config.healthCheck)];
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Runs a configured executable on the worker's host for each deploy and removal, with the
 * request in its environment (GLIDEPATH_ACTION, _DIGEST, _SLOT, _VERSION, _DEPLOYMENT_ID…), a
 * timeout that kills its whole process group, and the tail of its output as evidence. Exit 0
 * is done (then the health check, when configured); anything else fails with the output's tail.
 */
export function commandDeployerProvider(): DeployerProvider<CommandDeployerConfig, CommandDeployerDeps> {
  return {
    type: 'command',
    validateConfig(config) {
      const check = checkSchema(config);
      if (!check.ok) return check;
      const problems = commandProblems(check.config);
      return problems.length ? { ok: false, problems } : check;
    },
    destinations: (config) => healthCheckDestinations(config.healthCheck),
    permits(config, { commandHost }) {
      const dirs = (commandHost?.executableDirs ?? []).map((d) => resolve(d));
      if (dirs.length === 0) return [{ path: 'command.0', message: 'command deployers are not enabled on this host: no executable directory is allowed' }];
      return dirs.some((dir) => inside(dir, config.command[0]!))
        ? []
        : [{ path: 'command.0', message: `must be inside an allowed executable directory (${dirs.join(', ')})` }];
    },
    create: (config, deps) => createCommandDeployer(config, deps),
  };
}

export function createCommandDeployer(config: CommandDeployerConfig, { egress, commandHost }: CommandDeployerDeps): Deployer {
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const killGraceMs = config.killGraceMs ?? DEFAULTS.killGraceMs;
  const argv = config.command;
  const name = basename(argv[0]!);
  const closing = new AbortController();
  const store: RunStore | null = commandHost ? createRunStore({ stateDir: commandHost.stateDir, staleAfterMs: commandHost.staleAfterMs }) : null;
  const signalFor = (options?: DeployCallOptions) => (options?.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal);

  /** Checked on every run, against the files as they are now: a symlink must not lead out of the allowed directories. */
  async function executableProblem(): Promise<string | null> {
    if (!commandHost || commandHost.executableDirs.length === 0) return 'command deployers are not enabled on this host: no executable directory is allowed';
    const real = await realpath(argv[0]!).catch((error: NodeJS.ErrnoException) => error);
    if (real instanceof Error) return `${argv[0]} cannot be run: ${real.code ?? real.message}`;
    const dirs = await Promise.all(commandHost.executableDirs.map((d) => realpath(d).catch(() => null)));
    if (!dirs.some((dir) => dir !== null && inside(dir, real))) return `${argv[0]} (${real}) is not inside an allowed executable directory`;
    const file = await stat(real);
    if (!file.isFile()) return `${argv[0]} is not a file`;
    const executable = await access(real, constants.X_OK).then(
      () => true,
      () => false,
    );
    return executable ? null : `${argv[0]} is not executable`;
  }

  function jobFor(action: RunJob['action'], id: string, slot: string, vars: Record<string, string>, digest: string | null, dir: string): RunJob {
    return {
      action,
      id,
      slot,
      digest,
      argv,
      // Nothing of the worker's own environment (its database URL, its secrets) reaches the command.
      env: { PATH: commandHost?.path ?? DEFAULT_PATH, ...config.env, GLIDEPATH_ACTION: action, GLIDEPATH_SLOT: slot, ...vars },
      cwd: config.cwd ?? dir,
      timeoutMs,
      killGraceMs,
      outputLimitBytes: DEFAULTS.outputLimitBytes,
      heartbeatMs: store!.heartbeatMs,
      cancelReason: 'cancelled by Glidepath: the deploy ran past its deadline',
      createdAt: new Date().toISOString(),
    };
  }

  /** Starts the run (or finds it), waits for its result until the deadline, and says how it ended. */
  async function runToEnd(
    job: RunJob,
    deadline: number,
    signal: AbortSignal,
  ): Promise<{ ok: true; evidence: DeployEvidence } | { ok: false; reason: string; evidence: DeployEvidence }> {
    const dir = store!.dirFor(job.action, job.id);
    const base = { deployer: 'command', command: name, action: job.action, id: job.id, slot: job.slot, ...(job.digest ? { digest: job.digest } : {}) };
    // Past the deadline already (a call resumed too late): report a run that exists, start none.
    if (Date.now() >= deadline && (await store!.inspect(dir)).state === 'absent') {
      return { ok: false, reason: `the deadline had passed before ${name} could start; not started`, evidence: base };
    }
    const claim = await store!.claim(job);
    if (!claim.claimed && (claim.job.slot !== job.slot || claim.job.digest !== job.digest)) {
      const was = claim.job.digest ? `${claim.job.digest} on slot ${claim.job.slot}` : `slot ${claim.job.slot}`;
      return { ok: false, reason: `${job.id} was already used for ${was}: an idempotency key names one operation`, evidence: base };
    }
    const resumed = !claim.claimed;
    let end = await store!.wait(dir, deadline, signal);
    let cancelledAtDeadline = false;
    if (end.state === 'timeout') {
      cancelledAtDeadline = await store!.cancel(dir);
      // Give the runner the grace to stop the group and write what it saw.
      end = await store!.wait(dir, Date.now() + killGraceMs + SLACK_MS, signal);
    }
    if (end.state === 'absent') return { ok: false, reason: `the record of ${job.id} disappeared`, evidence: { ...base, resumed } };
    if (end.state === 'lost') return { ok: false, reason: `${name} (${job.action} ${job.id}): ${end.reason}; not run again`, evidence: { ...base, resumed } };
    if (end.state === 'timeout') {
      const what = cancelledAtDeadline ? 'was asked to stop' : 'could not be reached to stop it';
      return { ok: false, reason: `${name} did not finish before the deploy's deadline and ${what}`, evidence: { ...base, resumed } };
    }
    const evidence = { ...base, resumed, ...resultEvidence(end.result) };
    const failure = failureOf(name, end.result, job.timeoutMs);
    return failure ? { ok: false, reason: failure, evidence } : { ok: true, evidence };
  }

  return {
    type: 'command',
    async deploy(request, options): Promise<DeployOutcome> {
      const base = { deployer: 'command', command: name, deploymentId: request.deploymentId, slot: request.slot };
      const problem = deployRequestProblem(request) ?? (await executableProblem());
      if (problem) return { state: 'failed', reason: `cannot deploy: ${problem}`, evidence: base };
      const signal = signalFor(options);
      const deadline = deadlineFor(timeoutMs + killGraceMs + SLACK_MS + healthBudgetMs(config.healthCheck), options);
      const { artifact } = request;
      const vars = {
        GLIDEPATH_DEPLOYMENT_ID: request.deploymentId,
        GLIDEPATH_RELEASE_ID: request.releaseId,
        GLIDEPATH_ENVIRONMENT_ID: request.environmentId,
        GLIDEPATH_SERVICE: artifact.service,
        GLIDEPATH_VERSION: artifact.version,
        GLIDEPATH_DIGEST: artifact.digest,
        GLIDEPATH_COMMIT_SHA: artifact.commitSha ?? '',
        GLIDEPATH_BUILD_URL: artifact.buildUrl ?? '',
      };
      const dir = store!.dirFor('deploy', request.deploymentId);
      const ran = await runToEnd(jobFor('deploy', request.deploymentId, request.slot, vars, artifact.digest, dir), deadline, signal);
      if (!ran.ok) return { state: 'failed', reason: ran.reason, evidence: ran.evidence };
      if (!config.healthCheck) return { state: 'ready', digest: artifact.digest, evidence: ran.evidence };
      const health = await waitUntilHealthy(egress, config.healthCheck, request.slot, artifact.digest, deadline, signal);
      const evidence = { ...ran.evidence, health: health.evidence };
      return health.ok ? { state: 'ready', digest: artifact.digest, evidence } : { state: 'failed', reason: health.reason, evidence };
    },

    async remove(request, options): Promise<RemoveOutcome> {
      const base = { deployer: 'command', command: name, removalId: request.removalId, slot: request.slot };
      const problem = removeRequestProblem(request) ?? (await executableProblem());
      if (problem) return { state: 'failed', reason: `cannot remove: ${problem}`, evidence: base };
      const vars = {
        GLIDEPATH_DEPLOYMENT_ID: request.removalId,
        GLIDEPATH_RELEASE_ID: request.releaseId,
        GLIDEPATH_ENVIRONMENT_ID: request.environmentId,
        GLIDEPATH_SERVICE: request.service,
        GLIDEPATH_VERSION: '',
        GLIDEPATH_DIGEST: '',
        GLIDEPATH_COMMIT_SHA: '',
        GLIDEPATH_BUILD_URL: '',
      };
      const dir = store!.dirFor('remove', request.removalId);
      const ran = await runToEnd(
        jobFor('remove', request.removalId, request.slot, vars, null, dir),
        deadlineFor(timeoutMs + killGraceMs + SLACK_MS, options),
        signalFor(options),
      );
      return ran.ok ? { state: 'removed', evidence: ran.evidence } : { state: 'failed', reason: ran.reason, evidence: ran.evidence };
    },

    async status(query): Promise<DeploymentStatus> {
      const id = query.deploymentId ?? null;
      const unknown = (reason: string, evidence: DeployEvidence = { deployer: 'command' }): DeploymentStatus => ({
        state: 'unknown',
        slot: query.slot,
        deploymentId: id,
        digest: null,
        reason,
        evidence,
      });
      const problem = slotProblem(query.slot) ?? (id === null ? null : keyProblem('deploymentId', id));
      if (problem) return unknown(`invalid status query: ${problem}`);
      if (!store) return unknown('command deployers are not enabled on this host');
      let dir: string;
      if (id !== null) dir = store.dirFor('deploy', id);
      else {
        const last = await store.lastOnSlot(query.slot);
        if (!last) return unknown(`nothing was deployed on slot ${query.slot} from this host`);
        dir = last.dir;
      }
      const run = await store.inspect(dir);
      if (run.state === 'absent') return unknown(`no run of ${id} is recorded on this host`);
      if (run.job.slot !== query.slot) return unknown(`${run.job.id} ran on slot ${run.job.slot}, not ${query.slot}`);
      return statusOf(name, run);
    },

    // Runs already started go on (they are detached): a later call with the same key picks them up.
    close: async () => closing.abort(new Error('deployer closed')),
  };
}

function resultEvidence(result: RunResult): DeployEvidence {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    ...(result.cancelled ? { cancelled: result.cancelled } : {}),
    ...(result.error ? { error: result.error } : {}),
    durationMs: result.durationMs,
    stdout: result.stdout,
    stderr: result.stderr,
    ...(result.stdoutBytes > Buffer.byteLength(result.stdout) ? { stdoutBytes: result.stdoutBytes } : {}),
    ...(result.stderrBytes > Buffer.byteLength(result.stderr) ? { stderrBytes: result.stderrBytes } : {}),
  };
}

/** Why a finished run failed, in one line for people, or null when it did not. */
function failureOf(name: string, result: RunResult, timeoutMs: number): string | null {
  if (result.error) return result.error;
  if (result.timedOut) return `${name} did not finish within ${timeoutMs} ms: its process group was killed${lastLine(result)}`;
  if (result.cancelled) return `${name}: ${result.cancelled}${lastLine(result)}`;
  if (result.signal) return `${name} was killed by ${result.signal}${lastLine(result)}`;
  if (result.exitCode !== 0) return `${name} exited with code ${result.exitCode}${lastLine(result)}`;
  return null;
}

/** The last line the command wrote, on stderr if it wrote any there: usually the one that says why. */
function lastLine(result: RunResult): string {
  const lastOf = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
  const line = lastOf(result.stderr) ?? lastOf(result.stdout);
  return line ? `: ${line.slice(0, 300)}` : '';
}

function statusOf(name: string, run: Exclude<RunState, { state: 'absent' }>): DeploymentStatus {
  const { job } = run;
  const base = { slot: job.slot, deploymentId: job.id, evidence: { deployer: 'command', command: name, action: job.action } as DeployEvidence };
  if (run.state === 'running') return { ...base, state: 'pending', digest: job.digest, reason: null };
  if (run.state === 'lost') return { ...base, state: 'failed', digest: job.digest, reason: run.reason };
  const failure = failureOf(name, run.result, job.timeoutMs);
  const evidence = { ...base.evidence, ...resultEvidence(run.result) };
  if (failure) return { ...base, state: 'failed', digest: job.digest, reason: failure, evidence };
  return job.action === 'remove'
    ? { ...base, state: 'removed', digest: null, reason: null, evidence }
    : { ...base, state: 'ready', digest: job.digest, reason: null, evidence };
}

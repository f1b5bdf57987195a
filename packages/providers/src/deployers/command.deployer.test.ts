import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployRequest } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDeployerContract, digestOf } from '../contract/deployer.contract.ts';
import { createEgress } from '../network/egress.ts';
import { commandDeployerProvider, type CommandDeployerConfig, type CommandDeployerHost } from './command.deployer.ts';
import { createRunStore } from './command-runs.ts';
import { startManagedHost, type ManagedHost } from './command.deployer.testing.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });

function deployerOn(
  host: ManagedHost,
  extra: Partial<CommandDeployerConfig> & { env?: Record<string, string> } = {},
  hostOptions: Partial<CommandDeployerHost> = {},
) {
  const provider = commandDeployerProvider();
  const config = { command: [host.script], timeoutMs: 5000, killGraceMs: 200, ...extra, env: { SLOTS: host.slots, ...extra.env } };
  const check = provider.validateConfig(config);
  if (!check.ok) throw new Error(`command deployer config rejected: ${JSON.stringify(check.problems)}`);
  const commandHost = { stateDir: host.state, executableDirs: [host.bin], ...hostOptions };
  const refused = provider.permits!(check.config, { egress, commandHost });
  if (refused.length) throw new Error(`command deployer refused here: ${JSON.stringify(refused)}`);
  return provider.create(check.config, { egress, commandHost });
}

const health = (host: ManagedHost, path = 'health', timeoutMs = 1500) =>
  ({ url: `${host.base}/${path}/{slot}`, digestHeader: 'x-glidepath-digest', passes: 3, intervalMs: 100, timeoutMs }) as const;

describeDeployerContract('command (a real shell script, health over real HTTP)', async () => {
  const host = await startManagedHost();
  const good = () => deployerOn(host, { healthCheck: { ...health(host), passes: 2, intervalMs: 50 } });
  return {
    deployer: good(),
    replacement: async () => good(),
    observe: host.digestOn,
    performed: host.performed,
    slowSlot: 'slow',
    misbehaving: {
      'never-answers': async () => deployerOn(host, { env: { MODE: 'hang' }, timeoutMs: 500 }),
      'answers-twice': async () => deployerOn(host, { env: { MODE: 'flap' }, healthCheck: { ...health(host), passes: 8, intervalMs: 100 } }),
      'wrong-digest': async () => deployerOn(host, { env: { MODE: 'wrong' }, healthCheck: health(host, 'health', 800) }),
      'never-healthy': async () => deployerOn(host, { healthCheck: health(host, 'broken', 800) }),
    },
    failWithinMs: 8000,
    teardown: host.close,
  };
});

let n = 0;
const request = (slot = 'blue'): DeployRequest => {
  const id = `cmd-${process.pid}-${++n}`;
  return {
    deploymentId: id,
    releaseId: 'rel-1',
    environmentId: 'env-1',
    slot,
    artifact: { service: 'checkout', version: `2.${n}.0`, digest: digestOf(id), commitSha: 'abc123', buildUrl: 'https://ci.example.com/1' },
  };
};

/** Running, not a zombie that this container's init has yet to reap. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

describe('command deployer', () => {
  let host: ManagedHost;
  beforeAll(async () => {
    host = await startManagedHost();
  });
  afterAll(async () => {
    await host.close();
  });

  it('gives the command the request in GLIDEPATH_ variables and nothing of the worker’s environment', async () => {
    process.env.GLIDEPATH_TEST_WORKER_SECRET = 'do-not-leak';
    try {
      const asked = request('green');
      const outcome = await deployerOn(host, { env: { EXTRA: 'yes' } }).deploy(asked);
      expect(outcome.state).toBe('ready');
      const env = Object.fromEntries(
        (await readFile(join(host.slots, 'last.env'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      expect(env).toMatchObject({
        GLIDEPATH_ACTION: 'deploy',
        GLIDEPATH_DIGEST: asked.artifact.digest,
        GLIDEPATH_SLOT: 'green',
        GLIDEPATH_VERSION: asked.artifact.version,
        GLIDEPATH_DEPLOYMENT_ID: asked.deploymentId,
        GLIDEPATH_RELEASE_ID: 'rel-1',
        GLIDEPATH_SERVICE: 'checkout',
        GLIDEPATH_COMMIT_SHA: 'abc123',
        EXTRA: 'yes',
      });
      expect(env.GLIDEPATH_TEST_WORKER_SECRET).toBeUndefined();
      expect(env.DATABASE_URL).toBeUndefined();
      expect(outcome.evidence).toMatchObject({ exitCode: 0, stdout: expect.stringContaining(`deployed ${asked.artifact.digest}`) });
    } finally {
      delete process.env.GLIDEPATH_TEST_WORKER_SECRET;
    }
  });

  it('runs with a state directory given relative to the worker’s working directory (the default one is)', async () => {
    const outcome = await deployerOn(host, {}, { stateDir: relative(process.cwd(), host.state) }).deploy(request('green'));
    expect(outcome.state, JSON.stringify(outcome)).toBe('ready');
  });

  it('fails on a non-zero exit with the last line of stderr as the reason and both outputs as evidence', async () => {
    const outcome = await deployerOn(host, { env: { MODE: 'fail' } }).deploy(request());
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') return;
    expect(outcome.reason).toMatch(/^deploy\.sh exited with code 3: error: image sha256:[0-9a-f]{64} not found$/);
    expect(outcome.evidence).toMatchObject({ exitCode: 3, stdout: expect.stringContaining('pulling'), stderr: expect.stringContaining('not found') });
  });

  it('kills the whole process group at the timeout, and says so', async () => {
    const outcome = await deployerOn(host, { env: { MODE: 'hang' }, timeoutMs: 400, killGraceMs: 100 }).deploy(request());
    expect(outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/deploy\.sh did not finish within 400 ms: its process group was killed: waiting for ever/),
    });
    const pid = Number(await readFile(join(host.slots, 'hang.pid'), 'utf8'));
    const child = Number(await readFile(join(host.slots, 'hang.child'), 'utf8'));
    expect(alive(pid)).toBe(false);
    expect(alive(child)).toBe(false);
  });

  it('keeps the last 32 KiB of a long output and says how much there was', async () => {
    const outcome = await deployerOn(host, { env: { MODE: 'noisy' } }).deploy(request());
    expect(outcome.state).toBe('ready');
    const { stdout, stdoutBytes } = outcome.evidence as { stdout: string; stdoutBytes: number };
    expect(Buffer.byteLength(stdout)).toBeLessThanOrEqual(32 * 1024);
    expect(stdout).toMatch(/line 2999 of a chatty deploy/);
    expect(stdoutBytes).toBeGreaterThan(150_000);
  });

  it('stops the command when the caller’s deadline comes first', async () => {
    const started = Date.now();
    const outcome = await deployerOn(host, { env: { MODE: 'hang' }, timeoutMs: 60_000, killGraceMs: 100 }).deploy(request(), { deadline: Date.now() + 500 });
    expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/cancelled by Glidepath: the deploy ran past its deadline/) });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(alive(Number(await readFile(join(host.slots, 'hang.child'), 'utf8')))).toBe(false);
  });

  it('starts nothing when the caller’s deadline has passed already, but still reports a run that exists', async () => {
    const deployer = deployerOn(host);
    const late = request();
    expect(await deployer.deploy(late, { deadline: Date.now() - 1 })).toMatchObject({ state: 'failed', reason: expect.stringMatching(/deadline had passed/) });
    expect(await host.performed(late.deploymentId)).toBe(0);
    const done = request();
    expect((await deployer.deploy(done)).state).toBe('ready');
    expect(await deployer.deploy(done, { deadline: Date.now() - 1 })).toMatchObject({ state: 'ready', evidence: { resumed: true } });
  });

  it('refuses an idempotency key already used for another digest', async () => {
    const asked = request();
    const deployer = deployerOn(host);
    expect((await deployer.deploy(asked)).state).toBe('ready');
    const reused = { ...asked, artifact: { ...asked.artifact, digest: digestOf('something else') } };
    expect(await deployer.deploy(reused)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/already used for sha256:/) });
    expect(await host.digestOn('blue')).toBe(asked.artifact.digest);
  });

  it('a worker killed mid-deploy: its replacement waits for the same run and never runs the command twice', async () => {
    const asked = request('slow');
    const file = join(host.root, 'worker.mts');
    await writeFile(
      file,
      `import { createEgress } from ${JSON.stringify(join(ROOT, 'packages/providers/src/network/egress.ts'))};
import { commandDeployerProvider } from ${JSON.stringify(join(ROOT, 'packages/providers/src/deployers/command.deployer.ts'))};
const [config, commandHost, request] = JSON.parse(process.argv[2]);
const deployer = commandDeployerProvider().create(config, { egress: createEgress({ allow: [], deny: [], unixSocketDirs: [] }), commandHost });
await deployer.deploy(request);
`,
    );
    const config = { command: [host.script], env: { SLOTS: host.slots, SLOW_SECONDS: '4' }, timeoutMs: 10_000 };
    const commandHost = { stateDir: host.state, executableDirs: [host.bin] };
    const worker = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify([config, commandHost, asked])], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await expect.poll(() => host.performed(asked.deploymentId), { timeout: 20_000, interval: 50 }).toBe(1);
    worker.kill('SIGKILL');
    await exited;

    const replacement = deployerOn(host, { env: { SLOW_SECONDS: '4' } });
    expect(await replacement.status({ slot: 'slow', deploymentId: asked.deploymentId })).toMatchObject({ state: 'pending' });
    const outcome = await replacement.deploy(asked);
    expect(outcome).toMatchObject({ state: 'ready', digest: asked.artifact.digest, evidence: { resumed: true, exitCode: 0 } });
    expect(await host.performed(asked.deploymentId)).toBe(1);
    expect(await host.digestOn('slow')).toBe(asked.artifact.digest);
  });

  it('a run whose runner died with the worker fails as unknown and is not run again', async () => {
    const asked = request('slow');
    const deployer = deployerOn(host, { env: { SLOW_SECONDS: '3' } });
    const stop = new AbortController();
    const first = deployer.deploy(asked, { signal: stop.signal }).catch((error: Error) => error);
    await expect.poll(() => host.performed(asked.deploymentId), { timeout: 10_000, interval: 50 }).toBe(1);
    stop.abort(new Error('worker stopping'));
    expect(await first).toBeInstanceOf(Error);
    // The runner dies too (a container stopped whole): nothing is left to say how the command ended.
    const dir = createRunStore({ stateDir: host.state }).dirFor('deploy', asked.deploymentId);
    const runner = JSON.parse(await readFile(join(dir, 'runner.json'), 'utf8')) as { pid: number };
    process.kill(runner.pid, 'SIGKILL');
    await expect.poll(() => alive(runner.pid)).toBe(false);

    const outcome = await deployerOn(host).deploy(asked);
    expect(outcome).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/ended without a result, so whether the command finished is unknown; not run again/),
    });
    expect(await host.performed(asked.deploymentId)).toBe(1);
  });

  it('refuses an executable that a symlink leads out of the allowed directory, at run time', async () => {
    const link = join(host.bin, 'escape.sh');
    await symlink('/bin/true', link);
    const outcome = await deployerOn(host, { command: [link] }).deploy(request());
    expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/is not inside an allowed executable directory/) });
  });
});

describe('command deployer config', () => {
  const provider = commandDeployerProvider();
  const host = { egress, commandHost: { stateDir: '/var/lib/glidepath', executableDirs: ['/opt/deploy'] } };

  it('accepts an absolute executable with arguments, env and bounded timeouts', () => {
    const check = provider.validateConfig({ command: ['/opt/deploy/run', '--fast'], env: { HOME: '/home/deploy' }, timeoutMs: 60_000 });
    expect(check.ok).toBe(true);
    if (check.ok) expect(provider.permits!(check.config, host)).toEqual([]);
  });

  it.each([
    [{ command: [] }, 'command'],
    [{ command: ['deploy.sh'] }, 'command.0'],
    [{ command: ['/opt/deploy/../../bin/sh'] }, 'command.0'],
    [{ command: ['/opt/deploy/run'], env: { GLIDEPATH_DIGEST: 'x' } }, 'env'],
    [{ command: ['/opt/deploy/run'], env: { 'A B': 'x' } }, 'env'],
    [{ command: ['/opt/deploy/run'], timeoutMs: 0 }, 'timeoutMs'],
    [{ command: ['/opt/deploy/run'], timeoutMs: 3_600_001 }, 'timeoutMs'],
    [{ command: ['/opt/deploy/run'], killGraceMs: 120_000 }, 'killGraceMs'],
    [{ command: ['/opt/deploy/run'], cwd: 'relative' }, 'cwd'],
    [{ command: ['/opt/deploy/run', 'a\u0000b'] }, 'command.1'],
    [{ command: '/opt/deploy/run --fast' }, 'command'],
    [{ command: ['/opt/deploy/run'], shell: true }, '(config)'],
  ])('refuses case %# at %s', (config, path) => {
    const check = provider.validateConfig(config);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problems.map((p) => p.path)).toContain(path);
  });

  it('is refused on a host that allows no executable directory, or outside the allowed ones', () => {
    const check = provider.validateConfig({ command: ['/usr/bin/env', 'sh'] });
    if (!check.ok) throw new Error('valid config refused');
    expect(provider.permits!(check.config, { egress })).toEqual([{ path: 'command.0', message: expect.stringMatching(/not enabled on this host/) }]);
    expect(provider.permits!(check.config, host)).toEqual([{ path: 'command.0', message: expect.stringMatching(/inside an allowed executable directory/) }]);
  });
});

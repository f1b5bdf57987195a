import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTcpProxy } from '@glidepath/db/testing';
import { startGlidepath, type Glidepath } from '@glidepath/demo/glidepath-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';

// The real `glidepath` command as a process, against the real API and worker as processes
// (reached through a proxy the tests can take down, as an API restart would look).
const MAIN = fileURLToPath(new URL('main.ts', import.meta.url));
let glidepathProcesses: Glidepath;
let deployerToken: string;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function glidepath(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, GLIDEPATH_URL: url, GLIDEPATH_TOKEN: deployerToken, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The API straight (not through the proxy), as an admin. */
async function api(method: 'GET' | 'POST', path: string, payload?: unknown) {
  const res = await fetch(`${glidepathProcesses.api}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${glidepathProcesses.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function until(id: string, phase: string) {
  for (let i = 0; i < 400; i++) {
    if ((await api('GET', `/releases/${id}`)).phase === phase) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`release ${id} never reached ${phase}`);
}

/** The id of the active release of an environment, once the CLI started one. */
async function activeIn(environment: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const { items } = (await api('GET', `/releases?service=shop&environment=${environment}&limit=1`)) as { items: Array<{ id: string; phase: string }> };
    if (items[0] && !['succeeded', 'rolled-back', 'aborted'].includes(items[0].phase)) return items[0].id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no active release in ${environment}`);
}

beforeAll(async () => {
  glidepathProcesses = await startGlidepath();
  proxy = await startTcpProxy(Number(new URL(glidepathProcesses.api).port));
  url = `http://127.0.0.1:${proxy.port}`;
  deployerToken = String((await api('POST', '/tokens', { name: 'cli-test', roles: [{ role: 'deployer' }] })).token);
  await api('POST', '/services', { name: 'shop' });
  for (const [position, name] of ['a', 'b', 'c', 'd', 'e'].entries())
    await api('POST', '/environments', { service: 'shop', name, position, requireUpstreamSuccess: false, target: { type: 'recording', config: {} } });
  await api('POST', '/plans', {
    name: 'quick',
    spec: {
      strategy: 'canary',
      steps: [
        { type: 'setWeight', weight: 50 },
        { type: 'setWeight', weight: 100 },
      ],
    },
  });
  await api('POST', '/plans', {
    name: 'held',
    spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 20 }, { type: 'pause' }, { type: 'setWeight', weight: 100 }] },
  });
}, 120_000);
afterAll(async () => {
  await glidepathProcesses?.stop();
});

describe('glidepath: configuration and refusals', () => {
  it('prints usage and exits 2 for no command, an unknown flag or missing configuration', async () => {
    expect((await glidepath([])).code).toBe(EXIT.usage);
    const typo = await glidepath(['release', 'create', '--servce', 'shop']);
    expect(typo.code).toBe(EXIT.usage);
    expect(typo.stderr).toContain("Unknown option '--servce'");
    const noUrl = await glidepath(['release', 'list'], { GLIDEPATH_URL: '' });
    expect(noUrl).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('GLIDEPATH_URL is not set') });
    const missing = await glidepath(['release', 'create', '--service', 'shop']);
    expect(missing).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('--environment is required') });
  });

  it('exits 6 when Glidepath cannot be reached, and 5 with the API’s words when it refuses', async () => {
    expect((await glidepath(['release', 'list'], { GLIDEPATH_URL: 'http://127.0.0.1:9' })).code).toBe(EXIT.unreachable);
    const refused = await glidepath(['release', 'create', '--service', 'shop', '--environment', 'a', '--version', '9.9.9', '--plan', 'quick']);
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.stderr).toMatch(/start release: .*9\.9\.9/);
    const badToken = await glidepath(['release', 'list'], { GLIDEPATH_TOKEN: 'not-a-token' });
    expect(badToken.code).toBe(EXIT.refused);
  });
});

describe('glidepath release create --wait', () => {
  it('registers an artifact, follows a release to success and exits 0, with progress lines and --json', async () => {
    const registered = await glidepath([
      'artifact',
      'register',
      '--service',
      'shop',
      '--version',
      '1.0.0',
      '--digest',
      `sha256:${'a'.repeat(64)}`,
      '--meta',
      'modelVersion=r1',
    ]);
    expect(registered).toMatchObject({ code: EXIT.ok, stdout: expect.stringContaining('artifact shop 1.0.0') });
    for (const v of ['1.1.0', '1.2.0', '1.3.0', '1.4.0'])
      await api('POST', '/artifacts', { service: 'shop', version: v, digest: `sha256:${v.replaceAll('.', '').padEnd(64, 'f')}` });

    const run = await glidepath(['release', 'create', '--service', 'shop', '--environment', 'a', '--version', '1.0.0', '--plan', 'quick', '--wait']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^succeeded: /);
    expect(run.stderr).toContain('succeeded · step');

    const json = await glidepath(['release', 'create', '--service', 'shop', '--environment', 'b', '--version', '1.0.0', '--plan', 'quick', '--wait', '--json']);
    expect(json.code).toBe(EXIT.ok);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'succeeded', exitCode: 0, release: { phase: 'succeeded', canaryWeight: 100 } });
  });

  it('exits 1 when the release is rolled back and 3 when it is aborted, by commands from the same CLI', async () => {
    const waiting = glidepath(['release', 'create', '--service', 'shop', '--environment', 'c', '--version', '1.1.0', '--plan', 'held', '--wait']);
    const id = await activeIn('c');
    await until(id, 'paused');
    expect((await glidepath(['release', 'rollback', id, '--reason', 'errors in canary'])).code).toBe(EXIT.ok);
    const rolledBack = await waiting;
    expect(rolledBack.code).toBe(EXIT.failed);
    expect(rolledBack.stdout).toMatch(/^rolled-back: /);

    const waitingToo = glidepath(['release', 'create', '--service', 'shop', '--environment', 'c', '--version', '1.2.0', '--plan', 'held', '--wait']);
    const second = await activeIn('c');
    await until(second, 'paused');
    expect((await glidepath(['release', 'abort', second])).code).toBe(EXIT.ok);
    expect((await waitingToo).code).toBe(EXIT.aborted);
  });

  it('rolls back a succeeded release by starting a release of the version before it, and says which', async () => {
    await api('POST', '/artifacts', { service: 'shop', version: '1.5.0', digest: `sha256:${'5'.repeat(64)}` });
    const run = await glidepath(['release', 'create', '--service', 'shop', '--environment', 'a', '--version', '1.5.0', '--plan', 'quick', '--wait', '--json']);
    expect(run.code).toBe(EXIT.ok);
    const id = (JSON.parse(run.stdout) as { release: { id: string } }).release.id;
    const text = await glidepath(['release', 'rollback', id, '--reason', 'bad numbers', '--json']);
    expect(text.code, text.stderr).toBe(EXIT.ok);
    const reply = JSON.parse(text.stdout) as { rollbackRelease: { id: string; undoes: string; artifact: { version: string } } };
    expect(reply.rollbackRelease).toMatchObject({ undoes: id, artifact: { version: '1.0.0' } });
    await until(reply.rollbackRelease.id, 'succeeded');
    // Either side of the pair names the other.
    expect((await glidepath(['release', 'get', id])).stdout).toContain(`undone by ${reply.rollbackRelease.id}`);
    expect((await glidepath(['release', 'get', reply.rollbackRelease.id])).stdout).toContain(`undoes ${id}`);
  });

  it('exits 4 when waiting times out, and the release goes on', async () => {
    const run = await glidepath([
      'release',
      'create',
      '--service',
      'shop',
      '--environment',
      'd',
      '--version',
      '1.3.0',
      '--plan',
      'held',
      '--wait',
      '--timeout',
      '2s',
    ]);
    expect(run.code).toBe(EXIT.timedOut);
    expect(run.stderr).toMatch(/gave up waiting after 2s; release .* is paused/);
  });

  it('keeps waiting through an API outage and still reads the final state', async () => {
    const waiting = glidepath(['release', 'create', '--service', 'shop', '--environment', 'e', '--version', '1.4.0', '--plan', 'held', '--wait']);
    const id = await activeIn('e');
    await until(id, 'paused');
    await proxy.down();
    // While the CLI cannot reach the API, the release ends.
    await api('POST', `/releases/${id}/promote`, {});
    await until(id, 'succeeded');
    await new Promise((r) => setTimeout(r, 1000));
    await proxy.up();
    const run = await waiting;
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toContain('cannot reach Glidepath');
    expect(run.stderr).toContain('connected again');
    expect(run.stdout).toMatch(/^succeeded: /);
  });
});

describe('glidepath plan apply', () => {
  it('validates, shows the difference from the stored version and saves a new one', async () => {
    const glidepathAsAdmin = (args: string[]) => glidepath(args, { GLIDEPATH_TOKEN: glidepathProcesses.token });
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, 'name: blue\nspec:\n  strategy: canary\n  steps:\n    - type: setWeight\n      weight: 10\n    - type: setWeight\n      weight: 100\n');
    expect((await glidepathAsAdmin(['plan', 'apply', file])).stdout).toContain('saved plan blue v1');
    expect((await glidepathAsAdmin(['plan', 'apply', file])).stdout).toContain('plan blue v1: no change');

    writeFileSync(file, 'name: blue\nspec:\n  strategy: canary\n  steps:\n    - type: setWeight\n      weight: 25\n    - type: setWeight\n      weight: 100\n');
    const dry = await glidepathAsAdmin(['plan', 'apply', file, '--dry-run']);
    expect(dry.stdout).toContain('-    weight: 10');
    expect(dry.stdout).toContain('+    weight: 25');
    expect((await api('GET', '/plans/blue')).version).toBe(1);
    expect((await glidepathAsAdmin(['plan', 'apply', file])).stdout).toContain('saved plan blue v2');

    // A plan that states its traffic hears when an analysis cannot reach a verdict at it; it is saved all the same.
    writeFileSync(
      file,
      'name: blue\nspec:\n  strategy: canary\n  traffic:\n    requestsPerSecond: 1\n  steps:\n    - type: setWeight\n      weight: 25\n    - type: analysis\n    - type: setWeight\n      weight: 100\n',
    );
    const warned = await glidepathAsAdmin(['plan', 'apply', file]);
    expect(warned.stdout).toContain('saved plan blue v3');
    expect(warned.stdout).toMatch(/\nwarning: steps\[1\]\.maxDuration: 10 min is too short for a verdict/);

    writeFileSync(file, 'name: blue\nspec:\n  strategy: canary\n  steps:\n    - type: setWeight\n      weight: 250\n');
    const invalid = await glidepathAsAdmin(['plan', 'apply', file]);
    expect(invalid.code).toBe(EXIT.refused);
    expect(invalid.stderr).toMatch(/steps\[0\]\.weight/);
  });
});

describe('glidepath drill', () => {
  it('runs a rollback drill and exits 0 once it rolled back, lists it, and exits 5 with the reason when none can run', async () => {
    await api('POST', '/environments', {
      service: 'shop',
      name: 'drilled',
      position: 20,
      requireUpstreamSuccess: false,
      target: { type: 'recording', config: {} },
      deployer: { type: 'none', config: {} },
      keepPreviousFor: '1ms',
      drills: { every: '2160h', objective: '30s', hold: '200ms' },
    });
    const none = await glidepath(['drill', 'run', '--service', 'shop', '--environment', 'drilled']);
    expect(none.code).toBe(EXIT.refused);
    expect(none.stderr).toMatch(/nothing has succeeded in drilled yet/);
    await api('POST', '/artifacts', { service: 'shop', version: '7.0.0', digest: `sha256:${'7'.repeat(64)}` });
    const live = await glidepath(['release', 'create', '--service', 'shop', '--environment', 'drilled', '--version', '7.0.0', '--plan', 'quick', '--wait']);
    expect(live.code, live.stderr).toBe(EXIT.ok);

    const run = await glidepath(['drill', 'run', '--service', 'shop', '--environment', 'drilled', '--reason', 'monthly', '--wait']);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toMatch(/version 7\.0\.0 to slot blue, 5% of traffic, then back/);
    expect(run.stdout).toMatch(/^succeeded: rolled back in \d+ ms/);
    const list = await glidepath(['drill', 'list', '--service', 'shop', '--environment', 'drilled', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ items: [{ status: 'succeeded', trigger: 'manual', slot: 'blue', weight: 5 }] });
    expect((await glidepath(['drill', 'list', '--service', 'shop', '--environment', 'nowhere'])).code).toBe(EXIT.refused);
  });
});

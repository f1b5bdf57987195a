// What waiting costs a pipeline: from the moment a release ends (its finished_at, set by the
// worker) to the moment `glidepath release create --wait` has exited with the verdict. Baseline:
// the same command's start-up and exit alone (`glidepath --help`), measured in the same run.
//   node_modules/.bin/tsx bench/cli/cli-wait.bench.ts [--runs 10]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startGlidepath } from '@glidepath/demo/glidepath-process';
import { createApiClient, demoDigest, expectReply } from '@glidepath/demo/run-demo';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const CLI = fileURLToPath(new URL('../../apps/cli/src/main.ts', import.meta.url));

function glidepath(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; exitedAt: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('exit', (code) => resolve({ code, stdout, exitedAt: Date.now() }));
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { p50: q(0.5), p95: q(0.95), max: s.at(-1)! };
};

const glidepathProcesses = await startGlidepath();
try {
  const { api } = createApiClient(glidepathProcesses.api, glidepathProcesses.token);
  await expectReply(api.POST('/api/v1/services', { body: { name: 'bench' } }), 'service');
  await expectReply(
    api.POST('/api/v1/environments', { body: { service: 'bench', name: 'dev', position: 0, target: { type: 'recording', config: {} } } }),
    'environment',
  );
  await expectReply(
    api.POST('/api/v1/plans', {
      body: {
        name: 'quick',
        spec: {
          strategy: 'canary',
          steps: [
            { type: 'setWeight', weight: 50 },
            { type: 'pause', duration: '1s' },
            { type: 'setWeight', weight: 100 },
          ],
        },
      },
    }),
    'plan',
  );
  const env = { GLIDEPATH_URL: glidepathProcesses.api, GLIDEPATH_TOKEN: glidepathProcesses.token };

  const startup: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    await glidepath(['--help'], env);
    startup.push(Date.now() - started);
  }
  const overhead: number[] = [];
  for (let i = 0; i < runs; i++) {
    const version = `1.0.${i}`;
    await expectReply(api.POST('/api/v1/artifacts', { body: { service: 'bench', version, digest: demoDigest(version) } }), 'artifact');
    const run = await glidepath(
      ['release', 'create', '--service', 'bench', '--environment', 'dev', '--version', version, '--plan', 'quick', '--wait', '--json'],
      env,
    );
    if (run.code !== 0) throw new Error(`run ${i} exited ${run.code}: ${run.stdout}`);
    const { release } = JSON.parse(run.stdout) as { release: { finishedAt: string } };
    overhead.push(run.exitedAt - Date.parse(release.finishedAt));
  }
  const a = stats(startup);
  const b = stats(overhead);
  console.log(`\nglidepath release create --wait: release finished → CLI exited (${runs} runs, polling every 250 ms)`);
  console.log(`  wait overhead:          p50 ${b.p50} ms  p95 ${b.p95} ms  max ${b.max} ms`);
  console.log(`  baseline (--help run):  p50 ${a.p50} ms  p95 ${a.p95} ms  max ${a.max} ms`);
} finally {
  await glidepathProcesses.stop();
}

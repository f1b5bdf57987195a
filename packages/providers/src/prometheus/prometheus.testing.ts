import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../haproxy/haproxy.testing.ts';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** Test helper: a real Prometheus scraping the given targets every second, with its data in a temporary directory. */
export interface PrometheusFixture {
  url: string;
  /** An instant query straight to Prometheus (not through the provider): its data, or throws with Prometheus' error. */
  query(query: string, at?: Date): Promise<{ resultType: string; result: unknown }>;
  /** Waits until every scrape job has been scraped successfully at least `times` times. */
  scraped(times?: number): Promise<void>;
  dispose(): Promise<void>;
}

export interface ScrapeJob {
  name: string;
  /** host:port */
  targets: string[];
  labels?: Record<string, string>;
}

export function requirePrometheus(): void {
  if (!existsSync(PROMETHEUS_BINARY)) {
    throw new Error(
      `Prometheus is not installed (${PROMETHEUS_BINARY} is missing). These tests run a real Prometheus: ` +
        'apt-get update && apt-get install -y --no-install-recommends prometheus',
    );
  }
}

export async function startPrometheus(jobs: ScrapeJob[]): Promise<PrometheusFixture> {
  requirePrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'gp-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configPath = join(dir, 'prometheus.yml');
  // JSON is YAML.
  await writeFile(
    configPath,
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: jobs.map((j) => ({ job_name: j.name, static_configs: [{ targets: j.targets, labels: j.labels ?? {} }] })),
    }),
  );
  let output = '';
  // Our own child, killed by its pid: never a process found by name.
  const child: ChildProcess = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const query: PrometheusFixture['query'] = async (q, at) => {
    const params = new URLSearchParams({ query: q, ...(at ? { time: (at.getTime() / 1000).toFixed(3) } : {}) });
    const response = await fetch(`${url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${q}: ${body.error}`);
    return body.data;
  };

  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output}`);
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 60 s: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await dispose();
    throw error;
  }

  return {
    url,
    query,
    async scraped(times = 1) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const data = await query(`count_over_time(up[1h]) >= ${times} and up == 1`);
        if (Array.isArray(data.result) && data.result.length >= jobs.reduce((n, j) => n + j.targets.length, 0)) return;
        if (Date.now() > deadline) throw new Error(`Prometheus did not scrape every target ${times} times within 30 s: ${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    dispose,
  };
}

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

/**
 * What the mirroring proxy adds to users' requests. The live and shadow versions run in one child
 * process, the proxy in another (mirror-stack.ts); from here, each target is loaded in turn:
 *   direct   the live version itself
 *   proxy    through the proxy with no session open (what every request pays while no shadow runs)
 *   mirror   through the proxy with a session copying every GET to the shadow, and half of them to
 *            the live version again (the judge's baseline): the proxy does three requests' work per user request
 * Latency: one connection, sequential GETs, per-request hrtime, p50/p99, rounds alternating.
 * Throughput: autocannon, 10 connections, 2 s rounds alternating. Ratios against direct in the same run.
 *   node_modules/.bin/tsx bench/mirror/mirror-proxy.bench.ts [--rounds 5] [--requests 1000]
 */
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 5);
const REQUESTS = arg('requests', 1000);

const stackScript = new URL('./mirror-stack.ts', import.meta.url).pathname;
const children: ReturnType<typeof spawn>[] = [];
async function startChild(args: string[]): Promise<Record<string, string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', stackScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)));
}
const apps = await startChild(['apps']);
const front = await startChild(['proxy', apps.live!, apps.shadow!]);
const stack = { live: apps.live!, proxy: front.proxy!, control: front.control! };

const session = 'bench';
const setMirror = async (on: boolean) => {
  if (!on) return void (await fetch(`${stack.control}/sessions/${session}-${round}`, { method: 'DELETE' }));
  const r = await fetch(`${stack.control}/sessions/${session}-${round}`, {
    method: 'PUT',
    body: JSON.stringify({
      slot: 'green',
      ignoreFields: ['timestamp', 'requestId'],
      baselineShare: 0.5,
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    }),
  });
  if (!r.ok) throw new Error(await r.text());
};
let round = 0;

type Target = 'direct' | 'proxy' | 'mirror';
const base = (t: Target) => (t === 'direct' ? stack.live : stack.proxy);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function latencies(t: Target): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const began = process.hrtime.bigint();
    const r = await fetch(`${base(t)}/items/${i % 500}`);
    await r.arrayBuffer();
    out.push(Number(process.hrtime.bigint() - began) / 1e6);
  }
  return out;
}
async function throughput(t: Target): Promise<number> {
  const result = await autocannon({ url: `${base(t)}/items/7`, connections: 10, duration: 2, renderProgressBar: false });
  return result.requests.average;
}

const targets: Target[] = ['direct', 'proxy', 'mirror'];
const lat: Record<Target, number[]> = { direct: [], proxy: [], mirror: [] };
const rps: Record<Target, number[]> = { direct: [], proxy: [], mirror: [] };
await latencies('direct'); // warm-up: connections, JIT
for (round = 0; round < ROUNDS; round++) {
  for (const t of targets) {
    await setMirror(t === 'mirror');
    lat[t].push(...(await latencies(t)));
    rps[t].push(await throughput(t));
    if (t === 'mirror') {
      const view = (await (await fetch(`${stack.control}/sessions/${session}-${round}`)).json()) as {
        tally: { shadow: { compared: number; differing: number }; skipped: { overloaded: number } };
      };
      console.log(
        `round ${round + 1}: mirror compared ${view.tally.shadow.compared}, differing ${view.tally.shadow.differing}, not copied (overloaded) ${view.tally.skipped.overloaded}`,
      );
      await setMirror(false);
    }
  }
}
for (const child of children) child.kill();

const median = (xs: number[]) => quantile(xs, 0.5);
console.log(`\n${ROUNDS} rounds × ${REQUESTS} sequential GETs per target (latency), 10 connections × 2 s (throughput)\n`);
console.log('target   p50 ms   p99 ms   p50 ×direct   p99 ×direct   req/s (median round)   ×direct');
for (const t of targets) {
  const p50 = quantile(lat[t], 0.5);
  const p99 = quantile(lat[t], 0.99);
  console.log(
    `${t.padEnd(8)} ${p50.toFixed(3).padStart(6)}   ${p99.toFixed(3).padStart(6)}   ${(p50 / quantile(lat.direct, 0.5)).toFixed(2).padStart(11)}   ${(p99 / quantile(lat.direct, 0.99)).toFixed(2).padStart(11)}   ${median(rps[t]).toFixed(0).padStart(20)}   ${(median(rps[t]) / median(rps.direct)).toFixed(2).padStart(7)}`,
  );
}

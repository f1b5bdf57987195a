// Self-check of the real stack: starts it with two environments and traffic, shifts 25 % of
// dev to its canary by hand through HAProxy's runtime API, and prints the split observed by
// the sample apps' own counters and by Prometheus. Exits 1 if the split is off.
//
//   tsx demo/stack.check.ts [--rate 100] [--window 30] [--mode inline|process]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { onShutdownSignal, startStack, type SlotCounts, type Stack } from './stack.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    window: { type: 'string', default: '30' },
    mode: { type: 'string', default: 'inline' },
  },
});
const rate = Number(values.rate);
const windowSeconds = Number(values.window);
const mode = values.mode === 'process' ? 'process' : 'inline';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (part: number, total: number) => (total > 0 ? `${((part / total) * 100).toFixed(1)} %` : 'n/a');
const failures: string[] = [];
const expect = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

let stack: Stack | null = null;
onShutdownSignal(async () => {
  await stack?.stop();
});

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
stack = await startStack({
  environments: ['dev', 'staging'],
  trafficRate: rate,
  sampleAppMode: mode,
  log: (m) => console.log(`[stack ${since()}] ${m}`),
});
try {
  const s = stack;
  console.log(`haproxyTarget(dev)     = ${JSON.stringify(s.haproxyTarget('dev'))}`);
  console.log(`prometheusMetrics()    = ${JSON.stringify(s.prometheusMetrics())}`);
  console.log(`frontendUrl(dev)       = ${s.frontendUrl('dev')}`);

  const weightsBefore = await s.getWeights('dev');
  console.log(`get weight dev/*: stable ${weightsBefore.stable}, canary ${weightsBefore.canary}`);
  expect(weightsBefore.stable === 100 && weightsBefore.canary === 0, 'initial weights stable 100 / canary 0');

  // A new build on dev's canary servers, as the deploy system would put it there.
  const canaryPort = s.slot('dev', 'canary').port;
  const redeployed = await s.redeploy('dev', 'canary', '1.1.0');
  expect(redeployed.port === canaryPort, `redeploy keeps the port (${canaryPort})`);
  const health = await fetch(`${redeployed.url}/healthz`).then((r) => r.text());
  expect(health.trim() === 'ok 1.1.0', `canary /healthz says "${health.trim()}"`);

  await sleep(2000);
  const replies = [await s.haproxyCommand('set weight dev/canary 25'), await s.haproxyCommand('set weight dev/stable 75')];
  console.log(`runtime API replies: ${JSON.stringify(replies)}`);
  expect(
    replies.every((r) => r.trim() === ''),
    'set weight answered with an empty reply',
  );
  const weightsAfter = await s.getWeights('dev');
  expect(weightsAfter.stable === 75 && weightsAfter.canary === 25, `get weight reads stable ${weightsAfter.stable} / canary ${weightsAfter.canary}`);

  const before = await s.appCounts('dev');
  const trafficBefore = s.traffic!.countsOf('dev');
  console.log(`sending ${rate} requests/s per environment for ${windowSeconds + 2} s…`);
  await sleep((windowSeconds + 2) * 1000);
  const after = await s.appCounts('dev');
  const trafficAfter = s.traffic!.countsOf('dev');

  const delta = (slot: string) => {
    const a = after.find((c) => c.slot === slot) as SlotCounts;
    const b = before.find((c) => c.slot === slot) as SlotCounts;
    return { version: a.version, requests: a.requests - b.requests, errors: a.errors - b.errors };
  };
  const stable = delta('stable');
  const canary = delta('canary');
  const total = stable.requests + canary.requests;
  console.log("\nsplit of dev from the sample apps' counters (http_requests_total, delta over the window):");
  console.log(
    `  stable ${stable.version}: ${stable.requests} requests (${pct(stable.requests, total)}), ${stable.errors} errors (${pct(stable.errors, stable.requests)})`,
  );
  console.log(
    `  canary ${canary.version}: ${canary.requests} requests (${pct(canary.requests, total)}), ${canary.errors} errors (${pct(canary.errors, canary.requests)})`,
  );
  const sent = trafficAfter.sent - trafficBefore.sent;
  console.log(
    `  traffic generator: ${sent} sent, ${trafficAfter.ok - trafficBefore.ok} 2xx, ${trafficAfter.serverErrors - trafficBefore.serverErrors} 5xx, ` +
      `${trafficAfter.networkErrors - trafficBefore.networkErrors} network errors, ${trafficAfter.skipped - trafficBefore.skipped} skipped` +
      (trafficAfter.networkErrors ? ` (all network errors so far: ${JSON.stringify(trafficAfter.networkErrorCodes)})` : ''),
  );
  const canaryShare = total > 0 ? (canary.requests / total) * 100 : 0;
  expect(Math.abs(canaryShare - 25) <= 2, `canary share ${canaryShare.toFixed(1)} % is 25 % ± 2`);
  expect(total >= rate * windowSeconds * 0.8, `dev answered ${total} requests (≥ 80 % of ${rate}/s × ${windowSeconds + 2} s)`);

  const query = `sum by (version) (increase(http_requests_total[${windowSeconds}s]))`;
  const devQuery = `sum by (version) (increase(http_requests_total{environment="dev"}[${windowSeconds}s]))`;
  for (const q of [query, devQuery]) {
    const result = await s.promQuery(q);
    const sum = result.reduce((acc, r) => acc + Number(r.value[1]), 0);
    console.log(`\nPrometheus: ${q}`);
    for (const r of result.sort((a, b) => (a.metric.version ?? '').localeCompare(b.metric.version ?? ''))) {
      console.log(`  version ${r.metric.version}: ${Number(r.value[1]).toFixed(0)} (${pct(Number(r.value[1]), sum)})`);
    }
    if (q === devQuery) {
      const promCanary = Number(result.find((r) => r.metric.version === '1.1.0')?.value[1] ?? 0);
      const share = sum > 0 ? (promCanary / sum) * 100 : 0;
      expect(Math.abs(share - 25) <= 3, `Prometheus sees dev's canary (1.1.0) at ${share.toFixed(1)} % ± 3 of 25`);
    }
  }
  const up = await s.promQuery('up{job="sample-apps"}');
  expect(up.length === 4 && up.every((r) => r.value[1] === '1'), `Prometheus scrapes ${up.length} sample apps, all up`);
} catch (error) {
  failures.push((error as Error).stack ?? String(error));
  console.error(error);
} finally {
  const dir = stack.dir;
  await stack.stop();
  expect(!existsSync(dir), `temp dir ${dir} removed`);
  console.log(`\n${failures.length ? `FAILED: ${failures.length} check(s)` : 'all checks passed'} in ${since()}`);
  process.exit(failures.length ? 1 : 0);
}

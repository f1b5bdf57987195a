// Rollback latency on the real stack: from a rollback command, and from a failing gate
// verdict, to HAProxy sending no new request to the canary — measured by real requests; and
// the switch back after success: a release deployed by the command deployer to the idle slot
// and promoted, then rolled back while the previous version is still on the other slot.
//   node_modules/.bin/tsx bench/rollback/rollback-latency.bench.ts [--runs 20]
//
// A prober keeps 4 requests in flight through HAProxy's frontend and records when each was
// sent and which version answered. Latency = the send time of the last request the canary
// answered, minus the moment of the trigger; it is confirmed by 300 stable-only answers after.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { startGlidepath } from '@glidepath/demo/glidepath-process';
import { createApiClient, demoDigest, expectReply } from '@glidepath/demo/run-demo';
import { startStack } from '@glidepath/demo/stack';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const watchdog = setTimeout(() => {
  console.error('rollback bench: watchdog after 8 minutes');
  process.exit(1);
}, 8 * 60_000);

const FAST = { errorRate: 0, latencyMs: 1 };
const stack = await startStack({
  environments: ['dev', 'slots'],
  service: 'bench',
  slots: {
    dev: { stable: { version: '1.0.0', behaviour: FAST }, canary: { version: '2.0.0', behaviour: FAST } },
    slots: { stable: { version: '1.0.0', behaviour: FAST }, canary: { version: '1.0.0', behaviour: FAST } },
  },
  builds: ['1.0.0', '2.0.0'].map((version) => ({ version, digest: demoDigest(version), behaviour: FAST })),
});
const glidepath = await startGlidepath();
const { api } = createApiClient(glidepath.api, glidepath.token);

// An external gate that answers only when told to: the moment it answers "fail" is the trigger.
let pendingGate: ServerResponse | null = null;
const gate = createServer((req, res) => {
  req.resume();
  req.on('end', () => (pendingGate = res));
});
await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/gate`;

type Answer = { sentAt: number; version: string };
const answers: Answer[] = [];
let probing = true;
let frontend = stack.frontendUrl('dev');
const probers = Array.from({ length: 4 }, async () => {
  while (probing) {
    const sentAt = performance.now();
    try {
      const body = (await (await fetch(frontend)).json()) as { version: string };
      answers.push({ sentAt, version: body.version });
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
});

async function release(plan: string, environment = 'dev', version = '2.0.0'): Promise<string> {
  return (await expectReply(api.POST('/api/v1/releases', { body: { service: 'bench', environment, version, plan } }), 'release')).data.id;
}
async function getRelease(id: string) {
  return (await expectReply(api.GET('/api/v1/releases/{id}', { params: { path: { id } } }), 'release')).data;
}
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${glidepath.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
/** Waits until the release serves (`ready`: at 50% by default), fires the trigger, returns ms until no new request reached 2.0.0. */
async function measure(id: string, trigger: () => Promise<void> | void, ready = async () => (await getRelease(id)).canaryWeight === 50): Promise<number> {
  await until(ready, 'the new version serving');
  const since = performance.now();
  await until(() => answers.some((a) => a.sentAt > since && a.version === '2.0.0'), 'canary traffic');
  const t0 = performance.now();
  await trigger();
  await until(
    () => answers.filter((a) => a.sentAt > t0).slice(-300).length === 300 && answers.slice(-300).every((a) => a.version === '1.0.0'),
    '300 stable-only answers',
  );
  const lastCanary = answers.filter((a) => a.sentAt >= t0 && a.version === '2.0.0').at(-1);
  answers.length = 0;
  return lastCanary ? lastCanary.sentAt - t0 : 0;
}

try {
  await expectReply(api.POST('/api/v1/services', { body: { name: 'bench' } }), 'service');
  await expectReply(
    api.POST('/api/v1/environments', {
      body: { service: 'bench', name: 'dev', position: 0, target: stack.haproxyTarget('dev') as { type: string; config: Record<string, unknown> } },
    }),
    'environment',
  );
  await expectReply(api.POST('/api/v1/artifacts', { body: { service: 'bench', version: '2.0.0', digest: demoDigest('2.0.0') } }), 'artifact');
  const hold = [
    { type: 'setWeight' as const, weight: 50 },
    { type: 'pause' as const, duration: '1h' },
    { type: 'setWeight' as const, weight: 100 },
  ];
  await expectReply(api.POST('/api/v1/plans', { body: { name: 'hold', spec: { strategy: 'canary', steps: hold } } }), 'plan');
  const gated = [
    { type: 'setWeight' as const, weight: 50 },
    { type: 'webhook' as const, url: gateUrl, timeout: '60s', retries: 0 },
    { type: 'setWeight' as const, weight: 100 },
  ];
  await expectReply(api.POST('/api/v1/plans', { body: { name: 'gated', spec: { strategy: 'canary', steps: gated } } }), 'plan');

  // Slots: the command deployer puts 2.0.0 on the idle slot, all traffic moves there; rollback switches back.
  await expectReply(
    api.POST('/api/v1/environments', {
      body: {
        service: 'bench',
        name: 'slots',
        position: 1,
        requireUpstreamSuccess: false,
        target: stack.haproxyTarget('slots') as { type: string; config: Record<string, unknown> },
        deployer: stack.commandDeployer('slots') as unknown as { type: string; config: Record<string, unknown> },
        slots: [...stack.slotNames('slots')],
        keepPreviousFor: '1h',
      },
    }),
    'environment with slots',
  );
  await expectReply(api.POST('/api/v1/plans', { body: { name: 'all', spec: { strategy: 'canary', steps: [{ type: 'setWeight', weight: 100 }] } } }), 'plan');
  // 1.0.0 released there first, by Glidepath: what each switch back returns to.
  await expectReply(api.POST('/api/v1/artifacts', { body: { service: 'bench', version: '1.0.0', digest: demoDigest('1.0.0') } }), 'artifact');
  const first = await release('all', 'slots', '1.0.0');
  await until(async () => (await getRelease(first)).phase === 'succeeded', '1.0.0 released on the slots');

  const fromCommand: number[] = [];
  const fromVerdict: number[] = [];
  const switchBack: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = await release('hold');
    fromCommand.push(
      await measure(id, () =>
        expectReply(api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id }, query: { wait: 0 } }, body: { reason: 'bench' } }), 'rollback').then(
          () => {},
        ),
      ),
    );
    await until(async () => (await getRelease(id)).phase === 'rolled-back', 'rolled-back');

    const gatedId = await release('gated');
    await until(() => pendingGate !== null, 'the gate request');
    fromVerdict.push(
      await measure(gatedId, () => {
        pendingGate!.writeHead(200, { 'content-type': 'application/json' }).end('{"verdict":"fail","reason":"bench"}');
        pendingGate = null;
      }),
    );
    await until(async () => (await getRelease(gatedId)).phase === 'rolled-back', 'rolled-back');

    frontend = stack.frontendUrl('slots');
    const promoted = await release('all', 'slots');
    switchBack.push(
      await measure(
        promoted,
        () =>
          expectReply(
            api.POST('/api/v1/releases/{id}/rollback', { params: { path: { id: promoted }, query: { wait: 0 } }, body: { reason: 'bench' } }),
            'switch back',
          ).then(() => {}),
        async () => (await getRelease(promoted)).phase === 'succeeded' && answers.at(-1)?.version === '2.0.0',
      ),
    );
    frontend = stack.frontendUrl('dev');
  }

  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(34)} ${String(xs.length).padStart(4)} ${q(xs, 0.5).toFixed(1).padStart(8)} ${q(xs, 0.99).toFixed(1).padStart(8)} ${Math.max(...xs)
      .toFixed(1)
      .padStart(8)}`;
  console.log(`\nRollback latency to HAProxy serving 0% canary (real requests), ${new Date().toISOString()}, loopback, 2 cores`);
  console.log(`${'trigger'.padEnd(34)} runs   p50 ms   p99 ms   max ms`);
  console.log(row('rollback command (POST .../rollback)', fromCommand));
  console.log(row('failing gate verdict', fromVerdict));
  console.log(row('switch back after success (slots)', switchBack));
  console.log(`switch back ÷ rollback command, p50: ${(q(switchBack, 0.5) / q(fromCommand, 0.5)).toFixed(2)}×`);
  console.log(`target: p99 <= 300 ms — ${q(fromCommand, 0.99) <= 300 && q(fromVerdict, 0.99) <= 300 ? 'met' : 'MISSED'}`);
  console.log(`issue 14: the switch back after success under a second — ${Math.max(...switchBack) < 1000 ? 'met' : 'MISSED'}`);
} finally {
  probing = false;
  await Promise.all(probers);
  gate.close();
  await glidepath.stop();
  await stack.stop();
  clearTimeout(watchdog);
}

// README command 1: the live demo. Start Glidepath first (pnpm start), then:
//
//   tsx demo/main.ts [--api http://127.0.0.1:3000] [--token <admin token>]
//                    [--haproxy-port-base 28080] [--prometheus-port 29090] [--rate 150]
//                    [--sample-apps inline|process] [--exit-when-done]
//
// Starts the real stack (demo/stack.ts), waits for the API's /readyz, runs demo/run-demo.ts,
// then keeps the stack and its traffic running for the dashboard until Ctrl-C (or exits at
// once with --exit-when-done: exit code 0 when every release ended as expected).
// Defaults: --api from GLIDEPATH_PORT, --token from GLIDEPATH_BOOTSTRAP_TOKEN.
import { parseArgs } from 'node:util';
import { DEMO_ENVIRONMENTS, DEMO_SERVICE, DEMO_SLOTS, demoDigest, runDemo, STABLE_BEHAVIOUR, BASELINE_VERSION, type DemoResult } from './run-demo.ts';
import { onShutdownSignal, startStack, type Stack } from './stack.ts';

const usage = `usage: tsx demo/main.ts [--api URL] [--token TOKEN] [--haproxy-port-base N] [--prometheus-port N]
                       [--rate REQUESTS_PER_SECOND] [--sample-apps inline|process] [--readyz-timeout SECONDS] [--exit-when-done]`;

function fail(message: string): never {
  console.error(`demo: ${message}\n${usage}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        api: { type: 'string', default: `http://127.0.0.1:${process.env.GLIDEPATH_PORT || '3000'}` },
        token: { type: 'string', default: process.env.GLIDEPATH_BOOTSTRAP_TOKEN ?? '' },
        'haproxy-port-base': { type: 'string', default: '28080' },
        'prometheus-port': { type: 'string', default: '29090' },
        rate: { type: 'string', default: '150' },
        'sample-apps': { type: 'string', default: 'inline' },
        'readyz-timeout': { type: 'string', default: '60' },
        'exit-when-done': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = (name: string, raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`--${name} must be a port 0-65535 (0: any free port), got "${raw}"`);
  return n;
};
const haproxyPortBase = port('haproxy-port-base', values['haproxy-port-base']);
const prometheusPort = port('prometheus-port', values['prometheus-port']);
const rate = Number(values.rate);
if (!Number.isFinite(rate) || rate < 0) fail(`--rate must be a number >= 0, got "${values.rate}"`);
const sampleAppMode = values['sample-apps'];
if (sampleAppMode !== 'inline' && sampleAppMode !== 'process') fail(`--sample-apps must be inline or process, got "${sampleAppMode}"`);
const readyzTimeoutMs = Number(values['readyz-timeout']) * 1000;
if (!values.token) fail('no token: pass --token or set GLIDEPATH_BOOTSTRAP_TOKEN (the admin token Glidepath was started with)');
const api = values.api.replace(/\/+$/, '');

const controller = new AbortController();
let stack: Stack | null = null;
let demo: Promise<unknown> | null = null;

onShutdownSignal(async () => {
  controller.abort(new Error('stopped'));
  // Let the demo abort the releases it started while the stack is still there (briefly).
  if (demo) await Promise.race([demo.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  await stack?.stop();
});

async function waitForApi(): Promise<void> {
  const deadline = Date.now() + readyzTimeoutMs;
  let said = false;
  for (;;) {
    let last = '';
    try {
      const response = await fetch(`${api}/readyz`, { signal: AbortSignal.any([controller.signal, AbortSignal.timeout(3000)]) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      if (controller.signal.aborted) throw error;
      last = (error as Error).cause ? String(((error as Error).cause as Error).message ?? (error as Error).cause) : (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`Glidepath at ${api} is not ready after ${readyzTimeoutMs / 1000} s (${last}). Start it first: pnpm start`);
    if (!said) console.log(`waiting for Glidepath at ${api}/readyz (${last})…`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let result: DemoResult | null = null;
try {
  await waitForApi();
  console.log(`Glidepath is ready at ${api}; starting the demo stack`);
  stack = await startStack({
    environments: [...DEMO_ENVIRONMENTS],
    service: DEMO_SERVICE,
    initial: { version: BASELINE_VERSION, behaviour: STABLE_BEHAVIOUR, digest: demoDigest(BASELINE_VERSION) },
    slotNames: Object.fromEntries(DEMO_ENVIRONMENTS.map((env) => [env, DEMO_SLOTS])),
    haproxyPortBase,
    prometheusPort,
    trafficRate: rate,
    sampleAppMode,
    log: (message) => console.log(`[stack] ${message}`),
  });
  // With --exit-when-done nobody is at the dashboard: the demo's approver signs in and approves (CI proves the whole path).
  demo = runDemo({ api, token: values.token, stack, signal: controller.signal, approveAs: values['exit-when-done'] ? 'bob' : undefined });
  result = (await demo) as DemoResult;
} catch (error) {
  if (controller.signal.aborted) await new Promise(() => {}); // the signal handler is stopping everything and exits
  const message = (error as Error).message;
  console.error(`\ndemo failed: ${message}`);
  if (/address already in use/i.test(message)) console.error('(choose other ports with --haproxy-port-base and --prometheus-port; 0 picks free ones)');
  await stack?.stop();
  process.exit(1);
}

if (values['exit-when-done']) {
  await stack.stop();
  console.log(result.ok ? '\ndemo finished: every release ended as expected' : '\ndemo finished: some release did NOT end as expected');
  process.exit(result.ok ? 0 : 1);
}
console.log(`\nThe stack and its traffic keep running for the dashboard (${result.dashboardUrl}). Ctrl-C stops everything.`);

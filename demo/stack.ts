// The real stack behind the live demo, the integration tests and the benchmark, all on
// loopback: per environment two sample apps (slots "stable" and "canary"), one HAProxy with a
// frontend per environment and a runtime API socket, one Prometheus scraping every app each
// second, and a steady traffic generator. stop() ends every process and removes the temp dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectDirectly, runtimeApiCommand } from '@glidepath/providers';
import { checkBehaviour, startSampleApp, type Behaviour, type SampleApp } from './sample-app.ts';
import { startTraffic, type Traffic } from './traffic.ts';

export type { Behaviour } from './sample-app.ts';
export type Slot = 'stable' | 'canary';
export const SLOTS: readonly Slot[] = ['stable', 'canary'];

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const INSTALL_COMMAND = 'apt-get update && apt-get install -y --no-install-recommends haproxy prometheus';

export interface SlotSpec {
  version: string;
  behaviour: Behaviour;
}

export interface StackOptions {
  /** Environment names in promotion order, e.g. ['dev', 'staging', 'prod']. */
  environments: string[];
  /** The `service` label of the sample apps; default demo-shop. */
  service?: string;
  /** What both slots run at start unless `slots` says otherwise; default 1.0.0, 0.5 % errors, 20 ms. */
  initial?: SlotSpec;
  /** Per environment and slot overrides of `initial`. */
  slots?: Record<string, Partial<Record<Slot, SlotSpec>>>;
  /** Frontend of the i-th environment listens on base + i; 0 or absent: free ports. */
  haproxyPortBase?: number;
  /** 0 or absent: a free port. */
  prometheusPort?: number;
  /** Requests per second sent to each environment's frontend; 0 or absent: no traffic generator. */
  trafficRate?: number;
  /** inline (default): the sample apps are HTTP servers in this process; process: one child process each. */
  sampleAppMode?: 'inline' | 'process';
  /** Install HAProxy/Prometheus with apt-get when missing and running as root; default true. */
  install?: boolean;
  /** Progress messages; default: none. */
  log?: (message: string) => void;
}

export interface SlotState {
  slot: Slot;
  version: string;
  behaviour: Behaviour;
  port: number;
  url: string;
}

export interface SlotCounts {
  slot: Slot;
  version: string;
  requests: number;
  errors: number;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface HaproxyTargetSpec {
  type: 'haproxy';
  config: { runtimeApi: string; backend: string; stableServer: 'stable'; canaryServer: 'canary' };
}

export interface PrometheusMetricsSpec {
  type: 'prometheus';
  config: { url: string };
}

export interface Stack {
  readonly dir: string;
  readonly service: string;
  readonly environments: readonly string[];
  /** Path of HAProxy's runtime API socket (level admin). */
  readonly haproxySocket: string;
  readonly prometheusUrl: string;
  readonly prometheusPort: number;
  /** null when trafficRate was 0. */
  readonly traffic: Traffic | null;
  frontendUrl(env: string): string;
  frontendPort(env: string): number;
  haproxyTarget(env: string): HaproxyTargetSpec;
  prometheusMetrics(): PrometheusMetricsSpec;
  slot(env: string, slot: Slot): SlotState;
  /** Restarts that slot's sample app with another version (and behaviour) on the same port. */
  redeploy(env: string, slot: Slot, version: string, behaviour?: Behaviour): Promise<SlotState>;
  /** One runtime API command; returns HAProxy's reply as is (empty on success for `set` commands). */
  haproxyCommand(command: string): Promise<string>;
  /** Absolute weights through the runtime API (the larger one first: never both at 0). */
  setWeights(env: string, weights: { stable: number; canary: number }): Promise<void>;
  getWeights(env: string): Promise<{ stable: number; canary: number }>;
  /** Requests and 5xx answers counted by each sample app of the environment since it started. */
  appCounts(env: string): Promise<SlotCounts[]>;
  /** An instant PromQL query; the result vector. */
  promQuery(query: string): Promise<PromSample[]>;
  /** Traffic generator and every process stopped (SIGTERM, SIGKILL after 3 s), temp dir removed. */
  stop(): Promise<void>;
}

export const DEFAULT_BEHAVIOUR: Behaviour = { errorRate: 0.005, latencyMs: 20 };
const STOP_GRACE_MS = 3000;
const START_TIMEOUT_MS = 30_000;
/** A sample app process compiles its TypeScript first: slow on a busy machine. */
const APP_PROCESS_START_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Binaries

/**
 * HAProxy and Prometheus from Debian. Missing ones are installed with apt-get when running as
 * root (and `install` is not false); otherwise the error says what to install.
 */
export function ensureBinaries(options: { install?: boolean; log?: (message: string) => void } = {}): void {
  const missing = [HAPROXY_BINARY, PROMETHEUS_BINARY].filter((path) => !existsSync(path));
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || options.install === false) {
    throw new Error(
      `The demo stack runs a real HAProxy 2.6 and Prometheus 2.42 from Debian; missing: ${missing.join(', ')}. ` + `Install them (as root): ${INSTALL_COMMAND}`,
    );
  }
  const log = options.log ?? ((message: string) => console.error(message));
  log(`missing ${missing.join(', ')}; installing as root: ${INSTALL_COMMAND}`);
  // Wait for the dpkg lock rather than failing when another apt-get runs at the same time.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  for (const args of [
    ['update', ...lock],
    ['install', '-y', '--no-install-recommends', ...lock, 'haproxy', 'prometheus'],
  ]) {
    const result = spawnSync('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output}`);
    }
  }
  const still = [HAPROXY_BINARY, PROMETHEUS_BINARY].filter((path) => !existsSync(path));
  if (still.length) throw new Error(`apt-get ran but ${still.join(', ')} is still missing`);
  log('installed haproxy and prometheus');
}

// ---------------------------------------------------------------------------------------------
// Processes

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A child process we started: its recent output for error messages, and a clean stop. */
class Child {
  readonly process: ChildProcess;
  private output = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { cwd?: string; onStdout?: (chunk: string) => void } = {},
  ) {
    this.process = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.process.once('exit', () => resolve()));
    // A spawn failure (ENOENT) arrives as 'error' with no 'exit'.
    this.process.once('error', (error) => {
      this.keep(`spawn failed: ${error.message}\n`);
    });
    this.process.stdout!.on('data', (chunk: Buffer) => {
      this.keep(chunk.toString());
      options.onStdout?.(chunk.toString());
    });
    this.process.stderr!.on('data', (chunk: Buffer) => this.keep(chunk.toString()));
  }

  private keep(text: string) {
    this.output = (this.output + text).slice(-8000);
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && this.process.pid !== undefined;
  }

  describe(): string {
    const how =
      this.process.exitCode !== null ? `exited with ${this.process.exitCode}` : this.process.signalCode ? `killed by ${this.process.signalCode}` : 'running';
    return `${this.name} (pid ${this.process.pid ?? '-'}) ${how}; its output:\n${this.output.trim() || '(none)'}`;
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.process.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** For process 'exit' handlers: no waiting possible there. */
  killNow() {
    if (this.running) this.process.kill('SIGKILL');
  }
}

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, alive: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * A detached shell that waits for this process to end (its stdin, a pipe from us, closes
 * then, however we die) and then stops what is still running of the stack and removes its
 * temp dir. After a normal stop() it finds nothing left to do. A pid is signalled only if its
 * command line still names the stack's dir, so a reused pid is never hit.
 */
function startWatchdog(dir: string): void {
  const script = [
    "trap '' INT TERM HUP",
    'cat >/dev/null',
    'alive() { for p in $(cat "$1/pids" 2>/dev/null); do grep -qaF "$1" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done; }',
    'pids=$(alive "$1")',
    'if [ -n "$pids" ]; then',
    '  kill -TERM $pids 2>/dev/null',
    `  i=0; while [ $i -lt ${STOP_GRACE_MS / 100} ] && [ -n "$(alive "$1")" ]; do sleep 0.1; i=$((i+1)); done`,
    '  pids=$(alive "$1"); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null',
    'fi',
    'rm -rf -- "$1"',
  ].join('\n');
  const watchdog = spawn('/bin/sh', ['-c', script, 'gp-demo-watchdog', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => {});
  watchdog.stdin!.on('error', () => {});
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
}

// ---------------------------------------------------------------------------------------------
// HAProxy runtime API

/** One command on a fresh connection to the runtime API: the same client the HAProxy router uses. */
export function runtimeApi(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return runtimeApiCommand(`unix:${socketPath}`, command, timeoutMs, connectDirectly);
}

function haproxyConfig(socketPath: string, envs: Array<{ name: string; port: number; stablePort: number; canaryPort: number }>): string {
  const lines = [
    '# Written by demo/stack.ts; runtime weight changes go through the stats socket, not this file.',
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 10s',
    // A sample app process being restarted refuses connections for a moment: retry, on the other server if it has weight.
    '  retries 3',
    '  option redispatch 1',
  ];
  for (const env of envs) {
    lines.push(
      '',
      `frontend fe_${env.name}`,
      `  bind 127.0.0.1:${env.port}`,
      `  default_backend ${env.name}`,
      '',
      `backend ${env.name}`,
      '  balance roundrobin',
      `  server stable 127.0.0.1:${env.stablePort} weight 100`,
      `  server canary 127.0.0.1:${env.canaryPort} weight 0`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function parseGetWeight(reply: string): number | null {
  const match = /^(\d+) \(initial \d+\)/.exec(reply.trim());
  return match ? Number(match[1]) : null;
}

// ---------------------------------------------------------------------------------------------
// Sample apps: inline (an HTTP server in this process) or a child process each

interface AppInstance {
  port: number;
  url: string;
  /** Inline apps switch version in place (no refused connections); processes are restarted. */
  redeploy?(spec: SlotSpec): Promise<void>;
  close(): Promise<void>;
  /** null while healthy; a description when a child process died. */
  dead(): string | null;
  killNow(): void;
}

const SAMPLE_APP_PATH = fileURLToPath(new URL('./sample-app.ts', import.meta.url));

async function startInlineApp(service: string, environment: string, spec: SlotSpec, port: number): Promise<AppInstance> {
  // The port of a slot that was just closed can be briefly refused: retry a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      const app: SampleApp = await startSampleApp({ host: '127.0.0.1', port, service, environment, version: spec.version, ...spec.behaviour });
      return {
        port: app.port,
        url: app.url,
        redeploy: (next) => app.redeploy({ version: next.version, ...next.behaviour }),
        close: () => app.close(),
        dead: () => null,
        killNow: () => void app.close(),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw error;
      await sleep(100);
    }
  }
}

async function startProcessApp(
  service: string,
  environment: string,
  slot: Slot,
  spec: SlotSpec,
  port: number,
  stackDir: string,
  track: (child: Child) => void,
): Promise<AppInstance> {
  let ready: (port: number) => void = () => {};
  const announced = new Promise<number>((resolve) => (ready = resolve));
  let stdout = '';
  const child = new Child(
    `sample app ${environment}/${slot} ${spec.version}`,
    process.execPath,
    [
      // node --import tsx: one process per app (the tsx CLI would add a wrapper process).
      '--import',
      import.meta.resolve('tsx'),
      SAMPLE_APP_PATH,
      ...['--port', String(port), '--service', service, '--environment', environment, '--version', spec.version],
      ...['--error-rate', String(spec.behaviour.errorRate), '--latency-ms', String(spec.behaviour.latencyMs)],
      // Names the stack in the command line, which is how the watchdog recognises its processes.
      ...['--stack-dir', stackDir],
    ],
    {
      onStdout: (chunk) => {
        stdout += chunk;
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          try {
            ready((JSON.parse(line) as { port: number }).port);
          } catch {
            // not the whole line yet
          }
        }
      },
    },
  );
  track(child);
  let listening = 0;
  try {
    await waitUntil(
      `sample app ${environment}/${slot}`,
      APP_PROCESS_START_TIMEOUT_MS,
      async () => {
        listening = await Promise.race([announced, sleep(50).then(() => 0)]);
        return listening > 0;
      },
      () => (child.running ? null : child.describe()),
    );
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    port: listening,
    url: `http://127.0.0.1:${listening}`,
    close: () => child.stop(),
    dead: () => (child.running ? null : child.describe()),
    killNow: () => child.killNow(),
  };
}

// ---------------------------------------------------------------------------------------------
// The stack

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  const service = options.service ?? 'demo-shop';
  const envNames = [...options.environments];
  if (envNames.length === 0) throw new Error('startStack: at least one environment');
  for (const name of envNames)
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new Error(`environment name "${name}" must be lower-case letters, digits and dashes`);
  if (new Set(envNames).size !== envNames.length) throw new Error('startStack: environment names must be unique');
  const initial: SlotSpec = options.initial ?? { version: '1.0.0', behaviour: DEFAULT_BEHAVIOUR };
  const mode = options.sampleAppMode ?? 'inline';

  ensureBinaries({ install: options.install, log });

  const dir = await mkdtemp(join(tmpdir(), 'gp-demo-'));
  const haproxySocket = join(dir, 'haproxy.sock');
  if (Buffer.byteLength(haproxySocket) > 100) throw new Error(`socket path too long for a unix socket (${haproxySocket}); set TMPDIR to a shorter directory`);

  const apps = new Map<string, AppInstance>(); // `${env}/${slot}`
  const states = new Map<string, SlotState>();
  const frontendPorts = new Map<string, number>();
  let traffic: Traffic | null = null;
  let stopping: Promise<void> | null = null;
  const key = (env: string, slot: Slot) => `${env}/${slot}`;

  // Every child process of the stack; their pids are kept in <dir>/pids for the watchdog.
  const children = new Set<Child>();
  const track = (child: Child) => {
    children.add(child);
    writePids();
    void child.exited.then(() => {
      children.delete(child);
      writePids();
    });
  };
  const writePids = () => {
    try {
      writeFileSync(join(dir, 'pids'), [...children].map((c) => c.process.pid ?? '').join('\n'));
    } catch {
      // the dir is gone: stopping
    }
  };
  // Last resort if the process exits without stop() (an uncaught error, process.exit): no
  // orphans, no temp dir left. Synchronous: that is all an 'exit' handler can do.
  const onExit = () => {
    for (const app of apps.values()) app.killNow();
    for (const child of children) child.killNow();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  // And if this process is killed outright (SIGKILL: tsx's CLI does that to a child that does
  // not acknowledge a signal within 30 ms), the watchdog does the same from outside.
  startWatchdog(dir);

  const stop = () =>
    (stopping ??= (async () => {
      log('stopping the stack');
      await traffic?.stop().catch(() => {});
      await Promise.all([...apps.values()].map((a) => a.close().catch(() => {})));
      // HAProxy, Prometheus and sample app processes (also one being started by a redeploy).
      await Promise.all([...children].map((c) => c.stop()));
      await rm(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    })());

  const startApp = (env: string, slot: Slot, spec: SlotSpec, port: number) =>
    mode === 'process' ? startProcessApp(service, env, slot, spec, port, dir, track) : startInlineApp(service, env, spec, port);

  try {
    // Sample apps
    const specOf = (env: string, slot: Slot): SlotSpec => {
      const spec = options.slots?.[env]?.[slot] ?? initial;
      return { version: spec.version, behaviour: checkBehaviour(spec.behaviour) };
    };
    // allSettled: when one fails, the others are still registered (and so stopped) before cleanup.
    const starts = await Promise.allSettled(
      envNames.flatMap((env) =>
        SLOTS.map(async (slot) => {
          const spec = specOf(env, slot);
          const app = await startApp(env, slot, spec, 0);
          apps.set(key(env, slot), app);
          states.set(key(env, slot), { slot, version: spec.version, behaviour: spec.behaviour, port: app.port, url: app.url });
        }),
      ),
    );
    const failed = starts.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    log(
      `sample apps up (${mode}): ${envNames.map((e) => SLOTS.map((s) => `${e}/${s}=${states.get(key(e, s))!.version}@${states.get(key(e, s))!.port}`).join(' ')).join(' ')}`,
    );

    // HAProxy
    const base = options.haproxyPortBase ?? 0;
    for (const [i, env] of envNames.entries()) frontendPorts.set(env, base > 0 ? base + i : await freePort());
    const configPath = join(dir, 'haproxy.cfg');
    await writeFile(
      configPath,
      haproxyConfig(
        haproxySocket,
        envNames.map((name) => ({
          name,
          port: frontendPorts.get(name)!,
          stablePort: states.get(key(name, 'stable'))!.port,
          canaryPort: states.get(key(name, 'canary'))!.port,
        })),
      ),
    );
    const hap = new Child('haproxy', HAPROXY_BINARY, ['-db', '-f', configPath]);
    track(hap);
    await waitUntil(
      'haproxy',
      START_TIMEOUT_MS,
      async () =>
        (await runtimeApi(haproxySocket, 'show info', 500)).includes('Name: HAProxy') &&
        (await Promise.all([...frontendPorts.values()].map((p) => accepts(p)))).every(Boolean),
      () => (hap.running ? null : hap.describe()),
    );
    log(`haproxy up: ${envNames.map((e) => `${e}=http://127.0.0.1:${frontendPorts.get(e)}`).join(' ')}, runtime API unix:${haproxySocket}`);

    // Prometheus
    const prometheusPort = options.prometheusPort || (await freePort());
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    const promConfigPath = join(dir, 'prometheus.yml');
    // JSON is YAML: no YAML library needed.
    await writeFile(
      promConfigPath,
      JSON.stringify(
        {
          global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
          scrape_configs: [
            {
              job_name: 'sample-apps',
              static_configs: envNames.flatMap((env) =>
                SLOTS.map((slot) => ({ targets: [`127.0.0.1:${states.get(key(env, slot))!.port}`], labels: { slot, stack_environment: env } })),
              ),
            },
          ],
        },
        null,
        2,
      ),
    );
    const prom = new Child('prometheus', PROMETHEUS_BINARY, [
      `--config.file=${promConfigPath}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ]);
    track(prom);
    await waitUntil(
      'prometheus',
      START_TIMEOUT_MS,
      async () => (await fetch(`${prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(1000) })).status === 200,
      () => (prom.running ? null : prom.describe()),
    );
    log(`prometheus up: ${prometheusUrl} (scraping ${apps.size} sample apps every 1 s)`);

    // Traffic
    const frontendUrl = (env: string) => {
      const port = frontendPorts.get(env);
      if (port === undefined) throw new Error(`no environment "${env}" in this stack (${envNames.join(', ')})`);
      return `http://127.0.0.1:${port}`;
    };
    if (options.trafficRate && options.trafficRate > 0) {
      traffic = startTraffic({ targets: envNames.map((name) => ({ name, url: `${frontendUrl(name)}/` })), ratePerSecond: options.trafficRate });
      log(`traffic: ${options.trafficRate} requests/s to each environment`);
    }

    const slotState = (env: string, slot: Slot) => {
      const state = states.get(key(env, slot));
      if (!state) throw new Error(`no slot ${env}/${slot} in this stack`);
      return state;
    };
    const haproxyCommand = (command: string) => runtimeApi(haproxySocket, command);
    const setServerWeight = async (env: string, server: Slot, weight: number) => {
      if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new Error(`weight must be an integer 0–256, got ${weight}`);
      const command = `set weight ${env}/${server} ${weight}`;
      const reply = (await haproxyCommand(command)).trim();
      if (reply) throw new Error(`HAProxy refused "${command}": ${reply}`);
    };
    const getServerWeight = async (env: string, server: Slot) => {
      const reply = await haproxyCommand(`get weight ${env}/${server}`);
      const weight = parseGetWeight(reply);
      if (weight === null) throw new Error(`HAProxy answered "get weight ${env}/${server}" with: ${reply.trim()}`);
      return weight;
    };
    const redeploys = new Map<string, Promise<unknown>>();

    return {
      dir,
      service,
      environments: envNames,
      haproxySocket,
      prometheusUrl,
      prometheusPort,
      traffic,
      frontendUrl,
      frontendPort: (env) => Number(new URL(frontendUrl(env)).port),
      haproxyTarget: (env) => {
        frontendUrl(env);
        return { type: 'haproxy', config: { runtimeApi: `unix:${haproxySocket}`, backend: env, stableServer: 'stable', canaryServer: 'canary' } };
      },
      prometheusMetrics: () => ({ type: 'prometheus', config: { url: prometheusUrl } }),
      slot: (env, slot) => ({ ...slotState(env, slot) }),
      redeploy(env, slot, version, behaviour) {
        const state = slotState(env, slot);
        const run = (redeploys.get(key(env, slot)) ?? Promise.resolve())
          .catch(() => {})
          .then(async () => {
            if (stopping) throw new Error('the stack is stopping');
            const spec: SlotSpec = { version, behaviour: checkBehaviour(behaviour ?? state.behaviour) };
            const running = apps.get(key(env, slot));
            if (running?.redeploy) {
              await running.redeploy(spec);
              Object.assign(state, { version, behaviour: spec.behaviour });
              log(`redeployed ${env}/${slot} in place: ${describeSpec(spec)} on port ${state.port}`);
              return { ...state };
            }
            // A process: stopped (its requests in flight drained), then the new one on the same port.
            await running?.close();
            apps.delete(key(env, slot));
            const app = await startApp(env, slot, spec, state.port);
            if (stopping) {
              await app.close();
              throw new Error('the stack is stopping');
            }
            apps.set(key(env, slot), app);
            Object.assign(state, { version, behaviour: spec.behaviour });
            log(`redeployed ${env}/${slot} (new process): ${describeSpec(spec)} on port ${state.port}`);
            return { ...state };
          });
        redeploys.set(key(env, slot), run);
        return run;
      },
      haproxyCommand,
      async setWeights(env, weights) {
        frontendUrl(env);
        const writes: Array<[Slot, number]> = [
          ['stable', weights.stable],
          ['canary', weights.canary],
        ];
        if (weights.canary > weights.stable) writes.reverse();
        for (const [server, weight] of writes) await setServerWeight(env, server, weight);
      },
      async getWeights(env) {
        const [stable, canary] = await Promise.all([getServerWeight(env, 'stable'), getServerWeight(env, 'canary')]);
        return { stable, canary };
      },
      appCounts: (env) => Promise.all(SLOTS.map((slot) => scrapeCounts(slotState(env, slot)))),
      promQuery: (query) => promQuery(prometheusUrl, query),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const describeSpec = (spec: SlotSpec) => `${spec.version} (errors ${(spec.behaviour.errorRate * 100).toFixed(1)} %, ~${spec.behaviour.latencyMs} ms)`;

export async function promQuery(prometheusUrl: string, query: string): Promise<PromSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json().catch(() => null)) as { status?: string; error?: string; data?: { resultType: string; result: PromSample[] } } | null;
  if (!response.ok || body?.status !== 'success' || !body.data) throw new Error(`Prometheus refused ${query}: ${body?.error ?? response.status}`);
  return body.data.result;
}

/** Sums http_requests_total of one sample app from its own /metrics. */
async function scrapeCounts(state: SlotState): Promise<SlotCounts> {
  const response = await fetch(`${state.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${state.url}/metrics answered ${response.status}`);
  const counts: SlotCounts = { slot: state.slot, version: state.version, requests: 0, errors: 0 };
  for (const line of (await response.text()).split('\n')) {
    const match = /^http_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(match[2]);
    counts.requests += value;
    if (labels.code?.startsWith('5')) counts.errors += value;
  }
  return counts;
}

/**
 * Ctrl-C / SIGTERM run `cleanup` once and exit 0; a second signal exits at once (the 'exit'
 * handlers of running stacks still kill their processes). Returns a function that removes the handlers.
 */
export function onShutdownSignal(cleanup: (signal: NodeJS.Signals) => Promise<void>, log: (message: string) => void = console.error): () => void {
  let shuttingDownSince = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDownSince) {
      // tsx's CLI relays the terminal's Ctrl-C a few ms after the process got it itself: not a second request.
      if (Date.now() - shuttingDownSince < 1000) return;
      log(`${signal} again: exiting now`);
      process.exit(130);
    }
    shuttingDownSince = Date.now();
    log(`${signal}: stopping…`);
    cleanup(signal).then(
      () => process.exit(0),
      (error: Error) => {
        log(`while stopping: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

// The real stack behind the live demo, the integration tests and the benchmark, all on
// loopback: per environment two sample apps (slots, HAProxy servers: "stable" and "canary" unless
// named otherwise), one HAProxy with a frontend per environment and a runtime API socket, one
// Prometheus scraping every app each second, and a steady traffic generator. stop() ends every
// process and removes the temp dir.
//
// Glidepath can deploy onto the slots itself: the stack keeps a registry of builds (digest →
// version and behaviour) and answers a deploy agent on a unix socket (<dir>/deploy.sock), which
// demo/deploy/sample-app-deploy.mjs, run by Glidepath's command deployer, asks to put a build on a
// slot or take it off; commandDeployer(env) is the deployer an environment names for that.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectDirectly, runtimeApiCommand } from '@glidepath/providers';
import { checkBehaviour, DIGEST_HEADER, startSampleApp, type Behaviour, type SampleApp } from './sample-app.ts';
import { startTraffic, type Traffic } from './traffic.ts';

export type { Behaviour } from './sample-app.ts';
/** A slot: one of an environment's two HAProxy servers, each with its sample app. */
export type Slot = string;
/** Slot names unless an environment names its own: the router's stable and canary servers. */
export const SLOTS: readonly [Slot, Slot] = ['stable', 'canary'];
/** The deploy command Glidepath's command deployer runs for the demo (its directory must be in GLIDEPATH_DEPLOY_COMMAND_DIRS). */
export const DEPLOY_SCRIPT = fileURLToPath(new URL('./deploy/sample-app-deploy.mjs', import.meta.url));
export const DEPLOY_SCRIPT_DIR = dirname(DEPLOY_SCRIPT);

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const INSTALL_COMMAND = 'apt-get update && apt-get install -y --no-install-recommends haproxy prometheus';

export interface SlotSpec {
  version: string;
  behaviour: Behaviour;
  /** The build's digest, served on /healthz (x-app-digest); none for a slot no deployer put there. */
  digest?: string;
}

/** A build the deploy agent can put on a slot, as a registry would hold it. */
export interface Build {
  version: string;
  digest: string;
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
  /** Per environment, its two slots (HAProxy server names), the one with all traffic first; default SLOTS. */
  slotNames?: Record<string, readonly [Slot, Slot]>;
  /** What the deploy agent may put on slots, by digest (more with addBuild). */
  builds?: Build[];
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
  /** null once the deploy agent removed what was on the slot (nothing listens on its port then). */
  version: string | null;
  behaviour: Behaviour;
  digest: string | null;
  port: number;
  url: string;
}

export interface SlotCounts {
  slot: Slot;
  version: string | null;
  requests: number;
  errors: number;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface HaproxyTargetSpec {
  type: 'haproxy';
  config: { runtimeApi: string; backend: string; stableServer: Slot; canaryServer: Slot };
}

/** Glidepath's command deployer, running the demo's deploy script against this stack. */
export interface CommandDeployerSpec {
  type: 'command';
  config: {
    command: string[];
    env: Record<string, string>;
    timeoutMs: number;
    healthCheck: { slotUrls: Record<Slot, string>; digestHeader: string; passes: number; intervalMs: number; timeoutMs: number };
  };
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
  /** The environment's two slots, the one that had all traffic at start first. */
  slotNames(env: string): readonly [Slot, Slot];
  /** A deployer for Glidepath: its deploy script asks this stack's deploy agent, its health check reads the slot's digest. */
  commandDeployer(env: string): CommandDeployerSpec;
  /** One more build the deploy agent may put on slots. */
  addBuild(build: Build): void;
  slot(env: string, slot: Slot): SlotState;
  /** Restarts that slot's sample app with another version (and behaviour, digest) on the same port. */
  redeploy(env: string, slot: Slot, version: string, behaviour?: Behaviour, digest?: string): Promise<SlotState>;
  /** Stops that slot's sample app (its port then refuses); a later redeploy starts one again. */
  remove(env: string, slot: Slot): Promise<SlotState>;
  /** One runtime API command; returns HAProxy's reply as is (empty on success for `set` commands). */
  haproxyCommand(command: string): Promise<string>;
  /** Absolute weights per slot through the runtime API (the larger one first: never both at 0). */
  setWeights(env: string, weights: Record<Slot, number>): Promise<void>;
  getWeights(env: string): Promise<Record<Slot, number>>;
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

function haproxyConfig(socketPath: string, envs: Array<{ name: string; port: number; servers: Array<{ name: Slot; port: number; weight: number }> }>): string {
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
      ...env.servers.map((server) => `  server ${server.name} 127.0.0.1:${server.port} weight ${server.weight}`),
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
      const app: SampleApp = await startSampleApp({
        host: '127.0.0.1',
        port,
        service,
        environment,
        version: spec.version,
        digest: spec.digest,
        ...spec.behaviour,
      });
      return {
        port: app.port,
        url: app.url,
        redeploy: (next) => app.redeploy({ version: next.version, digest: next.digest, ...next.behaviour }),
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
      ...(spec.digest ? ['--digest', spec.digest] : []),
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
  const slotNames = (env: string): readonly [Slot, Slot] => options.slotNames?.[env] ?? SLOTS;
  for (const env of envNames) {
    const names = slotNames(env);
    if (names[0] === names[1] || !names.every((n) => /^[a-z][a-z0-9_-]{0,31}$/.test(n)))
      throw new Error(`slots of ${env} must be two different names of lower-case letters, digits, _ and - (got ${names.join(', ')})`);
  }
  const builds = new Map<string, Build>();
  const addBuild = (build: Build) => void builds.set(build.digest, { ...build, behaviour: checkBehaviour(build.behaviour) });
  for (const build of options.builds ?? []) addBuild(build);

  ensureBinaries({ install: options.install, log });

  const dir = await mkdtemp(join(tmpdir(), 'gp-demo-'));
  const haproxySocket = join(dir, 'haproxy.sock');
  const deploySocket = join(dir, 'deploy.sock');
  if (Buffer.byteLength(haproxySocket) > 100) throw new Error(`socket path too long for a unix socket (${haproxySocket}); set TMPDIR to a shorter directory`);

  const apps = new Map<string, AppInstance>(); // `${env}/${slot}`
  const states = new Map<string, SlotState>();
  const frontendPorts = new Map<string, number>();
  let traffic: Traffic | null = null;
  let deployAgent: http.Server | null = null;
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
      deployAgent?.closeAllConnections();
      deployAgent?.close();
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
      return { version: spec.version, behaviour: checkBehaviour(spec.behaviour), digest: spec.digest };
    };
    // allSettled: when one fails, the others are still registered (and so stopped) before cleanup.
    const starts = await Promise.allSettled(
      envNames.flatMap((env) =>
        slotNames(env).map(async (slot) => {
          const spec = specOf(env, slot);
          const app = await startApp(env, slot, spec, 0);
          apps.set(key(env, slot), app);
          states.set(key(env, slot), {
            slot,
            version: spec.version,
            behaviour: spec.behaviour,
            digest: spec.digest ?? null,
            port: app.port,
            url: app.url,
          });
        }),
      ),
    );
    const failed = starts.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    log(
      `sample apps up (${mode}): ${envNames
        .map((e) =>
          slotNames(e)
            .map((s) => `${e}/${s}=${states.get(key(e, s))!.version}@${states.get(key(e, s))!.port}`)
            .join(' '),
        )
        .join(' ')}`,
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
          // The first slot takes all traffic at start.
          servers: slotNames(name).map((slot, i) => ({ name: slot, port: states.get(key(name, slot))!.port, weight: i === 0 ? 100 : 0 })),
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
                slotNames(env).map((slot) => ({ targets: [`127.0.0.1:${states.get(key(env, slot))!.port}`], labels: { slot, stack_environment: env } })),
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
    // One change at a time per slot: a deploy waits for the one before it.
    const changes = new Map<string, Promise<unknown>>();
    const serialised = <T>(env: string, slot: Slot, change: (state: SlotState) => Promise<T>): Promise<T> => {
      const state = slotState(env, slot);
      const run = (changes.get(key(env, slot)) ?? Promise.resolve())
        .catch(() => {})
        .then(() => {
          if (stopping) throw new Error('the stack is stopping');
          return change(state);
        });
      changes.set(key(env, slot), run);
      return run;
    };
    const redeploy = (env: string, slot: Slot, version: string, behaviour?: Behaviour, digest?: string) =>
      serialised(env, slot, async (state) => {
        const spec: SlotSpec = { version, behaviour: checkBehaviour(behaviour ?? state.behaviour), digest };
        const running = apps.get(key(env, slot));
        if (running?.redeploy) {
          await running.redeploy(spec);
          Object.assign(state, { version, behaviour: spec.behaviour, digest: digest ?? null });
          log(`redeployed ${env}/${slot} in place: ${describeSpec(spec)} on port ${state.port}`);
          return { ...state };
        }
        // A process (or a slot emptied by remove): stopped (its requests in flight drained), then the new one on the same port.
        await running?.close();
        apps.delete(key(env, slot));
        const app = await startApp(env, slot, spec, state.port);
        if (stopping) {
          await app.close();
          throw new Error('the stack is stopping');
        }
        apps.set(key(env, slot), app);
        Object.assign(state, { version, behaviour: spec.behaviour, digest: digest ?? null });
        log(`redeployed ${env}/${slot} (${mode === 'process' ? 'new process' : 'started'}): ${describeSpec(spec)} on port ${state.port}`);
        return { ...state };
      });
    const remove = (env: string, slot: Slot) =>
      serialised(env, slot, async (state) => {
        await apps.get(key(env, slot))?.close();
        apps.delete(key(env, slot));
        if (state.version !== null) log(`removed ${state.version} from ${env}/${slot} (port ${state.port} now refuses)`);
        Object.assign(state, { version: null, digest: null });
        return { ...state };
      });

    // The deploy agent: what demo/deploy/sample-app-deploy.mjs asks, on a unix socket only this user can reach.
    deployAgent = http.createServer((req, res) => {
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      const match = /^\/slots\/([a-z0-9-]+)\/([a-z0-9_-]+)$/.exec(req.url ?? '');
      const [env, slot] = match ? [match[1]!, match[2]!] : ['', ''];
      if (!match || !envNames.includes(env) || !slotNames(env).includes(slot)) return answer(404, { error: `no slot ${req.url} in this stack` });
      let raw = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (raw = (raw + chunk).slice(0, 10_000)));
      req.on('end', () => {
        const work = async (): Promise<[number, unknown]> => {
          if (req.method === 'DELETE') return [200, await remove(env, slot)];
          if (req.method !== 'PUT') return [405, { error: 'PUT a build on a slot, or DELETE what is there' }];
          const asked = JSON.parse(raw || '{}') as { version?: string; digest?: string };
          const build = builds.get(asked.digest ?? '');
          if (!build) return [404, { error: `no build with digest ${asked.digest} in the demo's registry` }];
          if (build.version !== asked.version) return [409, { error: `${asked.digest} is version ${build.version}, not ${asked.version}` }];
          return [200, await redeploy(env, slot, build.version, build.behaviour, build.digest)];
        };
        work().then(
          ([status, body]) => answer(status, body),
          (error: Error) => answer(500, { error: error.message }),
        );
      });
    });
    await new Promise<void>((resolve, reject) => deployAgent!.once('error', reject).listen(deploySocket, resolve));

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
        const [stableServer, canaryServer] = slotNames(env);
        return { type: 'haproxy', config: { runtimeApi: `unix:${haproxySocket}`, backend: env, stableServer, canaryServer } };
      },
      prometheusMetrics: () => ({ type: 'prometheus', config: { url: prometheusUrl } }),
      slotNames: (env) => {
        frontendUrl(env);
        return slotNames(env);
      },
      commandDeployer: (env) => {
        frontendUrl(env);
        return {
          type: 'command',
          config: {
            command: [DEPLOY_SCRIPT],
            // The script runs with only these (and Glidepath's GLIDEPATH_*): node from where this one is, the agent's socket.
            env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, DEMO_DEPLOY_SOCKET: deploySocket, DEMO_ENVIRONMENT: env },
            timeoutMs: APP_PROCESS_START_TIMEOUT_MS + 30_000,
            // Ready once the slot serves the digest asked, twice in a row.
            healthCheck: {
              slotUrls: Object.fromEntries(slotNames(env).map((slot) => [slot, `${slotState(env, slot).url}/healthz`])),
              digestHeader: DIGEST_HEADER,
              passes: 2,
              intervalMs: 250,
              timeoutMs: 60_000,
            },
          },
        };
      },
      addBuild,
      slot: (env, slot) => ({ ...slotState(env, slot) }),
      redeploy,
      remove,
      haproxyCommand,
      async setWeights(env, weights) {
        frontendUrl(env);
        const writes = slotNames(env).map((slot): [Slot, number] => {
          const weight = weights[slot];
          if (weight === undefined) throw new Error(`setWeights(${env}): no weight for slot ${slot}`);
          return [slot, weight];
        });
        // The larger first: never both at 0.
        writes.sort((a, b) => b[1] - a[1]);
        for (const [server, weight] of writes) await setServerWeight(env, server, weight);
      },
      async getWeights(env) {
        frontendUrl(env);
        const names = slotNames(env);
        const weights = await Promise.all(names.map((slot) => getServerWeight(env, slot)));
        return Object.fromEntries(names.map((slot, i) => [slot, weights[i]!]));
      },
      appCounts: (env) => Promise.all(slotNames(env).map((slot) => scrapeCounts(slotState(env, slot)))),
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

/** Sums http_requests_total of one sample app from its own /metrics (none on an emptied slot). */
async function scrapeCounts(state: SlotState): Promise<SlotCounts> {
  if (state.version === null) return { slot: state.slot, version: null, requests: 0, errors: 0 };
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

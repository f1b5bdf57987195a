// A small sample service for the demo and the integration stack: answers GET / after a
// jittered latency (or 500 with some probability) and exposes Prometheus metrics labelled
// with its version, which is what Glidepath compares canary against baseline by.
//
//   tsx demo/sample-app.ts --port 0 --service demo-shop --environment dev --version 1.0.0 \
//       [--digest sha256:…] --error-rate 0.005 --latency-ms 20
//
// prints {"port":N,"url":"http://127.0.0.1:N",...} on stdout once it listens; SIGTERM/SIGINT stop it.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';

export interface Behaviour {
  /** Probability (0–1) that GET / answers 500. */
  errorRate: number;
  /** Mean latency of GET / in milliseconds (lognormal jitter around it). */
  latencyMs: number;
}

export interface SampleAppOptions extends Behaviour {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  service: string;
  environment: string;
  version: string;
  /** The build's digest, served on /healthz as x-app-digest (what a deployer's health check waits for). */
  digest?: string;
}

/** The header /healthz names the running build's digest in. */
export const DIGEST_HEADER = 'x-app-digest';

export interface SampleApp {
  url: string;
  port: number;
  /** The version it answers with now. */
  readonly version: string;
  setBehaviour(behaviour: Partial<Behaviour>): void;
  /**
   * A new version in place, as a restart would give (new counters, the old series gone) but
   * with no moment where the port refuses connections: requests arriving from now on get the
   * new version, those in flight finish with the old one.
   */
  redeploy(next: Behaviour & { version: string; digest?: string }): Promise<void>;
  /** Stops listening, lets requests in flight finish (at most 2 s), closes every connection. */
  close(): Promise<void>;
}

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How long close() lets requests being answered finish. */
const DRAIN_MS = 2000;

/** Spread of the latency's logarithm: most answers within ±30 % of the mean, a tail beyond. */
const LATENCY_SIGMA = 0.3;

function standardNormal(): number {
  // Box–Muller; 1 - random() avoids log(0).
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A lognormal delay whose mean is `meanMs` (capped at 20× the mean). */
export function jitteredLatency(meanMs: number): number {
  if (meanMs <= 0) return 0;
  const delay = meanMs * Math.exp(LATENCY_SIGMA * standardNormal() - (LATENCY_SIGMA * LATENCY_SIGMA) / 2);
  return Math.min(delay, meanMs * 20);
}

export function checkBehaviour(b: Behaviour): Behaviour {
  if (!Number.isFinite(b.errorRate) || b.errorRate < 0 || b.errorRate > 1) throw new Error(`errorRate must be 0–1, got ${b.errorRate}`);
  if (!Number.isFinite(b.latencyMs) || b.latencyMs < 0 || b.latencyMs > 60_000) throw new Error(`latencyMs must be 0–60000, got ${b.latencyMs}`);
  return { errorRate: b.errorRate, latencyMs: b.latencyMs };
}

/** One version of the app: its behaviour, its own metrics registry, its requests in flight. */
function createInstance(service: string, environment: string, version: string, initial: Behaviour, digest?: string) {
  let behaviour = checkBehaviour(initial);
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered by the sample app (excluding /metrics and /healthz)',
    labelNames: ['service', 'environment', 'version', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request (excluding /metrics and /healthz)',
    labelNames: ['service', 'environment', 'version'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  // Series exist from the start (at 0), so increase() sees the first requests too.
  for (const code of ['200', '500']) requests.inc({ service, environment, version, code }, 0);
  duration.zero({ service, environment, version });
  const timers = new Set<NodeJS.Timeout>();

  return {
    version,
    digest,
    registry,
    timers,
    setBehaviour(next: Partial<Behaviour>) {
      behaviour = checkBehaviour({ ...behaviour, ...next });
    },
    /** GET /: the answer after a jittered latency, a 500 with probability errorRate. */
    answer(res: http.ServerResponse) {
      const started = performance.now();
      const fail = Math.random() < behaviour.errorRate;
      const timer = setTimeout(() => {
        timers.delete(timer);
        const code = fail ? 500 : 200;
        const body = fail ? { error: 'simulated failure', service, version } : { service, version };
        res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
        requests.inc({ service, environment, version, code: String(code) });
        duration.observe({ service, environment, version }, (performance.now() - started) / 1000);
      }, jitteredLatency(behaviour.latencyMs));
      timers.add(timer);
      res.on('close', () => {
        // The client went away before the answer: nothing was served, nothing is counted.
        if (timers.delete(timer)) clearTimeout(timer);
      });
    },
    /** Lets the requests in flight finish, for at most DRAIN_MS, then drops the rest. */
    async drain() {
      const deadline = Date.now() + DRAIN_MS;
      while (timers.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

export async function startSampleApp(options: SampleAppOptions): Promise<SampleApp> {
  const host = options.host ?? '127.0.0.1';
  const { service, environment } = options;
  let current = createInstance(service, environment, options.version, options, options.digest);

  const server = http.createServer((req, res) => {
    const instance = current;
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', ...(instance.digest ? { [DIGEST_HEADER]: instance.digest } : {}) }).end(`ok ${instance.version}\n`);
    } else if (path === '/metrics') {
      instance.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': instance.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    } else if (path === '/') {
      instance.answer(res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    get version() {
      return current.version;
    },
    setBehaviour: (next) => current.setBehaviour(next),
    async redeploy(next) {
      if (closing) throw new Error('the sample app is closed');
      const old = current;
      current = createInstance(service, environment, next.version, next, next.digest);
      await old.drain();
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests being answered get their answer (as when a deploy drains a server).
        await current.drain();
        server.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 20));
        // Kept-alive connections (HAProxy's) would hold close() open.
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      service: { type: 'string', default: 'demo-shop' },
      environment: { type: 'string', default: 'dev' },
      version: { type: 'string', default: '1.0.0' },
      digest: { type: 'string' },
      'error-rate': { type: 'string', default: '0.005' },
      'latency-ms': { type: 'string', default: '20' },
      // Not used by the app: names the stack that started it in its command line (stack.ts's watchdog).
      'stack-dir': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got ${values.port}`);
  const app = await startSampleApp({
    host: values.host,
    port,
    service: values.service,
    environment: values.environment,
    version: values.version,
    digest: values.digest,
    errorRate: Number(values['error-rate']),
    latencyMs: Number(values['latency-ms']),
  });
  const stop = () => {
    void app.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({ port: app.port, url: app.url, service: values.service, environment: values.environment, version: values.version })}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: Error) => {
    console.error(`sample-app: ${error.message}`);
    process.exit(1);
  });
}

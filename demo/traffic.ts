// A steady traffic generator: N requests per second to each target over a keep-alive agent,
// paced evenly, with the answers counted by status class.
import http from 'node:http';

export interface TrafficTarget {
  /** Key of the counts, e.g. the environment. */
  name: string;
  /** Full URL to GET, e.g. http://127.0.0.1:18080/ */
  url: string;
}

export interface TrafficOptions {
  targets: TrafficTarget[];
  /** Requests per second per target. */
  ratePerSecond: number;
  /** Per request; default 15000 ms. */
  timeoutMs?: number;
  /** Requests in flight per target above which new ones are skipped (counted as `skipped`); default 200. */
  maxInFlight?: number;
}

export interface TrafficCounts {
  sent: number;
  /** 2xx answers */
  ok: number;
  /** 5xx answers (the app's 500s and HAProxy's 502/503/504) */
  serverErrors: number;
  /** any other status */
  otherStatus: number;
  /** connection refused/reset, timeouts */
  networkErrors: number;
  /** networkErrors by error code (ECONNREFUSED, ECONNRESET, TIMEOUT…) */
  networkErrorCodes: Record<string, number>;
  /** not sent because maxInFlight was reached */
  skipped: number;
  inFlight: number;
}

export interface Traffic {
  counts(): Record<string, TrafficCounts>;
  /** Counts of one target (zeros for an unknown one). */
  countsOf(name: string): TrafficCounts;
  setRate(ratePerSecond: number): void;
  readonly ratePerSecond: number;
  /** Stops sending, waits (at most 2 s) for requests in flight, closes the connections. */
  stop(): Promise<void>;
}

const TICK_MS = 20;
/** After a stall, at most this many seconds' worth of requests go out at once (the rest is skipped). */
const MAX_BURST_SECONDS = 0.2;

const zero = (): TrafficCounts => ({ sent: 0, ok: 0, serverErrors: 0, otherStatus: 0, networkErrors: 0, networkErrorCodes: {}, skipped: 0, inFlight: 0 });

const copy = (c: TrafficCounts): TrafficCounts => ({ ...c, networkErrorCodes: { ...c.networkErrorCodes } });

export function startTraffic(options: TrafficOptions): Traffic {
  if (!Number.isFinite(options.ratePerSecond) || options.ratePerSecond < 0) throw new Error(`ratePerSecond must be >= 0, got ${options.ratePerSecond}`);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxInFlight = options.maxInFlight ?? 200;
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight, keepAliveMsecs: 10_000 });
  const counts = new Map<string, TrafficCounts>(options.targets.map((t) => [t.name, zero()]));
  const targets = options.targets.map((t) => ({ ...t, parsed: new URL(t.url) }));
  let rate = options.ratePerSecond;
  // Pacing: each tick adds rate × elapsed time to a credit and sends its whole part, so the
  // rate holds on average whatever the timer's jitter. After a stall (busy event loop) the
  // credit is capped (MAX_BURST_SECONDS): a burst of new connections would only add errors.
  let credit = 0;
  let last = performance.now();
  let stopped = false;
  const inFlight = new Set<http.ClientRequest>();
  let drained: (() => void) | null = null;

  const send = (target: (typeof targets)[number]) => {
    const c = counts.get(target.name)!;
    if (c.inFlight >= maxInFlight) {
      c.skipped++;
      return;
    }
    c.sent++;
    c.inFlight++;
    let settled = false;
    const networkError = (error: NodeJS.ErrnoException) => {
      if (settled) return;
      const code = error.code ?? 'OTHER';
      c.networkErrorCodes[code] = (c.networkErrorCodes[code] ?? 0) + 1;
      settle('networkErrors');
    };
    const settle = (outcome: 'ok' | 'serverErrors' | 'otherStatus' | 'networkErrors') => {
      if (settled) return;
      settled = true;
      c.inFlight--;
      c[outcome]++;
      inFlight.delete(req);
      if (stopped && inFlight.size === 0) drained?.();
    };
    const req = http.get(
      { host: target.parsed.hostname, port: target.parsed.port, path: `${target.parsed.pathname}${target.parsed.search}`, agent, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          settle(status >= 200 && status < 300 ? 'ok' : status >= 500 ? 'serverErrors' : 'otherStatus');
        });
        res.on('error', (error: NodeJS.ErrnoException) => networkError(error));
      },
    );
    inFlight.add(req);
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => networkError(error));
  };

  const timer = setInterval(() => {
    if (stopped) return;
    const now = performance.now();
    credit = Math.min(credit + (rate * (now - last)) / 1000, Math.max(1, rate * MAX_BURST_SECONDS));
    last = now;
    const n = Math.floor(credit);
    credit -= n;
    for (let i = 0; i < n; i++) for (const target of targets) send(target);
  }, TICK_MS);

  return {
    counts: () => Object.fromEntries([...counts].map(([name, c]) => [name, copy(c)])),
    countsOf: (name) => copy(counts.get(name) ?? zero()),
    get ratePerSecond() {
      return rate;
    },
    setRate(next) {
      if (!Number.isFinite(next) || next < 0) throw new Error(`ratePerSecond must be >= 0, got ${next}`);
      rate = next;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, Math.min(timeoutMs, 2000)).unref();
        });
      }
      for (const req of inFlight) req.destroy();
      agent.destroy();
    },
  };
}

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import {
  diffResponses,
  emptyShadowTally,
  parseFieldPattern,
  recordArm,
  type CapturedResponse,
  type FieldPattern,
  type MirrorSession,
  type ShadowTally,
} from '@glidepath/core';
import { handleControl } from './mirror-control.ts';

/**
 * Glidepath's mirroring proxy. HAProxy 2.6 (Debian 12) cannot mirror: its configuration manual
 * has no mirror directive, and the only way is an external SPOE agent (haproxytech's spoa-mirror,
 * a separate C program not packaged by Debian) which fires copies and forgets them: nobody sees
 * the copy's answer, so nothing could be compared. Nginx's `mirror` and Envoy's
 * `request_mirror_policies` drop the copy's answer too. So this proxy sits in front of the
 * environment's router (users → this proxy → HAProxy → the live slot), forwards every request to
 * the router and answers users only from it, and while Glidepath has a mirror session open copies
 * requests of the session's methods to the shadow version's slot directly, compares the answers
 * and counts (core's shadow tally). It only does I/O: the comparison is core's.
 *
 * The copies never slow or break user traffic: they start after the user's request has been read
 * (in parallel with the live answer), at most `maxInFlight` at a time (past that a request is not
 * copied, and counted as overloaded), each with a timeout; the user's answer is streamed as it
 * comes, only a bounded prefix and a hash of it are kept for the comparison.
 */
export interface MirrorProxyOptions {
  /** Where users' traffic arrives. */
  listen: { host: string; port: number };
  /** Where Glidepath opens and closes sessions (keep it private: loopback, or a token). */
  control: { host: string; port: number; token?: string };
  /** The live traffic's upstream: the router's frontend (HAProxy), which sends it to the live slot. */
  live: string;
  /** Where each slot's version answers directly (the shadow is reached here, never through the router). */
  slots: Record<string, string>;
  /** Copies (and their comparisons) under way at most; default 64. */
  maxInFlight?: number;
  /** A copy's answer must come within this; default 5000 ms. */
  copyTimeoutMs?: number;
  /** Bytes of a body kept for comparison; longer ones are compared by length and hash only. Default 1 MiB. */
  captureBytes?: number;
  /** Sessions remembered after they stop, for their tallies. Default 20. */
  keepSessions?: number;
  now?: () => number;
}

export interface SessionRecord {
  config: MirrorSession;
  ignore: FieldPattern[];
  startedAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  tally: ShadowTally;
}

export interface MirrorProxy {
  /** Where users' traffic goes, and the control API. */
  url: string;
  controlUrl: string;
  sessions: Map<string, SessionRecord>;
  active(): SessionRecord | null;
  inFlight(): number;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's.
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);
/** Methods the live version may be sent twice (RFC 9110 §9.2.1 safe methods): the baseline's copies are only these. */
const SAFE_TO_REPEAT = new Set(['GET', 'HEAD', 'OPTIONS']);
const endToEnd = (headers: http.IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP.has(k)));

export async function startMirrorProxy(options: MirrorProxyOptions): Promise<MirrorProxy> {
  const now = options.now ?? Date.now;
  const maxInFlight = options.maxInFlight ?? 64;
  const copyTimeoutMs = options.copyTimeoutMs ?? 5000;
  const captureBytes = options.captureBytes ?? 1 << 20;
  const keepSessions = options.keepSessions ?? 20;
  const live = new URL(options.live);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sessions = new Map<string, SessionRecord>();
  let current: SessionRecord | null = null;
  let inFlight = 0;

  const stop = (record: SessionRecord, reason: string) => {
    if (!record.stoppedAt) Object.assign(record, { stoppedAt: new Date(now()).toISOString(), stopReason: reason });
    if (current === record) current = null;
  };
  const active = () => {
    if (current && Date.parse(current.config.expiresAt) <= now()) stop(current, `expired at ${current.config.expiresAt}`);
    return current;
  };
  const open = (config: MirrorSession): SessionRecord => {
    const known = sessions.get(config.session);
    if (known && !known.stoppedAt) {
      // The same session asked again (a gate job repeated): same tally, settings as asked now.
      Object.assign(known, { config, ignore: config.ignoreFields.map((f) => parseFieldPattern(f) as FieldPattern) });
      return known;
    }
    if (current && current !== known) stop(current, `replaced by session ${config.session}`);
    const record: SessionRecord = {
      config,
      ignore: config.ignoreFields.map((f) => parseFieldPattern(f) as FieldPattern),
      startedAt: new Date(now()).toISOString(),
      stoppedAt: null,
      stopReason: null,
      tally: known?.tally ?? emptyShadowTally(),
    };
    sessions.delete(config.session);
    sessions.set(config.session, record);
    while (sessions.size > keepSessions) sessions.delete(sessions.keys().next().value!);
    current = record;
    return record;
  };

  const server = http.createServer((req, res) => {
    const session = active();
    const method = (req.method ?? 'GET').toUpperCase();
    let copy = false;
    if (session) {
      if (!session.config.methods.includes(method)) session.tally.skipped.method += 1;
      else if (session.config.sampleRate < 1 && Math.random() >= session.config.sampleRate) session.tally.skipped.sample += 1;
      else if (inFlight >= maxInFlight) session.tally.skipped.overloaded += 1;
      else copy = true;
    }
    const body: Buffer[] = [];
    let bodyBytes = 0;
    const started = performance.now();
    const upstream = http.request({
      protocol: live.protocol,
      host: live.hostname,
      port: live.port,
      method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent,
    });
    // The live answer's capture, already settled to null if it fails: a live answer cut off while its copy is
    // under way must not be a rejection nobody handles yet (that would end the proxy, and all users' traffic).
    let primary: Promise<CapturedResponse | null> | null = null;
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // Only an answer that will be compared is kept and hashed: the rest just streams through.
      if (copy) primary = capture(answer, captureBytes, started).catch(() => null);
      // pipeline, not pipe: a live answer cut off cuts the user's off too (else the user would wait for the rest
      // forever), and a user who leaves drops the live answer.
      pipeline(answer, res, () => {});
    });
    upstream.on('error', (error) => {
      // The live version (or the router) is down: the user gets what a proxy says then, and nothing is compared.
      copy = false;
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`live upstream unreachable: ${error.message}\n`);
      else res.destroy(error);
    });
    req.on('aborted', () => upstream.destroy());
    // A user who leaves before the whole answer came (the request itself was complete, so no 'aborted'): the
    // live answer is dropped too, else its capture would wait forever and hold a copy slot.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (!copy) return;
      bodyBytes += chunk.length;
      if (bodyBytes > captureBytes) {
        // A copy needs the whole request; one this large is not copied (and would be rare for a read).
        copy = false;
        session!.tally.skipped.bodyTooLarge += 1;
        body.length = 0;
      } else body.push(chunk);
    });
    req.on('end', () => {
      upstream.end();
      if (!copy || !session) return;
      inFlight += 1;
      const request = {
        method,
        url: req.url ?? '/',
        headers: { ...endToEnd(req.headers), 'x-glidepath-shadow': session.config.session },
        body: Buffer.concat(body),
      };
      const shadowBase = options.slots[session.config.slot];
      // The baseline's copy goes to the live version, whose writes are real: only a read is sent there twice,
      // whatever the plan's methods (a POST copied to the shadow is never sent to live again).
      const secondary = SAFE_TO_REPEAT.has(method) && Math.random() < session.config.baselineShare;
      const shadowAnswer = shadowBase
        ? send(new URL(shadowBase), request, copyTimeoutMs, captureBytes, agent)
        : Promise.reject(new Error(`no address for slot ${session.config.slot}`));
      const secondaryAnswer = secondary ? send(live, request, copyTimeoutMs, captureBytes, agent) : null;
      void compare(session, request, () => primary, shadowAnswer, secondaryAnswer).finally(() => (inFlight -= 1));
    });
  });

  async function compare(
    session: SessionRecord,
    request: { method: string; url: string },
    primaryOf: () => Promise<CapturedResponse | null> | null,
    shadow: Promise<CapturedResponse>,
    secondary: Promise<CapturedResponse> | null,
  ) {
    const [s, second] = await Promise.allSettled([shadow, secondary ?? Promise.resolve(null)]);
    // The live answer has begun by now or never will (the copies took at least as long, or timed out).
    const p = await waitFor(primaryOf, copyTimeoutMs);
    if (!p) return; // the user's request failed or was cut off: nothing to compare with
    const copied = { method: request.method, url: request.url, primary: { status: p.status, latencyMs: p.latencyMs } };
    const outcome = (r: PromiseSettledResult<CapturedResponse | null>) =>
      r.status === 'fulfilled' && r.value
        ? { diff: diffResponses(p, r.value, { ignore: session.ignore }), status: r.value.status, latencyMs: r.value.latencyMs }
        : { diff: null, error: r.status === 'rejected' ? String((r.reason as Error).message ?? r.reason) : 'no answer' };
    recordArm(session.tally, 'shadow', copied, outcome(s), true);
    if (secondary) recordArm(session.tally, 'secondary', copied, outcome(second), false);
  }

  const control = http.createServer((req, res) => {
    void handleControl(req, res, { token: options.control.token, sessions, open, stop, active, inFlight: () => inFlight });
  });

  await Promise.all([listen(server, options.listen), listen(control, options.control)]);
  const addr = (s: http.Server) => {
    const a = s.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  };
  return {
    url: addr(server),
    controlUrl: addr(control),
    sessions,
    active,
    inFlight: () => inFlight,
    async close() {
      server.closeAllConnections();
      control.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => control.close(r))]);
      agent.destroy();
    },
  };
}

function listen(server: http.Server, at: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
}

/**
 * The live answer's capture once it has begun (it may not have: the user's request failed), within `timeoutMs`
 * for it to begin and again for it to end: a live answer still streaming then is not compared (null), so no
 * comparison holds a copy slot for longer than that, whatever the live answer does.
 */
async function waitFor(primaryOf: () => Promise<CapturedResponse | null> | null, timeoutMs: number): Promise<CapturedResponse | null> {
  const until = performance.now() + timeoutMs;
  let p = primaryOf();
  while (!p && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
    p = primaryOf();
  }
  if (!p) return null;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads an answer to its end, keeping at most `limit` bytes and hashing all of it. */
function capture(answer: http.IncomingMessage, limit: number, started: number): Promise<CapturedResponse> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let bytes = 0;
    answer.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      if (bytes < limit) kept.push(bytes + chunk.length > limit ? chunk.subarray(0, limit - bytes) : chunk);
      bytes += chunk.length;
    });
    answer.on('end', () =>
      resolve({
        status: answer.statusCode ?? 0,
        contentType: (answer.headers['content-type'] ?? '').toLowerCase() || null,
        body: Buffer.concat(kept).toString('utf8'),
        bytes,
        digest: hash.digest('hex'),
        truncated: bytes > limit,
        latencyMs: performance.now() - started,
      }),
    );
    answer.on('error', reject);
    answer.on('aborted', () => reject(new Error('the answer was cut off')));
    // Destroyed without an end (its reader went away): settles rather than waiting for an end that never comes.
    answer.on('close', () => {
      if (!answer.complete) reject(new Error('the answer was cut off'));
    });
  });
}

/** One copy of a request to `base`, its answer captured (bounded), within `timeoutMs`. */
function send(
  base: URL,
  request: { method: string; url: string; headers: http.OutgoingHttpHeaders; body: Buffer },
  timeoutMs: number,
  limit: number,
  agent: http.Agent,
): Promise<CapturedResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        protocol: base.protocol,
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        agent,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (answer) => capture(answer, limit, started).then(resolve, reject),
    );
    req.on('error', (error) => reject(error.name === 'AbortError' || error.name === 'TimeoutError' ? new Error(`no answer within ${timeoutMs} ms`) : error));
    req.end(request.body);
  });
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDirectly } from '../network/guarded-connect.ts';
import { createMirrorClient } from './mirror-client.ts';
import { startMirrorProxy, type MirrorProxy } from './mirror-proxy.ts';
import { startVersionApp, type VersionApp } from './mirror.testing.ts';

// The mirroring proxy against real HTTP servers: a live version, and shadow versions that answer
// alike, differently on 20% of items, differently only in an ignored field, slowly, or not at all.
let live: VersionApp;
const shadows: Record<string, VersionApp> = {};
let proxy: MirrorProxy;
const egress = {
  fetch: (url: string | URL, init?: RequestInit) => fetch(url, init),
  connect: connectDirectly,
  check: async () => ({ allowed: true as const }),
};
let client: ReturnType<typeof createMirrorClient>;
let n = 0;

beforeAll(async () => {
  live = await startVersionApp({ servedBy: 'blue' });
  shadows.same = await startVersionApp({ servedBy: 'blue' });
  shadows.worse = await startVersionApp({ servedBy: 'blue', differEvery: 5 });
  shadows.renamed = await startVersionApp({ servedBy: 'green' });
  shadows.hangs = await startVersionApp({ hang: true });
  proxy = await startMirrorProxy({
    listen: { host: '127.0.0.1', port: 0 },
    control: { host: '127.0.0.1', port: 0, token: 'secret' },
    live: live.url,
    slots: { ...Object.fromEntries(Object.entries(shadows).map(([k, v]) => [k, v.url])), down: 'http://127.0.0.1:9' },
    maxInFlight: 8,
    copyTimeoutMs: 300,
  });
  client = createMirrorClient(egress as never, proxy.controlUrl, { token: 'secret' });
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([live, ...Object.values(shadows)].map((a) => a?.close()));
});
afterEach(async () => {
  const active = proxy.active();
  if (active) await client.stop(active.config.session);
});

const session = (slot: string, extra: Record<string, unknown> = {}) => ({
  session: `s${++n}`,
  slot,
  methods: ['GET', 'HEAD', 'OPTIONS'],
  ignoreFields: ['timestamp', 'requestId'],
  sampleRate: 1,
  baselineShare: 0,
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  ...extra,
});
async function users(count: number, path = (i: number) => `/items/${i}`, method = 'GET') {
  const answers = [];
  for (let i = 0; i < count; i++) {
    const r = await fetch(`${proxy.url}${path(i)}`, { method });
    answers.push({ status: r.status, body: await r.text() });
  }
  return answers;
}
async function settled(id: string) {
  await expect.poll(() => proxy.inFlight(), { timeout: 5000 }).toBe(0);
  return (await client.read(id))!;
}

describe('mirroring proxy', () => {
  it('with no session, forwards to the live version and copies nothing', async () => {
    const before = shadows.same!.copies;
    const answers = await users(5);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(JSON.parse(answers[3]!.body)).toMatchObject({ id: 3, label: 'item-3', meta: { servedBy: 'blue' } });
    expect(shadows.same!.copies).toBe(before);
  });

  it('an identical version: every GET copied and compared, none differs once timestamp and requestId are ignored', async () => {
    const s = session('same');
    await client.open(s);
    await users(100);
    const view = await settled(s.session);
    expect(view.tally.shadow).toMatchObject({ compared: 100, differing: 0, errors: 0 });
    expect(view.tally.primary.answered).toBe(100);
    expect(shadows.same!.copies).toBeGreaterThanOrEqual(100);
  });

  it('a version whose JSON differs on 20% of items: 20 of 100 differ, at $.label, with samples', async () => {
    const s = session('worse');
    await client.open(s);
    await users(100);
    const { tally } = await settled(s.session);
    expect(tally.shadow).toMatchObject({ compared: 100, differing: 20, bodyDiffering: 20, statusDiffering: 0 });
    expect(tally.fields).toEqual({ '$.label': { shadow: 20, secondary: 0 } });
    expect(tally.samples[0]).toMatchObject({
      arm: 'shadow',
      method: 'GET',
      url: '/items/0',
      primaryStatus: 200,
      otherStatus: 200,
      comparedAs: 'json',
      paths: ['$.label'],
    });
  });

  it('a version that differs only in an ignored field passes; without ignoring it, every answer differs', async () => {
    const ignored = session('renamed', { ignoreFields: ['timestamp', 'requestId', '$.meta.*'] });
    await client.open(ignored);
    await users(30);
    expect((await settled(ignored.session)).tally.shadow).toMatchObject({ compared: 30, differing: 0 });
    await client.stop(ignored.session);
    const strict = session('renamed');
    await client.open(strict);
    await users(30);
    const { tally } = await settled(strict.session);
    expect(tally.shadow).toMatchObject({ compared: 30, differing: 30 });
    expect(Object.keys(tally.fields)).toEqual(['$.meta.servedBy']);
  });

  it('never copies a method the session does not name: POSTs reach the live version only', async () => {
    const s = session('same');
    await client.open(s);
    const before = { shadow: shadows.same!.orders, live: live.orders };
    const answers = await users(10, () => '/orders', 'POST');
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(live.orders - before.live).toBe(10);
    expect(shadows.same!.orders - before.shadow).toBe(0);
    expect((await settled(s.session)).tally).toMatchObject({ skipped: { method: 10 }, shadow: { compared: 0 } });
  });

  it('copies to the live version a second time for the baseline: its own noise is counted apart', async () => {
    const noisyLive = await startVersionApp({ noisyEvery: 4 });
    const p = await startMirrorProxy({
      listen: { host: '127.0.0.1', port: 0 },
      control: { host: '127.0.0.1', port: 0 },
      live: noisyLive.url,
      slots: { same: noisyLive.url },
    });
    try {
      const c = createMirrorClient(egress as never, p.controlUrl);
      const s = session('same', { baselineShare: 1 });
      await c.open(s);
      for (let i = 0; i < 60; i++) await (await fetch(`${p.url}/items/${i}`)).text();
      await expect.poll(() => p.inFlight()).toBe(0);
      const { tally } = (await c.read(s.session))!;
      expect(tally.secondary.compared).toBe(60);
      expect(tally.secondary.differing).toBeGreaterThan(0);
      expect(tally.fields['$.nonce']!.secondary).toBeGreaterThan(0);
    } finally {
      await p.close();
      await noisyLive.close();
    }
  });

  it('a plan that mirrors POST: each POST reaches the shadow once and the live version exactly once, never a baseline copy', async () => {
    const s = session('same', { methods: ['GET', 'POST'], baselineShare: 1 });
    await client.open(s);
    const before = { shadow: shadows.same!.orders, live: live.orders };
    const answers = await users(10, () => '/orders', 'POST');
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const { tally } = await settled(s.session);
    expect(live.orders - before.live).toBe(10);
    expect(shadows.same!.orders - before.shadow).toBe(10);
    expect(tally.shadow.compared).toBe(10);
    expect(tally.secondary.compared).toBe(0);
    // GETs under the same session still get their baseline copy.
    await users(5);
    expect((await settled(s.session)).tally.secondary.compared).toBe(5);
  });

  it('a shadow that hangs never holds users up: they have every answer while the copies still wait; past maxInFlight, not copied', async () => {
    const p = await startMirrorProxy({
      listen: { host: '127.0.0.1', port: 0 },
      control: { host: '127.0.0.1', port: 0 },
      live: live.url,
      slots: { hangs: shadows.hangs!.url },
      maxInFlight: 8,
      copyTimeoutMs: 2000,
    });
    try {
      const c = createMirrorClient(egress as never, p.controlUrl);
      const s = session('hangs');
      await c.open(s);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${p.url}/items/${i}`).then((r) => r.status)));
      expect(answers.every((x) => x === 200)).toBe(true);
      // Every user has an answer, and not one copy has come back: users did not wait for them.
      expect((await c.read(s.session))!.tally.shadow.compared).toBe(0);
      expect(p.inFlight()).toBe(8);
      await expect.poll(() => p.inFlight(), { timeout: 5000 }).toBe(0);
      const { tally } = (await c.read(s.session))!;
      expect(tally.shadow).toMatchObject({ compared: 8, noAnswer: 8, errors: 8 });
      expect(tally.skipped.overloaded).toBe(12);
      expect(tally.samples[0]!.error).toMatch(/no answer within 2000 ms/);
    } finally {
      await p.close();
    }
  });

  it('a shadow that is down: users unaffected, the copies counted as no answer', async () => {
    const down = session('down');
    await client.open(down);
    expect((await users(3)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await settled(down.session)).tally.shadow).toMatchObject({ compared: 3, noAnswer: 3, errors: 3 });
  });

  it('stops copying when stopped, and by itself at expiresAt', async () => {
    const s = session('same');
    await client.open(s);
    await users(3);
    const stopped = await client.stop(s.session);
    expect(stopped).toMatchObject({ active: false, stopReason: 'stopped by Glidepath' });
    await users(3);
    expect((await settled(s.session)).tally.shadow.compared).toBe(3);
    // Opening a stopped session again is refused: a new step attempt has a new session.
    await expect(client.open(s)).rejects.toThrow(/409.*was stopped/);

    const brief = session('same', { expiresAt: new Date(Date.now() + 300).toISOString() });
    await client.open(brief);
    await users(2);
    await new Promise((r) => setTimeout(r, 350));
    await users(2);
    const view = await settled(brief.session);
    expect(view).toMatchObject({ active: false, stopReason: expect.stringMatching(/^expired at/) });
    expect(view.tally.shadow.compared).toBe(2);
  });

  it('opening the same session twice keeps its tally; a new session replaces the open one', async () => {
    const s = session('same');
    await client.open(s);
    await users(4);
    await settled(s.session);
    expect((await client.open(s)).tally.shadow.compared).toBe(4);
    const next = session('same');
    await client.open(next);
    expect(await client.read(s.session)).toMatchObject({ active: false, stopReason: `replaced by session ${next.session}` });
  });

  it('refuses bad input with a 4xx naming the field, and calls without the token', async () => {
    const bad = await fetch(`${proxy.controlUrl}/sessions/x`, {
      method: 'PUT',
      headers: { authorization: 'Bearer secret' },
      body: JSON.stringify({ slot: 'same', methods: ['GET', 'BREW'], ignoreFields: ['$.a..b'], sampleRate: 2, expiresAt: 'soon' }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { details: Array<{ path: string }> } };
    expect(body.error.details.map((d) => d.path)).toEqual(['methods[1]', 'ignoreFields[0]', 'sampleRate', 'expiresAt']);
    expect(proxy.active()).toBeNull();
    expect((await fetch(`${proxy.controlUrl}/sessions/x`)).status).toBe(401);
    expect(await client.read('never-opened')).toBeNull();
  });
});

// A live version that misbehaves mid-answer, for the proxy's own safety: /cut sends a first chunk then resets
// the connection, /stream sends a first chunk and the rest only after `restMs`, anything else answers at once.
async function startBrokenLive(restMs = 10_000) {
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    if (req.url === '/cut' || req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      const later = () => (req.url === '/cut' ? res.socket?.destroy() : res.end('1}'));
      const timer = setTimeout(later, req.url === '/cut' ? 200 : restMs);
      timers.add(timer);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
// A shadow that answers {"a":1} after `delayMs`.
async function startSlowShadow(delayMs: number) {
  const server = http.createServer((req, res) => void setTimeout(() => res.end('{"a":1}'), delayMs));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('mirroring proxy, when the live answer or the user goes away', () => {
  it('a live answer cut off mid-body while its copy is under way: the proxy stays up and serves and copies the next requests', async () => {
    const brokenLive = await startBrokenLive();
    const slow = await startSlowShadow(600);
    const p = await startMirrorProxy({
      listen: { host: '127.0.0.1', port: 0 },
      control: { host: '127.0.0.1', port: 0 },
      live: brokenLive.url,
      slots: { green: slow.url },
      copyTimeoutMs: 2000,
    });
    try {
      const c = createMirrorClient(egress as never, p.controlUrl);
      const s = session('green');
      await c.open(s);
      // The user's answer is cut off (its fetch fails); the copy is still waiting for the slow shadow.
      await expect(fetch(`${p.url}/cut`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text())).rejects.toThrow(/terminated/);
      await expect.poll(() => p.inFlight(), { timeout: 5000 }).toBe(0);
      for (let i = 0; i < 3; i++) expect(await (await fetch(`${p.url}/items/${i}`)).text()).toBe('{"a":1}');
      await expect.poll(() => p.inFlight(), { timeout: 5000 }).toBe(0);
      // The cut-off answer is not compared (nothing to compare with); the next three are.
      expect((await c.read(s.session))!.tally.shadow).toMatchObject({ compared: 3, differing: 0 });
    } finally {
      await p.close();
      await Promise.all([brokenLive.close(), slow.close()]);
    }
  });

  it('a user who leaves mid-answer frees its copy slot: with maxInFlight 1, the next request is still copied and compared', async () => {
    const streaming = await startBrokenLive(60_000);
    const slow = await startSlowShadow(100);
    const p = await startMirrorProxy({
      listen: { host: '127.0.0.1', port: 0 },
      control: { host: '127.0.0.1', port: 0 },
      live: streaming.url,
      slots: { green: slow.url },
      maxInFlight: 1,
      copyTimeoutMs: 1000,
    });
    try {
      const c = createMirrorClient(egress as never, p.controlUrl);
      const s = session('green');
      await c.open(s);
      // The user reads the first bytes of an answer whose rest comes in a minute, and leaves.
      await new Promise<void>((resolve) => {
        const req = http.get(`${p.url}/stream`, (res) => res.once('data', () => (req.destroy(), resolve())));
        req.on('error', () => {});
      });
      await expect.poll(() => p.inFlight(), { timeout: 5000 }).toBe(0);
      expect(await (await fetch(`${p.url}/items/1`)).text()).toBe('{"a":1}');
      await expect.poll(() => p.inFlight(), { timeout: 5000 }).toBe(0);
      const { tally } = (await c.read(s.session))!;
      expect(tally.skipped.overloaded).toBe(0);
      expect(tally.shadow).toMatchObject({ compared: 1, differing: 0 });
    } finally {
      await p.close();
      await Promise.all([streaming.close(), slow.close()]);
    }
  });
});

import type { TrafficTarget } from '@glidepath/core';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTrafficRouterContract } from '../contract/traffic-router.contract.ts';
import { createEgress } from '../network/egress.ts';
import { connectDirectly } from '../network/guarded-connect.ts';
import { parseRuntimeApiAddress, runtimeApiCommand } from './haproxy-runtime-api.ts';
import { parseGetWeightReply, serverWeightsFor } from './haproxy-weights.ts';
import { haproxyRouterProvider, type HaproxyConfig } from './haproxy.traffic-router.ts';
import { startHaproxyFixture, type HaproxyFixture } from './haproxy.testing.ts';

const target: TrafficTarget = {
  releaseId: 'rel-contract-haproxy',
  environmentId: 'env-contract',
  service: 'app',
  canary: { version: '1.1.0', digest: 'sha256:canary' },
  stable: { version: '1.0.0', digest: 'sha256:stable' },
};
const ctx = { effectKey: 'haproxy-test:1:0' };

// The fixtures' sockets live in temporary directories.
const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [tmpdir()] });

function router(config: HaproxyConfig) {
  const provider = haproxyRouterProvider();
  const check = provider.validateConfig(config);
  if (!check.ok) throw new Error(`haproxy config rejected: ${JSON.stringify(check.problems)}`);
  return provider.create(check.config, { egress });
}
const appConfig = (runtimeApi: string, extra: Partial<HaproxyConfig> = {}): HaproxyConfig => ({
  runtimeApi,
  backend: 'app',
  stableServer: 'stable',
  canaryServer: 'canary',
  ...extra,
});

describeTrafficRouterContract('haproxy (runtime API over a unix socket)', async () => {
  const haproxy = await startHaproxyFixture();
  return {
    router: router(appConfig(haproxy.unixApi)),
    target,
    observeWeight: () => haproxy.observeCanaryShare(400),
    teardown: () => haproxy.dispose(),
  };
});

describe('haproxy router against a real HAProxy', () => {
  let haproxy: HaproxyFixture;
  beforeAll(async () => {
    haproxy = await startHaproxyFixture();
  });
  afterAll(async () => {
    await haproxy?.dispose();
  });

  it('works over a tcp runtime API too', async () => {
    const r = router(appConfig(haproxy.tcpApi));
    await r.setWeight(target, 25, ctx);
    expect(await r.verifyWeight(target, 25)).toBe(true);
    expect(Math.abs((await haproxy.observeCanaryShare(400)) - 25)).toBeLessThanOrEqual(1);
    await r.rollback(target, ctx);
    expect(await haproxy.observeCanaryShare(200, 0)).toBe(0);
  });

  it('refuses a runtime API the network policy does not allow, before connecting to it', async () => {
    const before = await runtimeApiCommand(haproxy.unixApi, 'get weight app/canary', 1000, connectDirectly);
    const tcpPort = Number(haproxy.tcpApi.split(':').at(-1));
    const strict = createEgress({ allow: [], deny: [`localhost:${tcpPort}`], unixSocketDirs: [] });
    const create = (runtimeApi: string) => haproxyRouterProvider().create(appConfig(runtimeApi), { egress: strict });
    await expect(create(haproxy.unixApi).setWeight(target, 40, ctx)).rejects.toThrow(
      /refused by the network policy: HAProxy runtime API at unix:.*: unix socket .* is not under GLIDEPATH_EGRESS_UNIX_SOCKET_DIRS \(none set\)/,
    );
    await expect(create(haproxy.tcpApi).setWeight(target, 40, ctx)).rejects.toThrow(/is denied by GLIDEPATH_EGRESS_DENY \(localhost:\d+\)/);
    expect(await runtimeApiCommand(haproxy.unixApi, 'get weight app/canary', 1000, connectDirectly)).toBe(before);
  });

  it('surfaces a refused set weight with HAProxy’s own words', async () => {
    const wrong = router(appConfig(haproxy.unixApi, { canaryServer: 'nope' }));
    await expect(wrong.setWeight(target, 5, ctx)).rejects.toThrow(/set weight app\/nope 5.*No such server/);
    await expect(wrong.verifyWeight(target, 5)).rejects.toThrow(/No such server/);
    const noBackend = router(appConfig(haproxy.unixApi, { backend: 'nobe' }));
    await expect(noBackend.rollback(target, ctx)).rejects.toThrow(/No such backend/);
  });

  it('keeps working across an HAProxy restart, which forgets runtime weights', async () => {
    const r = router(appConfig(haproxy.unixApi));
    await r.setWeight(target, 25, ctx);
    expect(await r.verifyWeight(target, 25)).toBe(true);

    await haproxy.stop();
    await haproxy.start();
    // Back to the weights of the config file: what verifyWeight exists to notice.
    expect(await r.verifyWeight(target, 25)).toBe(false);
    expect(await r.verifyWeight(target, 0)).toBe(true);

    await r.setWeight(target, 25, ctx);
    expect(Math.abs((await haproxy.observeCanaryShare(400)) - 25)).toBeLessThanOrEqual(1);
  });

  it('fails fast and names the socket when HAProxy is down', async () => {
    const r = router(appConfig(haproxy.unixApi, { timeoutMs: 500 }));
    await haproxy.stop();
    try {
      const started = Date.now();
      const error = await r.rollback(target, ctx).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toContain(haproxy.unixApi);
      expect(error?.message).toMatch(/ECONNREFUSED|ENOENT/);
      expect(Date.now() - started).toBeLessThan(500);
      await expect(router(appConfig(haproxy.tcpApi, { timeoutMs: 500 })).setWeight(target, 5, ctx)).rejects.toThrow(haproxy.tcpApi);
    } finally {
      await haproxy.start();
    }
  });

  it('gives up after timeoutMs when the socket accepts but never answers', async () => {
    const path = join(haproxy.dir, 'silent.sock');
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    try {
      const started = Date.now();
      await expect(router(appConfig(`unix:${path}`, { timeoutMs: 200 })).setWeight(target, 5, ctx)).rejects.toThrow(new RegExp(`unix:${path}.*within 200 ms`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await rm(path, { force: true });
    }
  });

  it('with slots that alternate, takes the slot names as servers: the idle one gets the canary share, whichever it is', async () => {
    const r = router(appConfig(haproxy.tcpApi));
    const weight = async (server: string) =>
      parseGetWeightReply(await runtimeApiCommand(haproxy.unixApi, `get weight app/${server}`, 1000, connectDirectly))!.current;
    // The server configured as canary went live with the release before; this one deploys to the other.
    const swapped = { ...target, slots: { live: 'canary', idle: 'stable' } };
    await r.promote(target, ctx);
    await r.setWeight(swapped, 20, ctx);
    expect([await weight('stable'), await weight('canary')]).toEqual([20, 80]);
    expect(await r.verifyWeight(swapped, 20)).toBe(true);
    expect(Math.abs((await haproxy.observeCanaryShare(400)) - 80)).toBeLessThanOrEqual(1);
    await r.promote(swapped, ctx);
    expect([await weight('stable'), await weight('canary')]).toEqual([100, 0]);
    // Switched back after success: all traffic to the slot the release started from.
    await r.rollback(swapped, ctx);
    expect([await weight('stable'), await weight('canary')]).toEqual([0, 100]);
    await r.rollback(target, ctx);
  });

  it('changes nothing when asked for the weights already in place', async () => {
    const r = router(appConfig(haproxy.tcpApi));
    await r.setWeight(target, 5, ctx);
    await r.setWeight(target, 5, ctx);
    expect(await runtimeApiCommand(haproxy.unixApi, 'get weight app/canary', 1000, connectDirectly)).toMatch(/^5 \(initial 0\)/);
    expect(await runtimeApiCommand(haproxy.unixApi, 'get weight app/stable', 1000, connectDirectly)).toMatch(/^95 \(initial 100\)/);
  });
});

describe('haproxy router config', () => {
  const { validateConfig } = haproxyRouterProvider();

  it('accepts unix and tcp runtime API addresses', () => {
    expect(validateConfig(appConfig('unix:/run/haproxy/admin.sock')).ok).toBe(true);
    expect(validateConfig(appConfig('tcp:127.0.0.1:9999', { timeoutMs: 500 })).ok).toBe(true);
    expect(validateConfig(appConfig('tcp:[::1]:9999')).ok).toBe(true);
  });

  it.each([
    [{ ...appConfig('unix:/s.sock'), backend: 'app; shutdown sessions' }, 'backend'],
    [{ ...appConfig('unix:/s.sock'), canaryServer: 'stable' }, 'canaryServer'],
    [{ ...appConfig('unix:/s.sock'), extra: true }, '(config)'],
    [{ ...appConfig('unix:/s.sock'), timeoutMs: 0 }, 'timeoutMs'],
    [appConfig('/run/haproxy/admin.sock'), 'runtimeApi'],
    [appConfig('tcp:127.0.0.1:99999'), 'runtimeApi'],
    [{ runtimeApi: 'unix:/s.sock' }, 'backend'],
    // Both servers, or neither (an environment with instances names them).
    [{ runtimeApi: 'unix:/s.sock', backend: 'app', stableServer: 'stable' }, 'canaryServer'],
  ])('rejects %j at %s', (config, path) => {
    const check = validateConfig(config);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problems.map((p) => p.path)).toContain(path);
  });

  it('parses runtime API addresses', () => {
    expect(parseRuntimeApiAddress('unix:/a/b.sock')).toEqual({ kind: 'unix', path: '/a/b.sock' });
    expect(parseRuntimeApiAddress('tcp:[::1]:80')).toEqual({ kind: 'tcp', host: '::1', port: 80 });
    expect(() => parseRuntimeApiAddress('tcp:host')).toThrow(/unix:\/path/);
  });
});

describe('haproxy weights', () => {
  it.each([
    [0, 100, 0],
    [5, 95, 5],
    [100, 0, 100],
    [12.5, 87, 13],
    [0.2, 99, 1],
    [99.9, 1, 99],
  ])('canary share %d → weights stable %d, canary %d', (percent, stable, canary) => {
    expect(serverWeightsFor(percent)).toEqual({ stable, canary });
  });

  it('refuses weights outside 0–100', () => {
    expect(() => serverWeightsFor(-1)).toThrow(RangeError);
    expect(() => serverWeightsFor(Number.NaN)).toThrow(RangeError);
    expect(() => serverWeightsFor(101)).toThrow(RangeError);
  });

  it('reads get weight replies', () => {
    expect(parseGetWeightReply('5 (initial 0)\n\n')).toEqual({ current: 5, initial: 0 });
    expect(parseGetWeightReply('No such server.\n\n')).toBeNull();
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeployRequest } from '@glidepath/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../contract/deployer.contract.ts';
import { createEgress } from '../network/egress.ts';
import { noneDeployerProvider, type NoneDeployerConfig } from './none.deployer.ts';

// The contract suite needs a deployer that deploys; here CI does, so these tests stand in for it:
// ready at once without a health check, and with one, ready only once the slot serves the digest.

const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });
const none = (config: NoneDeployerConfig = {}) => {
  const provider = noneDeployerProvider();
  const check = provider.validateConfig(config);
  if (!check.ok) throw new Error(JSON.stringify(check.problems));
  return provider.create(check.config, { egress });
};
const request = (digestSeed: string, slot = 'blue'): DeployRequest => ({
  deploymentId: `none-${digestSeed}`,
  releaseId: 'rel-1',
  environmentId: 'env-1',
  slot,
  artifact: { service: 'checkout', version: '1.0.0', digest: digestOf(digestSeed) },
});

describe('none deployer', () => {
  /** What CI has put on each slot, served as the slot's health endpoint. */
  const served = new Map<string, string>();
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const slot = (req.url ?? '').split('/')[2] ?? '';
      const digest = served.get(slot);
      if (!digest) return void res.writeHead(503).end();
      res.writeHead(200, { 'x-glidepath-digest': digest }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const healthCheck = () => ({ url: `${base}/health/{slot}`, digestHeader: 'x-glidepath-digest', passes: 2, intervalMs: 50, timeoutMs: 700 });

  it('is ready at once with the asked digest when there is no health check', async () => {
    const asked = request('a');
    expect(await none().deploy(asked)).toMatchObject({ state: 'ready', digest: asked.artifact.digest });
  });

  it('waits for CI: ready once the slot serves the digest', async () => {
    const asked = request('ci-late', 'green');
    setTimeout(() => served.set('green', asked.artifact.digest), 200);
    const started = Date.now();
    expect(await none({ healthCheck: healthCheck() }).deploy(asked)).toMatchObject({ state: 'ready', digest: asked.artifact.digest });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('fails with the digest CI deployed instead, or when the slot never answers healthy', async () => {
    served.set('blue', digestOf('something else'));
    const wrong = await none({ healthCheck: healthCheck() }).deploy(request('asked'));
    expect(wrong).toMatchObject({ state: 'failed', reason: expect.stringContaining(`serving ${digestOf('something else')} (asked ${digestOf('asked')})`) });
    const never = await none({ healthCheck: healthCheck() }).deploy(request('nothing', 'empty'));
    expect(never).toMatchObject({ state: 'failed', reason: expect.stringMatching(/health check of slot empty .* last: HTTP 503/) });
  });

  it('keeps no record, removes nothing, and refuses bad requests as outcomes', async () => {
    const deployer = none();
    expect(await deployer.status({ slot: 'blue', deploymentId: 'x' })).toMatchObject({ state: 'unknown' });
    expect(await deployer.remove({ removalId: 'r1', releaseId: 'rel', environmentId: 'env', service: 's', slot: 'blue' })).toMatchObject({ state: 'removed' });
    expect(await deployer.deploy({ ...request('b'), slot: '../x' })).toMatchObject({ state: 'failed', reason: expect.stringMatching(/slot/) });
  });

  it('config: only a health check, which must name a URL', () => {
    const { validateConfig } = noneDeployerProvider();
    expect(validateConfig({}).ok).toBe(true);
    expect(validateConfig({ healthCheck: {} })).toMatchObject({ ok: false, problems: [{ path: 'healthCheck' }] });
    expect(validateConfig({ url: 'https://x' })).toMatchObject({ ok: false });
  });
});

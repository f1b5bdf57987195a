import { randomBytes } from 'node:crypto';
import type { DeployRequest } from '@glidepath/core';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDeployerContract, digestOf } from '../contract/deployer.contract.ts';
import { createEgress } from '../network/egress.ts';
import { webhookDeployerProvider, type WebhookDeployerConfig } from './webhook.deployer.ts';
import { judgeAnswers, type ReceiverAnswer } from './deployment-answers.ts';
import { startDeployReceiver, type DeployReceiver, type ReceiverMode } from './webhook.deployer.testing.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const egress = createEgress({ allow: [], deny: ['127.0.0.2'], unixSocketDirs: [] });
const fast = { requestTimeoutMs: 300, pollIntervalMs: 50, readyTimeoutMs: 3000 } satisfies Partial<WebhookDeployerConfig>;

function deployer(config: WebhookDeployerConfig) {
  const provider = webhookDeployerProvider();
  const check = provider.validateConfig(config);
  if (!check.ok) throw new Error(`webhook deployer config rejected: ${JSON.stringify(check.problems)}`);
  return provider.create(check.config, { egress });
}

const healthOf = (receiver: DeployReceiver, path = 'health') =>
  ({ url: `${receiver.base}/${path}/{slot}`, digestHeader: 'x-glidepath-digest', passes: 2, intervalMs: 50, timeoutMs: 1500 }) as const;

describeDeployerContract('webhook (signed, to a real HTTP receiver)', async () => {
  const receivers: DeployReceiver[] = [];
  const start = async (mode: ReceiverMode) => {
    const r = await startDeployReceiver(secret, { mode, slowSlot: 'slow', slowMs: 500 });
    receivers.push(r);
    return r;
  };
  const good = await start('good');
  const config: WebhookDeployerConfig = { url: good.url, secret, ...fast, healthCheck: healthOf(good) };
  return {
    deployer: deployer(config),
    replacement: async () => deployer(config),
    observe: async (slot) => good.observe(slot),
    performed: async (id) => good.performed(id),
    slowSlot: 'slow',
    misbehaving: {
      'never-answers': async () => deployer({ url: (await start('never-answers')).url, secret, ...fast, readyTimeoutMs: 1000 }),
      'answers-twice': async () => deployer({ url: (await start('answers-twice')).url, secret, ...fast }),
      'wrong-digest': async () => deployer({ url: (await start('wrong-digest')).url, secret, ...fast }),
      'never-healthy': async () => {
        const r = await start('good');
        return deployer({ url: r.url, secret, ...fast, healthCheck: healthOf(r, 'broken') });
      },
    },
    failWithinMs: 5000,
    teardown: async () => {
      await Promise.all(receivers.map((r) => r.close()));
    },
  };
});

const request = (slot = 'blue', id = `dep-${randomBytes(4).toString('hex')}`): DeployRequest => ({
  deploymentId: id,
  releaseId: 'rel-1',
  environmentId: 'env-1',
  slot,
  artifact: { service: 'checkout', version: '1.2.0', digest: digestOf(id) },
});

describe('webhook deployer', () => {
  const receivers: DeployReceiver[] = [];
  const receiver = async (mode: ReceiverMode = 'good') => {
    const r = await startDeployReceiver(secret, { mode, slowSlot: 'slow', slowMs: 300 });
    receivers.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  it('signs every request so the receiver verifies it: the deploy with its id, queries with fresh ids', async () => {
    const r = await receiver();
    const asked = request('slow');
    const outcome = await deployer({ url: r.url, secret, ...fast }).deploy(asked);
    expect(outcome.state).toBe('ready');
    expect(r.requests.every((q) => q.valid)).toBe(true);
    expect(r.requests[0]).toMatchObject({ id: asked.deploymentId, type: 'glidepath.deployment' });
    const queries = r.requests.slice(1);
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries.every((q) => q.type === 'glidepath.deployment.status' && q.id.startsWith('query_'))).toBe(true);
    expect(new Set(queries.map((q) => q.id)).size).toBe(queries.length);
  });

  it('fails at once when the receiver cannot verify the signature (another secret)', async () => {
    const r = await receiver();
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    const outcome = await deployer({ url: r.url, secret: other, ...fast }).deploy(request());
    expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/refused the deploy .*HTTP 401/) });
    expect(r.requests).toHaveLength(1);
    expect(r.performed(r.requests[0]!.id)).toBe(0);
  });

  it('reports the receiver’s first answer and the contradiction as evidence', async () => {
    const r = await receiver('answers-twice');
    const outcome = await deployer({ url: r.url, secret, ...fast }).deploy(request());
    expect(outcome.state).toBe('failed');
    if (outcome.state !== 'failed') return;
    expect(outcome.reason).toMatch(/first ready \(sha256:[0-9a-f]{64}\), then failed \(it was never there\)/);
    const calls = outcome.evidence.calls as { call: string; answer?: ReceiverAnswer }[];
    expect(calls.map((c) => [c.call, c.answer?.state])).toEqual([
      ['deploy', 'ready'],
      ['status', 'failed'],
    ]);
  });

  it('fails when the network policy refuses the receiver, without connecting', async () => {
    const r = await receiver();
    const outcome = await deployer({ url: r.url.replace('127.0.0.1', '127.0.0.2'), secret, ...fast }).deploy(request());
    expect(outcome).toMatchObject({ state: 'failed', reason: expect.stringMatching(/refused by the network policy: 127\.0\.0\.2:\d+ is denied/) });
    expect(r.requests).toHaveLength(0);
  });

  it('stops a slow receiver at the caller’s deadline', async () => {
    const r = await receiver('never-answers');
    const started = Date.now();
    const outcome = await deployer({ url: r.url, secret, ...fast, readyTimeoutMs: 60_000 }).deploy(request(), { deadline: Date.now() + 400 });
    expect(outcome.state).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('keeps the secret and the query string out of reasons and evidence', async () => {
    const r = await receiver('never-answers');
    const outcome = await deployer({ url: `${r.url}?token=abc`, secret, ...fast, readyTimeoutMs: 400 }).deploy(request());
    const text = JSON.stringify(outcome);
    expect(text).not.toContain('token=abc');
    expect(text).not.toContain(secret.slice('whsec_'.length));
  });

  it('status asks the receiver about one deployment or about a slot', async () => {
    const r = await receiver();
    const webhook = deployer({ url: r.url, secret, ...fast });
    const asked = request('green');
    await webhook.deploy(asked);
    expect(await webhook.status({ slot: 'green', deploymentId: asked.deploymentId })).toMatchObject({ state: 'ready', digest: asked.artifact.digest });
    expect(await webhook.status({ slot: 'green' })).toMatchObject({ state: 'ready', deploymentId: asked.deploymentId });
    expect(await webhook.status({ slot: 'nothing-here' })).toMatchObject({ state: 'unknown' });
  });

  it('config: a receiver URL and a Standard Webhooks secret, bounded timeouts, a health check with a URL', () => {
    const { validateConfig } = webhookDeployerProvider();
    expect(validateConfig({ url: 'https://deploy.example.com/hook', secret }).ok).toBe(true);
    for (const [config, path] of [
      [{ url: 'ftp://x/y', secret }, 'url'],
      [{ url: 'https://u:p@x/y', secret }, 'url'],
      [{ url: 'https://x/y', secret: 'plain' }, 'secret'],
      [{ url: 'https://x/y', secret, readyTimeoutMs: 10_000_000 }, 'readyTimeoutMs'],
      [{ url: 'https://x/y', secret, confirmations: 9 }, 'confirmations'],
      [{ url: 'https://x/y', secret, healthCheck: {} }, 'healthCheck'],
      [{ url: 'https://x/y', secret, healthCheck: { url: 'http://{slot}.internal/health' } }, 'healthCheck.url'],
      [{ url: 'https://x/y', secret, extra: 1 }, '(config)'],
    ] as const) {
      const check = validateConfig(config);
      expect(check.ok, JSON.stringify(config)).toBe(false);
      if (!check.ok) expect(check.problems.map((p) => p.path)).toContain(path);
    }
  });
});

describe('judgeAnswers', () => {
  const digest = digestOf('asked');
  const other = digestOf('other');
  const deploy = { action: 'deploy' as const, id: 'd1', digest };
  it.each<[string, ReceiverAnswer[], ReturnType<typeof judgeAnswers>]>([
    ['nothing yet', [], { verdict: 'pending' }],
    ['accepted', [{ state: 'pending' }], { verdict: 'pending' }],
    ['ready with the digest', [{ state: 'pending' }, { state: 'ready', digest }], { verdict: 'ready', digest }],
    [
      'ready and confirmed',
      [
        { state: 'ready', digest },
        { state: 'ready', digest, id: 'd1' },
      ],
      { verdict: 'ready', digest },
    ],
    ['another digest', [{ state: 'ready', digest: other }], { verdict: 'failed', reason: `the receiver reported digest ${other}, asked ${digest}` }],
    ['no digest', [{ state: 'ready' }], { verdict: 'failed', reason: `the receiver reported ready without a digest (asked ${digest})` }],
    ['failed', [{ state: 'failed', reason: 'disk full' }], { verdict: 'failed', reason: 'the receiver reported failure: disk full' }],
    [
      'ready then failed',
      [{ state: 'ready', digest }, { state: 'failed' }],
      { verdict: 'failed', reason: `contradictory answers from the receiver: first ready (${digest}), then failed (no reason given)` },
    ],
    [
      'ready then another digest',
      [
        { state: 'ready', digest },
        { state: 'ready', digest: other },
      ],
      { verdict: 'failed', reason: `contradictory answers from the receiver: first ready (${digest}), then ready (${other})` },
    ],
    [
      'ready then pending',
      [{ state: 'ready', digest }, { state: 'pending' }],
      { verdict: 'failed', reason: `contradictory answers from the receiver: first ready (${digest}), then pending` },
    ],
    [
      'failed then ready: the first stands, the second is a broken receiver',
      [
        { state: 'failed', reason: 'x' },
        { state: 'ready', digest },
      ],
      { verdict: 'failed', reason: `contradictory answers from the receiver: first failed (x), then ready (${digest})` },
    ],
    ['forgotten', [{ state: 'pending' }, { state: 'unknown' }], { verdict: 'failed', reason: 'the receiver no longer knows d1, which it accepted' }],
    ['about another id', [{ state: 'ready', digest, id: 'd2' }], { verdict: 'failed', reason: 'the receiver answered about d2 when asked about d1' }],
    ['removed to a deploy', [{ state: 'removed' }], { verdict: 'failed', reason: 'the receiver answered removed to a deploy' }],
  ])('%s', (_name, answers, verdict) => {
    expect(judgeAnswers(deploy, answers)).toEqual(verdict);
  });

  it('a removal ends removed, or fails on anything else', () => {
    expect(judgeAnswers({ action: 'remove', id: 'r1' }, [{ state: 'pending' }, { state: 'removed' }])).toEqual({ verdict: 'removed' });
    expect(judgeAnswers({ action: 'remove', id: 'r1' }, [{ state: 'ready', digest }])).toMatchObject({ verdict: 'failed' });
  });
});

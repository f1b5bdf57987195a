import type { TrafficTarget } from '@glidepath/core';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { describeTrafficRouterContract } from '../contract/traffic-router.contract.ts';
import { createEgress } from '../network/egress.ts';
import { signStandardWebhook, standardWebhookHeaders, verifyStandardWebhook } from './standard-webhooks.ts';
import { webhookRouterProvider, type DesiredTrafficState, type WebhookTargetConfig } from './webhook.traffic-router.ts';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const target: TrafficTarget = {
  releaseId: 'rel-contract-webhook',
  environmentId: 'env-contract',
  service: 'checkout',
  canary: { version: '1.1.0', digest: 'sha256:canary' },
  stable: { version: '1.0.0', digest: 'sha256:stable' },
};

type Reply = number | 'hang';

const egress = createEgress({ allow: [], deny: ['127.0.0.2'], unixSocketDirs: [] });

/** A receiver as a customer would write one: verify, de-duplicate by webhook-id, apply. */
async function startReceiver(replies: (attempt: number) => Reply = () => 204) {
  const state = { canaryWeight: 0, attempts: [] as { id: string; timestamp: string; valid: boolean }[], applied: [] as DesiredTrafficState[] };
  const seen = new Set<string>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyStandardWebhook(secret, req.headers, body);
      const id = String(req.headers['webhook-id']);
      state.attempts.push({ id, timestamp: String(req.headers['webhook-timestamp']), valid });
      if (!valid) return void res.writeHead(401).end();
      const reply = replies(state.attempts.length);
      if (reply === 'hang') return void hanging.add(res);
      if (reply >= 200 && reply < 300 && !seen.has(id)) {
        seen.add(id);
        const desired = JSON.parse(body) as DesiredTrafficState;
        state.applied.push(desired);
        state.canaryWeight = desired.weights.canary;
      }
      res.writeHead(reply).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/glidepath/traffic`,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function router(config: WebhookTargetConfig) {
  const provider = webhookRouterProvider();
  const check = provider.validateConfig(config);
  if (!check.ok) throw new Error(`webhook config rejected: ${JSON.stringify(check.problems)}`);
  return provider.create(check.config, { egress });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail, it reported success');
    },
    (error: Error) => error,
  );
}

describeTrafficRouterContract('webhook (signed, to a real HTTP receiver)', async () => {
  const receiver = await startReceiver();
  return {
    router: router({ url: receiver.url, secret }),
    target,
    observeWeight: async () => receiver.state.canaryWeight,
    teardown: receiver.close,
    tolerance: 0,
  };
});

describe('webhook router delivery', () => {
  const receivers: { close(): Promise<void> }[] = [];
  const receiver = async (replies?: (attempt: number) => Reply) => {
    const r = await startReceiver(replies);
    receivers.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  it('posts the whole desired state, signed, with the effect key as webhook-id', async () => {
    const r = await receiver();
    await router({ url: r.url, secret }).setWeight(target, 25, { effectKey: 'rel:3:0' });
    expect(r.state.attempts).toEqual([{ id: 'rel:3:0', timestamp: expect.stringMatching(/^\d+$/), valid: true }]);
    expect(r.state.applied).toEqual([
      {
        type: 'glidepath.traffic.desired-state',
        release: target.releaseId,
        environment: target.environmentId,
        service: target.service,
        stable: target.stable,
        canary: target.canary,
        weights: { stable: 75, canary: 25 },
        action: 'set-weight',
        effectKey: 'rel:3:0',
      },
    ]);
  });

  it('lets the receiver de-duplicate a re-applied effect', async () => {
    const r = await receiver();
    const webhook = router({ url: r.url, secret });
    await webhook.promote(target, { effectKey: 'rel:4:0' });
    await webhook.promote(target, { effectKey: 'rel:4:0' });
    expect(r.state.attempts.map((a) => a.id)).toEqual(['rel:4:0', 'rel:4:0']);
    expect(r.state.applied.map((a) => a.action)).toEqual(['promote']);
  });

  it('retries non-2xx answers and succeeds once the receiver takes it', async () => {
    const r = await receiver((attempt) => (attempt === 1 ? 503 : attempt === 2 ? 500 : 200));
    await router({ url: r.url, secret, retries: 3 }).setWeight(target, 5, { effectKey: 'rel:5:0' });
    expect(r.state.attempts).toHaveLength(3);
    expect(new Set(r.state.attempts.map((a) => a.id))).toEqual(new Set(['rel:5:0']));
    expect(r.state.canaryWeight).toBe(5);
  });

  it('fails the call when every attempt is refused, never reporting success', async () => {
    const r = await receiver(() => 500);
    const started = Date.now();
    const error = await rejection(router({ url: r.url, secret, retries: 2 }).rollback(target, { effectKey: 'rel:6:0' }));
    expect(error.message).toMatch(/did not accept rollback .* after 3 attempt\(s\): answered HTTP 500; answered HTTP 500; answered HTTP 500/);
    expect(r.state.attempts).toHaveLength(3);
    expect(r.state.applied).toHaveLength(0);
    // Backoff 100 then 200 ms between the three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('does not follow redirects: a 3xx is a failure', async () => {
    const r = await receiver(() => 307);
    const error = await rejection(router({ url: r.url, secret, retries: 0 }).setWeight(target, 5, { effectKey: 'rel:7:0' }));
    expect(error.message).toMatch(/HTTP 307/);
  });

  it('gives up on a receiver that never answers within timeout × (retries + 1) plus backoff', async () => {
    const r = await receiver(() => 'hang');
    const started = Date.now();
    const error = await rejection(router({ url: r.url, secret, timeoutMs: 200, retries: 2 }).setWeight(target, 50, { effectKey: 'rel:8:0' }));
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(/after 3 attempt\(s\): no answer within 200 ms; no answer within 200 ms; no answer within 200 ms/);
    expect(r.state.attempts).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 200 + 100 + 200 - 20);
    expect(elapsed).toBeLessThan(3 * 200 + 100 + 200 + 1500);
  });

  it('fails at once, without connecting or retrying, when the network policy refuses the receiver', async () => {
    const denied = await startReceiver();
    receivers.push(denied);
    const error = await rejection(router({ url: denied.url.replace('127.0.0.1', '127.0.0.2'), secret, retries: 3 }).promote(target, { effectKey: 'rel:13:0' }));
    expect(error.message).toMatch(/after 1 attempt\(s\): refused by the network policy: 127\.0\.0\.2:\d+ is denied by GLIDEPATH_EGRESS_DENY/);
    expect(denied.state.attempts).toHaveLength(0);
    const metadata = await rejection(router({ url: 'http://169.254.169.254/traffic', secret, retries: 3 }).promote(target, { effectKey: 'rel:13:1' }));
    expect(metadata.message).toMatch(/after 1 attempt\(s\): refused by the network policy: 169\.254\.169\.254:80 is link-local/);
  });

  it('fails clearly when nothing listens', async () => {
    const r = await receiver();
    await r.close();
    const error = await rejection(router({ url: r.url, secret, retries: 1 }).setWeight(target, 5, { effectKey: 'rel:9:0' }));
    expect(error.message).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+\/glidepath\/traffic did not accept .*ECONNREFUSED/);
  });

  it('aborts deliveries in flight when closed, and fails them', async () => {
    const r = await receiver(() => 'hang');
    const webhook = router({ url: r.url, secret, timeoutMs: 10_000 });
    const pending = rejection(webhook.setWeight(target, 5, { effectKey: 'rel:10:0' }));
    await expect.poll(() => r.state.attempts.length).toBe(1);
    await webhook.close();
    const error = await pending;
    expect(error.message).toMatch(/router closed/);
  });

  it('never shows the secret in an error message or a config problem', async () => {
    const refusing = await receiver(() => 500);
    const silent = await receiver(() => 'hang');
    const gone = await startReceiver();
    await gone.close();
    const fast = { secret, retries: 1, timeoutMs: 100 };
    const errors = await Promise.all([
      rejection(router({ ...fast, url: refusing.url }).setWeight(target, 5, { effectKey: 'rel:12:0' })),
      rejection(router({ ...fast, url: silent.url }).promote(target, { effectKey: 'rel:12:1' })),
      rejection(router({ ...fast, url: gone.url }).rollback(target, { effectKey: 'rel:12:2' })),
    ]);
    const check = webhookRouterProvider().validateConfig({ url: 'ftp://x', secret: `${secret}!`, extra: secret });
    expect(check.ok).toBe(false);
    const key = secret.slice('whsec_'.length);
    for (const text of [...errors.map((e) => `${e.message}\n${e.stack ?? ''}`), JSON.stringify(check)]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    }
  });

  it('leaves the query string (where receivers put tokens) out of error messages', async () => {
    const r = await receiver(() => 500);
    const error = await rejection(router({ url: `${r.url}?token=abc`, secret, retries: 0 }).rollback(target, { effectKey: 'rel:11:0' }));
    expect(error.message).toContain(r.url);
    expect(error.message).not.toContain('token=abc');
  });
});

describe('webhook router config', () => {
  const { validateConfig } = webhookRouterProvider();
  it('accepts http and https urls with a Standard Webhooks secret', () => {
    expect(validateConfig({ url: 'https://hooks.example.com/traffic', secret }).ok).toBe(true);
    expect(validateConfig({ url: 'http://127.0.0.1:8080/x', secret, timeoutMs: 1000, retries: 0 }).ok).toBe(true);
  });
  it.each([
    [{ url: 'ftp://example.com/x', secret }, 'url'],
    [{ url: 'https://user:pass@example.com/x', secret }, 'url'],
    [{ url: 'https://example.com/x', secret: 'plain-text-secret' }, 'secret'],
    [{ url: 'https://example.com/x', secret: 'whsec_c2hvcnQ=' }, 'secret'],
    [{ url: 'https://example.com/x', secret, retries: -1 }, 'retries'],
    [{ url: 'https://example.com/x', secret, timeoutMs: 0 }, 'timeoutMs'],
    [{ url: 'https://example.com/x', secret, extra: 1 }, '(config)'],
  ])('rejects case %# at %s', (config, path) => {
    const check = validateConfig(config);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problems.map((p) => p.path)).toContain(path);
  });
});

describe('verifyStandardWebhook', () => {
  const body = JSON.stringify({ type: 'glidepath.traffic.desired-state', weights: { stable: 95, canary: 5 } });
  const now = Date.parse('2026-11-23T10:00:00Z');
  const headers = standardWebhookHeaders(secret, 'msg_1', body, now);

  it('accepts what was signed', () => {
    expect(verifyStandardWebhook(secret, headers, body, { now })).toBe(true);
    expect(verifyStandardWebhook(secret, new Headers(headers), Buffer.from(body), { now })).toBe(true);
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the standard-webhooks reference libraries' tests.
    const sig = signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('rejects a tampered body, id or timestamp', () => {
    expect(verifyStandardWebhook(secret, headers, body.replace('"canary":5', '"canary":50'), { now })).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-id': 'msg_2' }, body, { now })).toBe(false);
    const ts = Number(headers['webhook-timestamp']) + 1;
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-timestamp': String(ts) }, body, { now })).toBe(false);
  });

  it('rejects another secret, a missing or malformed signature', () => {
    expect(verifyStandardWebhook(`whsec_${randomBytes(32).toString('base64')}`, headers, body, { now })).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-signature': undefined }, body, { now })).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-signature': 'v1,' }, body, { now })).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-signature': headers['webhook-signature']!.replace('v1,', 'v2,') }, body, { now })).toBe(false);
  });

  it('rejects timestamps more than 5 minutes away, either way', () => {
    expect(verifyStandardWebhook(secret, headers, body, { now: now + 5 * 60_000 })).toBe(true);
    expect(verifyStandardWebhook(secret, headers, body, { now: now + 5 * 60_000 + 1000 })).toBe(false);
    expect(verifyStandardWebhook(secret, headers, body, { now: now - 5 * 60_000 - 1000 })).toBe(false);
  });

  it('accepts any one of several space-separated signatures (secret rotation)', () => {
    const other = signStandardWebhook(`whsec_${randomBytes(32).toString('base64')}`, 'msg_1', Number(headers['webhook-timestamp']), body);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` }, body, { now })).toBe(true);
  });

  it('makes a receiver refuse a tampered delivery', async () => {
    const r = await startReceiver();
    try {
      const signed = standardWebhookHeaders(secret, 'msg_tampered', body);
      const response = await fetch(r.url, { method: 'POST', headers: signed, body: body.replace('"canary":5', '"canary":100') });
      expect(response.status).toBe(401);
      expect(r.state.applied).toHaveLength(0);
    } finally {
      await r.close();
    }
  });
});

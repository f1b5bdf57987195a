import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendAuditEvent, createSecretBox, DEVELOPMENT_SECRETS_KEY, insertSubscription, rotateSubscriptionSecret } from '@glidepath/db';
import { createEgress, verifyStandardWebhook } from '@glidepath/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWebhookGate } from '../releases/gates/webhook.gate.ts';
import { startTestWorker } from '../testing/test-worker.ts';
import type { RunningWorker } from '../worker.ts';

// A real worker and a real HTTP receiver that checks every signature and logs what it got.
let worker: RunningWorker;
let stop: () => Promise<void>;
const box = createSecretBox(DEVELOPMENT_SECRETS_KEY);
const secret = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  id: string;
  type: string;
  seq: string;
  signatures: string;
  body: string;
  timestamp: string;
}

function startReceiver() {
  const log: Received[] = [];
  let server: Server;
  let port = 0;
  const listen = (p: number) =>
    new Promise<number>((resolve) => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          if (!verifyStandardWebhook(secret, req.headers, body)) {
            res.statusCode = 401;
            return res.end();
          }
          const event = JSON.parse(body) as { type: string; data: { event: { seq: string } } };
          log.push({
            id: String(req.headers['webhook-id']),
            type: event.type,
            seq: event.data.event.seq,
            signatures: String(req.headers['webhook-signature']),
            body,
            timestamp: String(req.headers['webhook-timestamp']),
          });
          res.end('ok');
        });
      }).listen(p, '127.0.0.1', () => resolve((port = (server.address() as AddressInfo).port)));
    });
  return {
    log,
    listen,
    down: () => new Promise<void>((resolve) => server.close(() => resolve()) && server.closeAllConnections()),
    port: () => port,
  };
}

let seq = 0;
async function event(action = 'release.paused') {
  seq++;
  await worker.prisma.$transaction((tx) =>
    appendAuditEvent(tx, { actor: { type: 'system', id: 'test' }, action, subject: { type: 'release', id: `r-${seq}` } }),
  );
}

beforeAll(async () => {
  ({ worker, stop } = await startTestWorker({ GLIDEPATH_WEBHOOK_POLL_MS: '100', GLIDEPATH_WEBHOOK_RETRY_BASE_MS: '100', GLIDEPATH_EGRESS_DENY: '127.0.0.2' }));
});
afterAll(() => stop());

describe('outbound event webhooks', () => {
  it('delivers every event once and in order to a receiver that was down for a while, and logs each attempt', async () => {
    const receiver = startReceiver();
    const url = `http://127.0.0.1:${await receiver.listen(0)}/hooks`;
    const subscription = await worker.prisma.$transaction((tx) =>
      insertSubscription(tx, { url, events: ['release.*'], serviceId: null, environmentId: null, description: null }, box.seal(secret), 'test'),
    );
    for (let i = 0; i < 5; i++) await event();
    await event('service.created'); // not subscribed
    await expect.poll(() => receiver.log.length, { timeout: 15_000 }).toBe(5);

    await receiver.down();
    for (let i = 0; i < 20; i++) await event(i % 2 ? 'release.resumed' : 'release.paused');
    // Down long enough for several failed attempts (first retry after 100 ms, doubling).
    await expect.poll(async () => worker.prisma.webhookAttempt.count({ where: { statusCode: null } }), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    await receiver.listen(receiver.port());

    await expect.poll(() => receiver.log.length, { timeout: 30_000 }).toBe(25);
    await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
    expect(receiver.log).toHaveLength(25);
    expect(new Set(receiver.log.map((r) => r.id)).size).toBe(25);
    const seqs = receiver.log.map((r) => Number(r.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(receiver.log.every((r) => r.type.startsWith('release.'))).toBe(true);

    const deliveries = await worker.prisma.webhookDelivery.findMany({ where: { subscriptionId: subscription.id }, include: { log: true } });
    expect(deliveries).toHaveLength(25);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    const failedOne = deliveries.find((d) => d.log.some((a) => a.statusCode === null))!;
    expect(failedOne.log.at(-1)).toMatchObject({ statusCode: 200 });
    expect(failedOne.log[0]!.error).toMatch(/ECONNREFUSED|fetch failed/);
    await receiver.down();
  });

  it('signs with the old and the new secret while a rotation overlaps', async () => {
    const receiver = startReceiver();
    const url = `http://127.0.0.1:${await receiver.listen(0)}/hooks`;
    const newSecret = `whsec_${randomBytes(32).toString('base64')}`;
    await worker.prisma.$transaction(async (tx) => {
      await tx.webhookSubscription.updateMany({ data: { active: false } });
      const s = await insertSubscription(
        tx,
        { url, events: ['release.aborted'], serviceId: null, environmentId: null, description: null },
        box.seal(secret),
        'test',
      );
      await rotateSubscriptionSecret(tx, s, box.seal(newSecret), new Date(Date.now() + 60_000));
    });
    await event('release.aborted');
    await expect.poll(() => receiver.log.length, { timeout: 15_000 }).toBe(1);
    const [got] = receiver.log;
    expect(got!.signatures.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': got!.id, 'webhook-timestamp': got!.timestamp, 'webhook-signature': got!.signatures };
    expect(verifyStandardWebhook(newSecret, headers, got!.body)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, got!.body)).toBe(true);
    // The secret itself is stored sealed, never in clear.
    const stored = await worker.prisma.webhookSubscription.findFirstOrThrow({ where: { url } });
    expect(stored.secretCiphertext).not.toContain(newSecret.slice(6, 20));
    expect(box.open(stored.secretCiphertext)).toBe(newSecret);
    await receiver.down();
  });
});

describe('deliveries through the network policy', () => {
  it('a delivery the policy refuses fails with the reason, and the receiver never sees a connection', async () => {
    let connections = 0;
    const server = createServer((_req, res) => res.end('ok')).on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
    const url = `http://127.0.0.2:${(server.address() as AddressInfo).port}/hooks`;
    // Stored directly: the API would refuse it at registration, a policy change can deny it later.
    const subscription = await worker.prisma.$transaction(async (tx) => {
      await tx.webhookSubscription.updateMany({ data: { active: false } });
      return insertSubscription(tx, { url, events: ['release.halted'], serviceId: null, environmentId: null, description: null }, box.seal(secret), 'test');
    });
    await event('release.halted');
    const ofSubscription = { where: { delivery: { subscriptionId: subscription.id } } };
    await expect.poll(() => worker.prisma.webhookAttempt.count(ofSubscription), { timeout: 15_000 }).toBeGreaterThan(0);
    const attempt = await worker.prisma.webhookAttempt.findFirstOrThrow(ofSubscription);
    expect(attempt.statusCode).toBeNull();
    expect(attempt.error).toMatch(/^refused by the network policy: 127\.0\.0\.2:\d+ is denied by GLIDEPATH_EGRESS_DENY \(127\.0\.0\.2\)$/);
    expect(connections).toBe(0);
    await worker.prisma.webhookSubscription.update({ where: { id: subscription.id }, data: { active: false } });
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('the webhook gate', () => {
  it('signs its requests as Standard Webhooks, with the same id on every retry', async () => {
    const seen: Array<{ ok: boolean; id: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ ok: verifyStandardWebhook(secret, req.headers, body), id: String(req.headers['webhook-id']) });
        res.statusCode = seen.length === 1 ? 503 : 200;
        res.end(JSON.stringify({ verdict: 'pass' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`;
    const egress = createEgress({ allow: [], deny: [], unixSocketDirs: [] });
    const result = await runWebhookGate(
      egress,
      { type: 'webhook', url, timeoutMs: 2000, retries: 2 },
      { release: { id: 'r1' } },
      { secret, id: 'gate_r1_2_0' },
    );
    server.close();
    expect(result.outcome).toBe('pass');
    expect(seen).toEqual([
      { ok: true, id: 'gate_r1_2_0' },
      { ok: true, id: 'gate_r1_2_0' },
    ]);
  });
});

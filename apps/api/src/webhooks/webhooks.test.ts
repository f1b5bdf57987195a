import { createSecretBox, DEVELOPMENT_SECRETS_KEY } from '@glidepath/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
const box = createSecretBox(DEVELOPMENT_SECRETS_KEY);

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = t.admin) {
  const res = await t.app.inject({ method, url: `/api/v1${url}`, headers, payload: payload as object });
  return {
    status: res.statusCode,
    body: (res.body ? res.json() : null) as Record<string, unknown> & { error?: { message: string; details?: Array<{ field: string }> } },
  };
}

beforeAll(async () => {
  t = await createTestApp();
  await call('POST', '/services', { name: 'checkout' });
  await call('POST', '/environments', { service: 'checkout', name: 'prod', position: 0, target: { type: 'recording', config: {} } });
});
afterAll(() => t.close());

describe('webhook subscriptions', () => {
  it('shows the signing secret once, stores it sealed, and never returns it again', async () => {
    const created = await call('POST', '/webhooks', {
      url: 'https://chat.example.com/hooks',
      events: ['release.rolled-back', 'audit.*'],
      service: 'checkout',
      environment: 'prod',
    });
    expect(created.status).toBe(201);
    const { subscription, secret } = created.body as { subscription: { id: string; serviceId: string; environmentId: string }; secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(subscription.serviceId).toBeTruthy();
    expect(subscription.environmentId).toBeTruthy();

    const row = await t.prisma.webhookSubscription.findUniqueOrThrow({ where: { id: subscription.id } });
    expect(row.secretCiphertext).not.toContain(secret.slice(6));
    expect(box.open(row.secretCiphertext)).toBe(secret);
    for (const reply of [await call('GET', '/webhooks'), await call('GET', `/webhooks/${subscription.id}`)]) {
      expect(JSON.stringify(reply.body)).not.toContain(secret.slice(6, 30));
      expect(JSON.stringify(reply.body)).not.toContain('ciphertext');
    }

    const rotated = await call('POST', `/webhooks/${subscription.id}/rotate-secret`, { overlapMinutes: 60 });
    expect(rotated.status).toBe(200);
    expect((rotated.body.secret as string) !== secret).toBe(true);
    expect(rotated.body.subscription).toMatchObject({ previousSecretExpiresAt: expect.any(String) });
    const audit = await t.prisma.auditEvent.findMany({ where: { subjectType: 'webhook' }, orderBy: { seq: 'asc' } });
    expect(audit.map((e) => e.action)).toEqual(['webhook.created', 'webhook.secret-rotated']);
    expect(JSON.stringify(audit.map((e) => [e.before, e.after, e.payload]))).not.toContain(secret.slice(6, 30));
  });

  it('refuses what cannot be delivered, naming the field, and changes nothing', async () => {
    const before = await t.prisma.webhookSubscription.count();
    const notHttp = await call('POST', '/webhooks', { url: 'ftp://files.example.com/x', events: ['*'] });
    expect(notHttp.status).toBe(400);
    expect(notHttp.body.error!.details!.map((d) => d.field)).toContain('body.url');
    const badEvent = await call('POST', '/webhooks', { url: 'https://x.example.com', events: ['Release Rolled Back'] });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.error!.details!.map((d) => d.field)).toContain('body.events.0');
    const noEvents = await call('POST', '/webhooks', { url: 'https://x.example.com', events: [] });
    expect(noEvents.status).toBe(400);
    const unknownService = await call('POST', '/webhooks', { url: 'https://x.example.com', events: ['*'], service: 'nope' });
    expect(unknownService.status).toBe(404);
    expect(unknownService.body.error!.message).toContain('body.service');
    const envWithoutService = await call('POST', '/webhooks', { url: 'https://x.example.com', events: ['*'], environment: 'prod' });
    expect(envWithoutService.status).toBe(400);
    expect(await t.prisma.webhookSubscription.count()).toBe(before);
  });

  it('pauses, lists deliveries and redelivers; deployers may not manage webhooks', async () => {
    const { body } = await call('POST', '/webhooks', { url: 'https://ops.example.com/in', events: ['*'] });
    const id = (body.subscription as { id: string }).id;
    expect((await call('PATCH', `/webhooks/${id}`, { active: false })).body).toMatchObject({ active: false });
    await t.prisma.webhookDelivery.create({
      data: {
        id: '22222222-2222-4222-8222-222222222222',
        subscriptionId: id,
        auditSeq: 7n,
        eventType: 'release.paused',
        orderingKey: 'global',
        payload: {},
        status: 'failed',
        attempts: 30,
      },
    });
    const log = await call('GET', `/webhooks/${id}/deliveries`);
    expect(log.body.items).toMatchObject([{ id: '22222222-2222-4222-8222-222222222222', status: 'failed', attempts: 30, log: [] }]);
    expect((await call('POST', '/webhooks/deliveries/22222222-2222-4222-8222-222222222222/redeliver')).status).toBe(202);
    expect((await call('GET', `/webhooks/${id}/deliveries`)).body.items).toMatchObject([{ status: 'pending' }]);
    const asDeployer = await call('GET', '/webhooks', undefined, { authorization: `Bearer ${t.deployerToken}` });
    expect(asDeployer.status).toBe(403);
    expect((await call('DELETE', `/webhooks/${id}`)).status).toBe(204);
    expect((await call('GET', `/webhooks/${id}`)).status).toBe(404);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('services', () => {
  it('creates, reads and updates a service, auditing each change with before and after', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/services',
      payload: { name: 'checkout-api', owners: ['payments'] },
      headers: { ...t.admin },
    });
    expect(created.statusCode).toBe(201);
    const service = created.json() as { id: string };
    const updated = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/services/${service.id}`,
      payload: { description: 'Checkout', reason: 'documenting' },
      headers: { ...t.admin },
    });
    expect(updated.json()).toMatchObject({ name: 'checkout-api', description: 'Checkout', owners: ['payments'] });
    const { items } = (await t.app.inject({ url: `/api/v1/audit?subjectId=${service.id}`, headers: t.admin })).json() as {
      items: Array<{ action: string; before: unknown; after: unknown; reason: string | null }>;
    };
    expect(items.map((e) => e.action)).toEqual(['service.updated', 'service.created']);
    expect(items[0]).toMatchObject({ before: { description: null }, after: { description: 'Checkout' }, reason: 'documenting' });
    expect((await t.app.inject({ url: `/api/v1/services/${service.id}`, headers: t.admin })).json()).toMatchObject({ description: 'Checkout' });
  });

  it('refuses a duplicate name with 409 and changes nothing', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'dup' }, headers: { ...t.admin } });
    const before = await t.prisma.auditEvent.count();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/services', payload: { name: 'dup' }, headers: { ...t.admin } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'conflict', message: 'a service named "dup" already exists' } });
    expect(await t.prisma.auditEvent.count()).toBe(before);
  });

  it('rejects bad input naming each field, and unknown ids with 404', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/services',
      payload: { name: 'Not OK', owners: [''], colour: 'red' },
      headers: { ...t.admin },
    });
    expect(res.statusCode).toBe(400);
    const fields = (res.json() as { error: { details: Array<{ field: string }> } }).error.details.map((d) => d.field).sort();
    expect(fields).toEqual(['body.colour', 'body.name', 'body.owners.0']);
    const missing = await t.app.inject({ url: '/api/v1/services/00000000-0000-4000-8000-000000000000', headers: t.admin });
    expect(missing.statusCode).toBe(404);
    expect((await t.app.inject({ url: '/api/v1/services/not-a-uuid', headers: t.admin })).statusCode).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A canary at 10% with one analysis of the default 10 minutes, for a service of `requestsPerSecond`. */
const spec = (traffic?: { requestsPerSecond: number }) => ({
  strategy: 'canary',
  steps: [{ type: 'setWeight', weight: 10 }, { type: 'analysis' }, { type: 'setWeight', weight: 100 }],
  ...(traffic ? { traffic } : {}),
});

describe('plans: warnings about the traffic a plan expects', () => {
  it('saves a plan whose analysis is too short for its traffic, and says so in the reply only', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/plans',
      payload: { name: 'quiet', spec: spec({ requestsPerSecond: 2 }) },
      headers: t.admin,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      version: 1,
      warnings: [{ path: 'steps[1].maxDuration', message: expect.stringMatching(/^10 min is too short for a verdict .* 500 requests a pass needs/) }],
    });
    const updated = await t.app.inject({ method: 'PUT', url: '/api/v1/plans/quiet', payload: { spec: spec({ requestsPerSecond: 2000 }) }, headers: t.admin });
    expect(updated.statusCode).toBe(201);
    expect(updated.json()).not.toHaveProperty('warnings');
    const read = await t.app.inject({ url: '/api/v1/plans/quiet?version=1', headers: t.admin });
    expect(read.json()).not.toHaveProperty('warnings');
    expect(read.json()).toMatchObject({ spec: { traffic: { requestsPerSecond: 2 } } });
  });

  it('has no warnings without traffic, and refuses traffic it cannot read, naming the field', async () => {
    const plain = await t.app.inject({ method: 'POST', url: '/api/v1/plans', payload: { name: 'plain', spec: spec() }, headers: t.admin });
    expect(plain.statusCode).toBe(201);
    expect(plain.json()).not.toHaveProperty('warnings');
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/plans', payload: { name: 'bad', spec: spec({ requestsPerSecond: -1 }) }, headers: t.admin });
    expect(bad.statusCode).toBe(422);
    expect(JSON.stringify(bad.json())).toContain('traffic.requestsPerSecond');
  });
});

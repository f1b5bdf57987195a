import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, digest, reply } from '../testing/api-client.ts';
import { createTestApp } from '../testing/test-app.ts';

let t: Awaited<ReturnType<typeof createTestApp>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t.app, t.adminToken);
  expect((await reply(api.POST('/api/v1/services', { body: { name: 'model' } }))).status).toBe(201);
});
afterAll(() => t.close());

describe('artifact links (buildUrl, metadata.modelCard) are http(s): people follow them from the dashboard', () => {
  let n = 0;
  const register = (links: { buildUrl?: string; modelCard?: string }) =>
    reply(
      api.POST('/api/v1/artifacts', {
        body: {
          service: 'model',
          version: `1.0.${n++}`,
          digest: digest(String(n % 10)),
          ...(links.buildUrl !== undefined ? { buildUrl: links.buildUrl } : {}),
          ...(links.modelCard !== undefined ? { metadata: { modelVersion: 'm-1', modelCard: links.modelCard } } : {}),
        },
      }),
    );

  it.each([
    ['javascript:alert(document.cookie)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['file:///etc/passwd'],
    ['ftp://builds.example/1'],
    ['http://'],
    ['https:///no-host'],
    ['https://ci.example/build 1'],
  ])('refuses %s with a 400 naming the field, and stores nothing', async (link) => {
    const before = await t.prisma.artifact.count();
    const build = await register({ buildUrl: link });
    expect(build.status).toBe(400);
    expect(build.body.error!.details).toEqual([{ field: 'body.buildUrl', problem: expect.any(String) }]);
    const card = await register({ modelCard: link });
    expect(card.status).toBe(400);
    expect(card.body.error!.details).toEqual([{ field: 'body.metadata.modelCard', problem: expect.any(String) }]);
    expect(await t.prisma.artifact.count()).toBe(before);
  });

  it('accepts http and https links with a host', async () => {
    const ok = await register({ buildUrl: 'https://ci.example/job/42?attempt=2#log', modelCard: 'http://models.example/cards/m-1' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ buildUrl: 'https://ci.example/job/42?attempt=2#log', metadata: { modelCard: 'http://models.example/cards/m-1' } });
  });
});

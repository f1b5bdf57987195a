import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Schemas } from '@glidepath/client';
import { expect, ok, test } from '../fixtures.ts';

// A rolling release on instances, rolling back after its second batch failed: the page says which
// batch it reached, what each instance runs, which serve, each one's deploy, and what was not put back.

const screenshot = fileURLToPath(new URL('../test-results/release-detail-rolling.png', import.meta.url));

test('the release page shows a rolling release batch by batch, instance by instance, and its rollback', async ({ page, api }) => {
  const suffix = randomBytes(4).toString('hex');
  const service = `web-shop-${suffix}`;
  await ok(api.POST('/api/v1/services', { body: { name: service, description: 'e2e rolling release', owners: ['team-web'] } }), 'service');
  const environment = await ok(
    api.POST('/api/v1/environments', {
      body: {
        service,
        name: 'prod',
        position: 0,
        target: { type: 'recording', config: {} },
        deployer: { type: 'none', config: {} },
        instances: ['web-1', 'web-2', 'web-3', 'web-4'],
      },
    }),
    'environment',
  );
  expect(environment.instances).toEqual(['web-1', 'web-2', 'web-3', 'web-4']);
  await ok(api.POST('/api/v1/plans', { body: { name: `rolling-${suffix}`, spec: { strategy: 'rolling', batches: [25, 50, 100], interval: '1m' } } }), 'plan');
  const digest = `sha256:${randomBytes(32).toString('hex')}`;
  await ok(api.POST('/api/v1/artifacts', { body: { service, version: '2.4.0', digest } }), 'artifact');
  const release = await ok(
    api.POST('/api/v1/releases', { body: { service, environment: 'prod', version: '2.4.0', plan: `rolling-${suffix}`, reason: 'e2e' } }),
    'release',
  );
  // The reply as the API gives it before any worker ran: instances, batches, what each ran before.
  expect(release.rolling).toMatchObject({ batch: 0, batches: 3, replaced: 0, rollback: null });
  expect(release.rolling!.instances.map((i) => i.batch)).toEqual([1, 2, 3, 3]);

  // No worker runs here: graft the state a worker leaves mid-rollback onto the real reply.
  const old = `sha256:${'b'.repeat(64)}`;
  const rolling: NonNullable<Schemas['Release']['rolling']> = {
    batch: 2,
    batches: 3,
    replaced: 1,
    instances: [
      { name: 'web-1', batch: 1, digest, previousDigest: old, inRotation: false, deploy: { direction: 'back', attempt: 2, status: 'running', reason: null } },
      {
        name: 'web-2',
        batch: 2,
        digest: null,
        previousDigest: old,
        inRotation: false,
        deploy: { direction: 'forward', attempt: 1, status: 'failed', reason: 'failed: health check never passed within 120 s (503)' },
      },
      { name: 'web-3', batch: 3, digest: old, previousDigest: old, inRotation: true, deploy: null },
      { name: 'web-4', batch: 3, digest: old, previousDigest: old, inRotation: true, deploy: null },
    ],
    rollback: {
      reason: 'automatic rollback: batch 2 of 3: the deploy to instance web-2 failed: health check never passed within 120 s (503)',
      done: false,
      notRestored: [],
    },
  };
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.route(`**/api/v1/releases/${release.id}`, async (route) => {
    const reply = await route.fetch();
    const json = (await reply.json()) as Record<string, unknown>;
    await route.fulfill({
      response: reply,
      json: { ...json, phase: 'progressing', stepIndex: 2, canaryWeight: 25, reason: `rolling back: ${rolling.rollback!.reason}`, rolling },
    });
  });
  await page.goto(`/releases/${release.id}`);

  const card = page.getByTestId('release-instances');
  await expect(card.getByTestId('rolling-progress')).toHaveText('Batch 2 of 3 · 1 of 4 instances on version 2.4.0');
  await expect(card.getByTestId('rolling-rollback')).toContainText('Rolling back the replaced instances to the version each ran before');
  const rows = card.getByTestId('instance-row');
  await expect(rows).toHaveCount(4);
  for (const text of ['web-1', '2.4.0', 'out of rotation', 'back to previous · attempt 2 · running']) await expect(rows.nth(0)).toContainText(text);
  for (const text of ['web-2', 'unknown', 'out of rotation', 'new version · attempt 1 · failed', 'health check never passed'])
    await expect(rows.nth(1)).toContainText(text);
  await expect(rows.nth(2)).toContainText('none in this release');
  await expect(rows.nth(3)).toContainText('previous');
  // On instances a setWeight step is a batch.
  await expect(page.getByTestId('release-steps')).toContainText('batch 2: 50% of instances');
  await expect(page.getByTestId('release-header')).toContainText('Instances replaced');
  expect(errors).toEqual([]);
  await page.screenshot({ path: screenshot, fullPage: true });
});

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { GlidepathClient } from '@glidepath/client';
import { expect, ok, signInAs, test } from '../fixtures.ts';

// The browser tests run the API without a worker: a control is accepted (queued) but not applied,
// which is enough to see what the page offers, what it sends and how it reports the answer.
const shots = (name: string) => fileURLToPath(new URL(`../test-results/${name}.png`, import.meta.url));

async function pendingRelease(api: GlidepathClient) {
  const suffix = randomBytes(4).toString('hex');
  const service = `cart-${suffix}`;
  await ok(api.POST('/api/v1/services', { body: { name: service } }), 'service');
  await ok(api.POST('/api/v1/environments', { body: { service, name: 'dev', position: 0, target: { type: 'recording', config: {} } } }), 'environment');
  const steps = [{ type: 'setWeight' as const, weight: 10 }, { type: 'pause' as const }, { type: 'setWeight' as const, weight: 100 }];
  await ok(api.POST('/api/v1/plans', { body: { name: `p-${suffix}`, spec: { strategy: 'canary', steps } } }), 'plan');
  await ok(api.POST('/api/v1/artifacts', { body: { service, version: '3.1.0', digest: `sha256:${randomBytes(32).toString('hex')}` } }), 'artifact');
  return (await ok(api.POST('/api/v1/releases', { body: { service, environment: 'dev', version: '3.1.0', plan: `p-${suffix}` } }), 'release')).id;
}

test.describe('as a deployer', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('aborts a release with one confirmation; asking twice is harmless', async ({ page, api }) => {
    const id = await pendingRelease(api);
    await signInAs(page, 'alice');
    await page.goto(`/releases/${id}`);
    const controls = page.getByTestId('release-controls');
    await expect(controls.getByRole('button', { name: 'Abort' })).toBeVisible();
    await expect(controls.getByRole('button', { name: 'Roll back' })).toHaveCount(0); // nothing shifted yet
    await expect(controls.getByRole('button', { name: 'Approve' })).toHaveCount(0);

    await controls.getByRole('button', { name: 'Abort' }).click();
    const form = page.getByRole('form', { name: 'Abort' });
    await form.getByRole('textbox').fill('wrong version picked');
    await page.screenshot({ path: shots('release-controls-confirm'), fullPage: true });
    await form.getByRole('button', { name: 'Abort' }).click();
    await expect(page.getByTestId('control-result')).toContainText('Abort: accepted; the engine applies it in a moment.', { timeout: 10_000 });

    // Asked again while the first abort is still queued: abort is idempotent, nothing is refused.
    await controls.getByRole('button', { name: 'Abort' }).click();
    await page.getByRole('form', { name: 'Abort' }).getByRole('button', { name: 'Abort' }).click();
    await expect(page.getByTestId('control-result')).toContainText('Abort: accepted', { timeout: 10_000 });
    await expect(page.getByTestId('control-error')).toHaveCount(0);
  });
});

test('a viewer sees no controls, and an empty approvals inbox', async ({ page, api }) => {
  const id = await pendingRelease(api);
  await page.goto(`/releases/${id}`);
  await expect(page.getByTestId('release-header')).toBeVisible();
  await expect(page.getByTestId('release-controls')).toHaveCount(0);
  await page.getByRole('link', { name: 'Approvals' }).click();
  await expect(page.getByTestId('approvals-empty')).toHaveText('Nothing waits for your approval.');
  await page.screenshot({ path: shots('approvals-empty'), fullPage: true });
  await expect(page.getByTestId('approvals-badge')).toHaveCount(0);
});

import { fileURLToPath } from 'node:url';
import { expect, test } from '../../fixtures.ts';
import { expectControlsLabelled, personPage, seed } from './seed.ts';

const shot = (name: string) => fileURLToPath(new URL(`../../test-results/${name}.png`, import.meta.url));

test('a deployer rolls back from the release page with one confirmation, follows the audit link, and filters the audit log', async ({
  browser,
  baseURL,
  api,
}) => {
  const s = await seed(api);
  const id = await s.start('dev', '1.0.0', s.holdPlan);
  await s.waitFor(id, ['paused']);

  const alice = await personPage(browser, baseURL!, 'alice');
  await alice.goto(`/releases/${id}`);
  await expect(alice.getByTestId('phase-badge').first()).toHaveText('paused');
  await expectControlsLabelled(alice);
  const controls = alice.getByTestId('release-controls');
  await controls.getByRole('button', { name: 'Roll back' }).click();
  const form = controls.getByRole('form', { name: 'Roll back' });
  await form.getByLabel('Reason (required)').fill('checkout errors in the canary');
  await form.getByRole('button', { name: 'Roll back' }).click();

  await expect(controls.getByTestId('control-result')).toContainText('the release is now rolled back');
  await expect(alice.getByTestId('phase-badge').first()).toHaveText('rolled back');
  const auditLink = controls.getByTestId('control-audit-link');
  await expect(auditLink).toContainText('release.rolled-back');
  await alice.screenshot({ path: shot('live-rolled-back'), fullPage: true });

  await auditLink.click();
  await expect(alice).toHaveURL(/\/audit\?requestId=/);
  const rows = alice.getByTestId('audit-row');
  await expect(rows.filter({ hasText: 'release.rolled-back' })).toHaveCount(1);
  await expect(rows.first()).toContainText('checkout errors in the canary');
  await expect(rows.first()).toContainText('alice@example.test');

  // The filters: this service's rollbacks only.
  await alice.getByRole('button', { name: 'Clear' }).click();
  const filters = alice.getByRole('form', { name: 'Filter audit events' });
  await filters.getByLabel('Action', { exact: true }).fill('release.rolled-back');
  await filters.getByLabel('Service', { exact: true }).selectOption(s.service);
  await filters.getByLabel('Environment', { exact: true }).selectOption({ label: 'dev' });
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  await expect(alice).toHaveURL(/action=release.rolled-back/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(`${s.service}/dev`);
  await expect(alice.getByTestId('audit-export')).toHaveAttribute('href', new RegExp(`/api/v1/audit/export\\?.*service=${s.service}`));
  await expectControlsLabelled(alice);
  await alice.screenshot({ path: shot('live-audit-filtered'), fullPage: true });
});

test('the promotion board promotes a digest to the next environment, and says why when the rules refuse', async ({ browser, baseURL, api }) => {
  const s = await seed(api);
  await s.waitFor(await s.start('dev', '1.0.0'), ['succeeded']);

  const alice = await personPage(browser, baseURL!, 'alice');
  await alice.goto('/board');
  const row = alice.getByTestId('board-service').filter({ has: alice.getByRole('heading', { name: s.service }) });
  const dev = row.locator('[data-environment=dev]');
  const staging = row.locator('[data-environment=staging]');
  await expect(dev.getByTestId('board-running')).toContainText('1.0.0');
  await expect(staging.getByTestId('board-running')).toContainText('No release has finished here yet');
  await expectControlsLabelled(alice);

  await dev.getByRole('button', { name: /Promote 1\.0\.0 to staging/ }).click();
  const form = dev.getByRole('form', { name: 'Promote 1.0.0 to staging' });
  await form.getByLabel('Plan').selectOption(s.plan);
  await form.getByLabel('Reason (optional)').fill('dev looked good');
  await form.getByRole('button', { name: 'Start release' }).click();
  // The stream brings the new release and then its success, without a reload.
  await expect(staging.getByTestId('board-running')).toContainText('1.0.0', { timeout: 20_000 });
  await alice.screenshot({ path: shot('live-board'), fullPage: true });

  // staging → prod is offered, but prod is busy with another release: the API refuses, in words.
  const busy = await s.start('prod', '1.1.0');
  await s.waitFor(busy, ['awaiting-approval']);
  const fromStaging = row.locator('[data-environment=staging]');
  await fromStaging.getByRole('button', { name: /Promote 1\.0\.0 to prod/ }).click();
  await fromStaging.getByRole('form', { name: 'Promote 1.0.0 to prod' }).getByRole('button', { name: 'Start release' }).click();
  await expect(fromStaging.getByTestId('promote-error')).toContainText('already has an active release');
});

test('services, environments, artifacts and plans have pages a release manager can read', async ({ browser, baseURL, api }) => {
  const s = await seed(api);
  const victor = await personPage(browser, baseURL!, 'victor');

  await victor.goto('/services');
  await victor.getByRole('link', { name: s.service }).click();
  await expect(victor.getByRole('heading', { level: 1 })).toHaveText(s.service);
  await expect(victor.getByRole('table', { name: 'Artifacts' })).toContainText('ranker-1.1.0');
  await victor.screenshot({ path: shot('live-service'), fullPage: true });

  await victor.getByRole('table', { name: 'Environments' }).getByRole('link', { name: 'prod' }).click();
  await expect(victor.getByTestId('environment-policy')).toContainText('Approvals needed2');
  await expect(victor.getByTestId('environment-policy')).toContainText('prod-approvers');
  await victor.screenshot({ path: shot('live-environment'), fullPage: true });

  await victor.goto(`/artifacts?service=${s.service}`);
  await expect(victor.getByTestId('artifact-row')).toHaveCount(2);
  await expect(victor.getByTestId('model-metadata').first()).toContainText('clicks-2026-11');

  await victor.goto('/plans');
  await victor.getByRole('link', { name: s.holdPlan }).click();
  await expect(victor.getByLabel(`Plan ${s.holdPlan} version 1 as YAML`)).toContainText('type: pause');
  await expect(victor.getByRole('list', { name: 'Versions' })).toContainText('v1');
  await expectControlsLabelled(victor);
  await victor.screenshot({ path: shot('live-plan'), fullPage: true });
});

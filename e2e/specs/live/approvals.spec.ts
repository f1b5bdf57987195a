import { fileURLToPath } from 'node:url';
import { expect, test } from '../../fixtures.ts';
import { expectControlsLabelled, personPage, seed } from './seed.ts';

const shot = (name: string) => fileURLToPath(new URL(`../../test-results/${name}.png`, import.meta.url));

test('two approvers approve production; the second sees the first approval arrive live, and approves with the keyboard', async ({ browser, baseURL, api }) => {
  const s = await seed(api);
  const id = await s.start('prod', '1.0.0');
  await s.waitFor(id, ['awaiting-approval']);

  const bob = await personPage(browser, baseURL!, 'bob');
  const carol = await personPage(browser, baseURL!, 'carol');
  for (const page of [bob, carol]) {
    await page.goto('/approvals');
    await expect(page.getByRole('link', { name: `${s.service} 1.0.0 → prod` })).toBeVisible();
    await expect(page.getByTestId('approvals-badge')).toBeVisible();
  }
  const bobCard = bob.getByTestId('approval-card').filter({ hasText: s.service });
  const carolCard = carol.getByTestId('approval-card').filter({ hasText: s.service });
  await expect(carolCard).toContainText('0 of 2 approvals');
  await expectControlsLabelled(carol);

  await bobCard.getByLabel('Comment (required to reject)').fill('canary evidence looks fine');
  await bobCard.getByRole('button', { name: 'Approve' }).click();
  await expect(bob.getByTestId('approval-outcome')).toContainText(`${s.service} 1.0.0 → prod: you approved; it waits for more approvals.`);
  await expect(bobCard).toHaveCount(0);

  // Carol's page was not reloaded: the stream brings Bob's approval.
  await expect(carolCard).toContainText('1 of 2 approvals');
  await expect(carolCard).toContainText('approved by bob@example.test');
  await carol.screenshot({ path: shot('live-approvals'), fullPage: true });

  // Keyboard only: the comment field, then Tab to Approve, then Enter.
  await carolCard.getByLabel('Comment (required to reject)').focus();
  await carol.keyboard.type('second pair of eyes: ok');
  await carol.keyboard.press('Tab');
  await expect(carolCard.getByRole('button', { name: 'Approve' })).toBeFocused();
  await carol.keyboard.press('Enter');

  await s.waitFor(id, ['succeeded']);
  await carol.goto(`/releases/${id}`);
  await expect(carol.getByTestId('phase-badge').first()).toHaveText('succeeded');
  await expect(carol.getByTestId('approvals-badge')).toHaveCount(0);
});

test('an approver rejects with a reason; the release stops and says why', async ({ browser, baseURL, api }) => {
  const s = await seed(api);
  const id = await s.start('prod', '1.1.0');
  await s.waitFor(id, ['awaiting-approval']);

  const bob = await personPage(browser, baseURL!, 'bob');
  await bob.goto(`/releases/${id}`);
  const controls = bob.getByTestId('release-controls');
  await controls.getByRole('button', { name: 'Reject' }).click();
  const form = controls.getByRole('form', { name: 'Reject' });
  await form.getByLabel('Why (required)').fill('error budget is spent this week');
  await form.getByRole('button', { name: 'Reject' }).click();
  await expect(controls.getByTestId('control-result')).toContainText('Reject: done');

  const release = await s.waitFor(id, ['failed', 'rolled-back']);
  expect(String(release.reason)).toContain('rejected by bob@example.test: error budget is spent this week');
  await expect(bob.getByTestId('phase-badge').first()).toHaveAttribute('data-phase', /^(failed|rolled-back)$/);
  await expect(bob.getByText('error budget is spent this week').first()).toBeVisible();
});

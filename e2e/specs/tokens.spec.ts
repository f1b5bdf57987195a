import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, signInAs, test } from '../fixtures.ts';

const screenshot = fileURLToPath(new URL('../test-results/tokens.png', import.meta.url));

test.use({ storageState: { cookies: [], origins: [] } });

test('an admin creates a token (its secret shown once), and revoking it stops it at once', async ({ page, baseURL }) => {
  await signInAs(page, 'dana');
  await page.getByRole('link', { name: 'API tokens' }).click();
  const name = `ci-${randomBytes(3).toString('hex')}`;
  const form = page.getByRole('form', { name: 'New token' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Role').selectOption('viewer');
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('new-token');
  await expect(shown).toContainText(`Token ${name}, shown this once`);
  const secret = (await shown.locator('code').textContent())!;
  expect(secret).toMatch(/^gp_[A-Za-z0-9_-]{43}$/);
  const use = () => fetch(new URL('/api/v1/services', baseURL), { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
  expect(await use()).toBe(200);
  const row = page.getByTestId('token-row').filter({ hasText: name });
  await expect(row).toContainText('viewer');
  await page.screenshot({ path: screenshot, fullPage: true });

  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(row).toContainText('revoked');
  expect(await use()).toBe(401);
});

test('people who are not admins have no tokens page in the navigation', async ({ page }) => {
  await signInAs(page, 'victor');
  await expect(page.getByRole('link', { name: 'API tokens' })).toHaveCount(0);
});

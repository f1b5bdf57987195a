import { fileURLToPath } from 'node:url';
import { expect, test } from '../fixtures.ts';

const shots = (name: string) => fileURLToPath(new URL(`../test-results/${name}.png`, import.meta.url));

test.use({ storageState: { cookies: [], origins: [] } });

test('a signed-out visit goes through single sign-on and comes back to the page asked for', async ({ page }) => {
  await page.goto('/releases');
  await expect(page).toHaveURL(/\/login\?returnTo=%2Freleases$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Glidepath' })).toBeVisible();
  await page.screenshot({ path: shots('sign-in'), fullPage: true });
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();

  await page.locator('input[name=login]').fill('bob');
  await page.locator('input[name=password]').fill('whatever');
  await page.locator('button[type=submit]').click();

  await expect(page).toHaveURL(/\/releases$/);
  await expect(page.getByTestId('whoami')).toContainText('bob@example.test');
  // Bob's group has no role in this installation yet: the page says so instead of failing.
  await expect(page.getByTestId('whoami-roles')).toHaveText('no role yet');
  await expect(page.getByTestId('no-role')).toContainText('have no role yet');
  await page.screenshot({ path: shots('signed-in-no-role'), fullPage: true });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signedOut=1$/);
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?returnTo=/);
});

test('the sign-in page explains a refused sign-in in words', async ({ page }) => {
  await page.goto('/login?error=state_mismatch');
  await expect(page.getByTestId('sign-in-error')).toContainText('did not match the sign-in this browser started');
  await page.goto('/login?error=issuer_unreachable');
  await expect(page.getByTestId('sign-in-error')).toContainText('API tokens keep working');
});

import { test as base, expect, type Page } from '@playwright/test';

interface Fixtures {
  /** POSTs JSON to the API from the test process (not the page) and returns the parsed reply. */
  apiPost: (path: string, body: unknown) => Promise<{ status: number; json: Record<string, unknown> }>;
}

export const test = base.extend<Fixtures>({
  // Playwright reads fixture dependencies from the destructuring pattern, so it must be `{}`.
  // eslint-disable-next-line no-empty-pattern
  baseURL: async ({}, use) => {
    const url = process.env.GLIDEPATH_E2E_URL;
    if (!url) throw new Error('GLIDEPATH_E2E_URL is not set: run the tests through playwright.config.ts (its globalSetup starts the API)');
    await use(url);
  },
  // Every test starts signed in as a viewer (global-setup.ts); the sign-in spec starts signed out.
  // eslint-disable-next-line no-empty-pattern
  storageState: async ({}, use) => {
    await use(process.env.GLIDEPATH_E2E_STORAGE_STATE);
  },
  apiPost: async ({ baseURL }, use) => {
    await use(async (path, body) => {
      const response = await fetch(new URL(path, baseURL), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.GLIDEPATH_E2E_TOKEN}` },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    });
  },
});

export { expect };

/** Signs a demo person in through the sign-in page and the development OpenID provider's form. */
export async function signInAs(page: Page, login: string) {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any');
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('whoami')).toContainText(`${login}@example.test`);
}

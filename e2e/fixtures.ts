import { test as base, expect, type Page } from '@playwright/test';

export type ApiPost = (path: string, body: unknown) => Promise<{ status: number; json: Record<string, unknown> }>;

interface Fixtures {
  /** POSTs JSON to the API from the test process (not the page) and returns the parsed reply. */
  apiPost: ApiPost;
}
interface Options {
  /** Which stack of global-setup.ts the project's tests run against. */
  stack: 'pages' | 'live';
}

export const test = base.extend<Fixtures & Options>({
  stack: ['pages', { option: true }],
  baseURL: async ({ stack }, use) => {
    const url = stack === 'live' ? process.env.GLIDEPATH_E2E_LIVE_URL : process.env.GLIDEPATH_E2E_URL;
    if (!url) throw new Error('GLIDEPATH_E2E_URL is not set: run the tests through playwright.config.ts (its globalSetup starts the API)');
    await use(url);
  },
  // The pages tests start signed in as a viewer (global-setup.ts); the live ones sign people in themselves.
  storageState: async ({ stack }, use) => {
    await use(stack === 'live' ? undefined : process.env.GLIDEPATH_E2E_STORAGE_STATE);
  },
  apiPost: async ({ baseURL, stack }, use) => {
    const token = stack === 'live' ? process.env.GLIDEPATH_E2E_LIVE_TOKEN : process.env.GLIDEPATH_E2E_TOKEN;
    await use(async (path, body) => {
      const response = await fetch(new URL(path, baseURL), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
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

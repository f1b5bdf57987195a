import { createGlidepathClient, type GlidepathClient } from '@glidepath/client';
import { test as base, expect, type Page } from '@playwright/test';

interface Fixtures {
  /** The generated API client, as the admin token of the stack: for setting up what a test needs. */
  api: GlidepathClient;
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
  api: async ({ baseURL, stack }, use) => {
    const token = stack === 'live' ? process.env.GLIDEPATH_E2E_LIVE_TOKEN : process.env.GLIDEPATH_E2E_TOKEN;
    await use(createGlidepathClient({ baseUrl: baseURL!, token }));
  },
});

export { expect };

/** The reply's data, or a failed test that shows what the API said. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, what: string): Promise<T> {
  const { data, error, response } = await call;
  expect(response.ok, `${what}: ${response.status} ${JSON.stringify(error)}`).toBe(true);
  return data as T;
}

/** Signs a demo person in through the sign-in page and the development OpenID provider's form. */
export async function signInAs(page: Page, login: string) {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any');
  await page.locator('button[type=submit]').click();
  await expect(page.getByTestId('whoami')).toContainText(`${login}@example.test`);
}

import { defineConfig, type LaunchOptions } from '@playwright/test';

/** Debian's Chromium, with the flags this machine's closed network needs. */
export const launchOptions: LaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

export default defineConfig<{ stack: 'pages' | 'live' }>({
  testDir: './specs',
  globalSetup: './global-setup.ts',
  workers: 1,
  reporter: 'list',
  timeout: 30_000,
  use: { headless: true, launchOptions },
  projects: [
    { name: 'pages', testIgnore: 'live/**' },
    // Against the stack with a worker (global-setup.ts): releases really move.
    { name: 'live', testMatch: 'live/**/*.spec.ts', use: { stack: 'live' }, timeout: 60_000 },
  ],
});

import { defineConfig, type LaunchOptions } from '@playwright/test';
import { LAUNCH_ARGS, findChromium } from './scripts/chromium.mjs';
import { SUITE_CSP } from './e2e/support/server';
import type { Options } from './e2e/support/test';

// The browser scripts/ensure-chromium.mjs made sure of. A system Chromium is launched by path; Playwright's
// own is its full build (`channel: 'chromium'`), the very executable that was checked, rather than the
// headless shell, which may not be installed.
const browser = findChromium();
const launchOptions: LaunchOptions = { args: LAUNCH_ARGS, ...(browser?.kind === 'system' ? { executablePath: browser.path } : {}) };

export default defineConfig<Options>({
  testDir: 'e2e',
  // Each test has its own server, port and origin, so tests share nothing; two cores, two workers.
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  reporter: 'list',
  use: {
    browserName: 'chromium',
    channel: browser?.kind === 'playwright' ? 'chromium' : undefined,
    launchOptions,
    trace: 'retain-on-failure',
  },
  projects: [
    // Tests tagged @bfcache (the fault matrix's bfcache scenario) run in the bfcache project only.
    // The soak (minutes long) runs only by `npm run soak`, which sets SOAK_EVENTS; `npm test` leaves it out.
    { name: 'chromium', testIgnore: process.env.SOAK_EVENTS ? /bfcache\.spec\.ts$/ : /(bfcache|soak)\.spec\.ts$/, grepInvert: /@bfcache/ },
    // The same specs with every file served under a strict CSP and Trusted Types (issue 10): the fixture
    // fails a test on any violation.
    { name: 'csp', testIgnore: /(bfcache|soak)\.spec\.ts$/, grepInvert: /@bfcache/, use: { csp: SUITE_CSP } },
    {
      // Playwright turns the back/forward cache off by default; this project needs it on.
      name: 'bfcache',
      testMatch: /(bfcache|reliability)\.spec\.ts$/,
      grep: /bfcache\.spec\.ts|@bfcache/,
      use: { launchOptions: { ...launchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] } },
    },
  ],
});

/**
 * Security of the script tag (issue 10, defect 10): user content that clobbers `document.currentScript`
 * sends nothing elsewhere and loads no code from elsewhere; the overlay loads under Trusted Types.
 */
import type { Page } from '@playwright/test';
import { expect, flush, test, track } from './support/test';
import { startServer, TRUSTED_TYPES_CSP, type TestServer } from './support/server';

const overlay = (page: Page) => page.locator('#microconv-overlay');

test.describe('DOM clobbering', () => {
  let elsewhere: TestServer;
  test.beforeEach(async () => void (elsewhere = await startServer()));
  test.afterEach(async () => elsewhere.close());

  test('an image named currentScript in user content sends nothing elsewhere, and the overlay comes from microconv’s own folder', async ({ page, collector, pageHeaders }) => {
    // A page whose user content (a comment) holds an image named like document's property, pointing to
    // another origin, which serves microconv-debug.js too: a copy there would run if it were loaded.
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Comments</title></head><body>
      <div class="comment"><img name="currentScript" alt="" src="${elsewhere.origin}/dist/pixel.png" data-endpoint="${elsewhere.origin}/collect" data-adapters="endpoint" data-debug></div>
      <script async src="/dist/microconv.js" data-endpoint="/collect"></script>
      <button type="button" data-mc-cta="reply">Reply</button>
    </body></html>`;
    await page.route('**/comments.html*', (route) => route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: html }));
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto('/comments.html?mc_debug=1');
    // The clobbering works in this browser: document.currentScript is the image, for any script.
    expect(await page.evaluate(() => (document.currentScript as Element | null)?.tagName)).toBe('IMG');
    await page.waitForFunction(() => window.microconv?.loaded);

    const id = await track(page, 'comment_posted');
    await flush(page);
    await collector.waitFor('the event at the page’s own collector', () => collector.deliveryCounts().has(id));
    // The overlay ?mc_debug=1 asked for, from the folder of the real script.
    await expect(overlay(page)).toBeAttached();
    expect(requested.filter((url) => url.includes('microconv-debug'))).toEqual([new URL('/dist/microconv-debug.js', page.url()).href]);
    // Of the other origin, the page's own image and nothing else.
    expect(requested.filter((url) => url.startsWith(elsewhere.origin))).toEqual([`${elsewhere.origin}/dist/pixel.png`]);
    expect(elsewhere.collector.requests).toEqual([]);
  });
});

test('under Trusted Types (require-trusted-types-for script) the overlay loads through the microconv policy, without a violation', async ({ page, collector, cspViolations }) => {
  const response = await page.goto('/o-trusted-types.tt.html');
  expect(response!.headers()['content-security-policy']).toBe(TRUSTED_TYPES_CSP);
  await expect(overlay(page)).toBeAttached();
  await page.waitForFunction(() => window.microconv?.loaded);
  await page.click('[data-mc-cta="hero_signup"]');
  await flush(page);
  await collector.waitForDelivered(['cta_click', 'csp_page_ready']);
  await expect(overlay(page).locator('.events > li .name').filter({ hasText: 'cta_click' })).toHaveCount(1);
  expect(cspViolations).toEqual([]);

  // The policy is enforced here: a plain string as a script URL is refused, and reported.
  const refused = await page.evaluate(() => {
    try {
      document.createElement('script').src = '/dist/microconv-debug.js';
      return 'accepted';
    } catch (error) {
      return (error as Error).name;
    }
  });
  expect(refused).toBe('TypeError');
  // Heard by the fixture that fails every test on a violation (by the event and by the console), then
  // cleared: this one was provoked on purpose.
  await expect.poll(() => [...cspViolations].sort()).toEqual([
    expect.stringMatching(/^console: This document requires 'TrustedScriptURL' assignment/),
    expect.stringMatching(/^require-trusted-types-for blocked trusted-types-sink: HTMLScriptElement src/),
  ]);
  cspViolations.length = 0;
});

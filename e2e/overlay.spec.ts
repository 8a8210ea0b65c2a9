/**
 * The debug overlay (contract 1.3): loaded from next to microconv.js only when debugging is on; every
 * event with its parameters and each adapter's delivery result, counts, plan warnings; event data only
 * as text; at home under a strict CSP. And a screenshot of it on the real demo, for the README.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from '@playwright/test';
import { expect, flush, load, settle, test, track } from './support/test';
import { probe } from './support/vendors';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const overlay = (page: Page): Locator => page.locator('#microconv-overlay');
/** The overlay's entry for one event. Playwright's CSS locators reach into the open shadow root. */
const entry = (page: Page, id: string): Locator => overlay(page).locator(`.events > li[data-event-id="${id}"]`);
const badge = (page: Page, id: string, adapter: string): Locator => entry(page, id).locator(`.deliveries > li[data-adapter="${adapter}"]`);
/** The parameters an entry shows, read back from its text. */
const shownParams = async (page: Page, id: string): Promise<unknown> => JSON.parse(await entry(page, id).locator('.params').innerText());
const countOf = (page: Page, name: string): Locator => overlay(page).locator('.counts tr').filter({ has: page.locator(`td:text-is("${name}")`) }).locator('td').nth(1);
const warnings = (page: Page): Locator => overlay(page).locator('.warnings > li');

/** Once the page is idle, microconv's trackers are listening (they start in an idle callback after load). */
const idle = (page: Page) => page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));

/** The id of the newest event of `name` that the page's probe recorded. */
async function lastId(page: Page, name: string): Promise<string> {
  await expect.poll(async () => (await probe(page)).events.some((event) => event.name === name)).toBe(true);
  return (await probe(page)).events.filter((event) => event.name === name).at(-1)!.event_id;
}

test('with data-debug it lists every event, from before it loaded too, with params, each delivery result and counts', async ({ page, collector }) => {
  // Hold the overlay's file back until early_event has been tracked and delivered.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/dist/microconv-debug.js', async (route) => (await released, route.continue()));
  await page.goto('/o-overlay.html', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.microconv.loaded);
  await flush(page);
  await collector.waitForDelivered(['early_event']);
  const early = await lastId(page, 'early_event');
  await expect.poll(async () => (await probe(page)).deliveries.some((r) => r.adapter === 'endpoint' && r.status === 'sent')).toBe(true);
  await expect(overlay(page)).toHaveCount(0);

  release();
  await page.waitForLoadState('load');
  await expect(overlay(page)).toBeAttached();
  expect(await page.evaluate(() => document.getElementById('microconv-overlay')!.shadowRoot?.mode)).toBe('open');

  // What happened before it loaded is there, with the results it had by then.
  await expect(entry(page, early).locator('.name')).toHaveText('early_event');
  expect(await shownParams(page, early)).toEqual({ source: 'stub' });
  await expect(badge(page, early, 'endpoint')).toHaveText('endpoint: sent');
  await expect(badge(page, early, 'meta')).toHaveText('meta: held for consent');

  await idle(page);
  await page.click('[data-mc-cta="hero_signup"]');
  const first = await lastId(page, 'cta_click');
  await page.click('[data-mc-cta="hero_signup"]');
  await expect.poll(async () => (await probe(page)).events.filter((event) => event.name === 'cta_click').length).toBe(2);

  const event = (await probe(page)).events.find((e) => e.event_id === first)!;
  await expect(entry(page, first).locator('.name')).toHaveText('cta_click');
  expect(await shownParams(page, first)).toEqual(event.params);
  expect(event.params).toMatchObject({ cta_name: 'hero_signup', link_type: 'button', link_text: 'Sign up', section_name: 'hero' });
  await expect(entry(page, first).locator('time')).not.toBeEmpty();
  // The tags of the moment have it; Meta holds it for the ad purposes; the endpoint, once the collector answered.
  await expect(badge(page, first, 'gtag')).toHaveText('gtag: sent');
  await expect(badge(page, first, 'datalayer')).toHaveText('datalayer: sent');
  await expect(badge(page, first, 'meta')).toHaveText('meta: held for consent');
  await flush(page);
  await expect(badge(page, first, 'endpoint')).toHaveText('endpoint: sent');
  await expect(countOf(page, 'cta_click')).toHaveText('2');
  await expect(countOf(page, 'early_event')).toHaveText('1');
  await expect(overlay(page).locator('.summary')).toContainText('endpoint, gtag, meta, datalayer');

  // The visitor allows ads: the held events go to Meta, and the overlay says so.
  await page.evaluate(() => window.microconv.consent({ ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' }));
  await expect(badge(page, first, 'meta')).toHaveText('meta: sent');
  await expect(badge(page, early, 'meta')).toHaveText('meta: sent');
});

test('it shows retrying, failed and dropped results, each with why', async ({ page, collector }) => {
  // 503, and wait a minute: the endpoint retries, but not during this test (so no attempt is in flight).
  collector.answer({ status: 503, retryAfter: '60' });
  await load(page, '/o-overlay.html');
  await expect(overlay(page)).toBeAttached();
  const early = await lastId(page, 'early_event');
  await expect(badge(page, early, 'endpoint')).toHaveText('endpoint: retrying (http_503)');
  // GA4 refuses its own event names: gtag fails it for good.
  const pageView = await track(page, 'page_view');
  await expect(badge(page, pageView, 'gtag')).toHaveText('gtag: failed (ga4_reserved_name)');
  await expect(badge(page, pageView, 'datalayer')).toHaveText('datalayer: sent');
  // The visitor refuses everything: what waited is dropped, and the overlay says why.
  await page.evaluate(() => window.microconv.consent('denied'));
  await expect(badge(page, early, 'meta')).toHaveText('meta: dropped (consent_denied)');
  await expect(badge(page, early, 'endpoint')).toHaveText('endpoint: dropped (consent_denied)');
  await expect(badge(page, pageView, 'meta')).toHaveText('meta: dropped (consent_denied)');
  await expect(overlay(page).locator('.summary')).toContainText(' dropped');
});

test('?mc_debug=1 turns it on for a page without data-debug', async ({ page }) => {
  await load(page, '/o-plain.html?mc_debug=1');
  await expect(overlay(page)).toBeAttached();
  const early = await lastId(page, 'early_event');
  await expect(entry(page, early).locator('.name')).toHaveText('early_event');
  await page.click('[data-mc-cta="hero_pricing"]');
  const click = await lastId(page, 'cta_click');
  await expect(entry(page, click).locator('.name')).toHaveText('cta_click');
  expect(await shownParams(page, click)).toMatchObject({ cta_name: 'hero_pricing', link_type: 'link' });
});

test('collapsed or open, the event list is in the DOM; the toggle works by keyboard, and Escape collapses', async ({ page }) => {
  await load(page, '/o-overlay.html');
  const panel = overlay(page).locator('.panel');
  const toggle = overlay(page).locator('button.toggle');
  const early = await lastId(page, 'early_event');
  await expect(entry(page, early)).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');

  // Tab through the page's own controls to the overlay's toggle.
  const onToggle = () =>
    page.evaluate(() => {
      const host = document.activeElement;
      return host?.id === 'microconv-overlay' && !!host.shadowRoot?.activeElement?.classList.contains('toggle');
    });
  for (let tabs = 0; !(await onToggle()); tabs++) {
    expect(tabs, 'Tab presses to reach the toggle').toBeLessThan(10);
    await page.keyboard.press('Tab');
  }

  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(panel).toHaveClass(/\bcollapsed\b/);
  await expect(overlay(page).locator('.body')).toBeHidden();
  // Collapsed, the list is still there, and new events still land in it.
  await expect(entry(page, early)).toBeAttached();
  const id = await track(page, 'while_collapsed');
  await expect(entry(page, id).locator('.name')).toHaveText('while_collapsed');
  await expect(entry(page, id)).toBeHidden();

  await page.keyboard.press('Space');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(overlay(page).locator('.body')).toBeVisible();
  await expect(entry(page, id)).toBeVisible();

  await page.keyboard.press('Escape');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(overlay(page).locator('.body')).toBeHidden();
  expect(await onToggle()).toBe(true); // focus stays on the toggle
  await expect(entry(page, early)).toBeAttached();
  await expect(entry(page, id)).toBeAttached();

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
});

test('markup in event data appears as text, never as HTML', async ({ page, collector }) => {
  const markup = '<img src=x onerror="window.__xss=1">';
  const longKey = '<img src=x onerror="window.__xss=1" alt="a parameter name">'; // over GA4's 40: warned
  await load(page, '/o-xss.html');
  await expect(overlay(page)).toBeAttached();
  await page.click('#markup-text');
  await page.click('#markup-name');
  const fromTrack = await track(page, 'markup_param', { note: markup, [longKey]: 1 });
  await settle(page, collector);

  const delivered = collector.delivered();
  const text = delivered.find((event) => event.params.cta_name === 'markup_text')!;
  const name = delivered.find((event) => event.params.cta_name === markup)!;
  expect(text.params.link_text).toBe(markup);
  expect(name).toBeDefined();
  expect(await shownParams(page, text.event_id)).toMatchObject({ cta_name: 'markup_text', link_text: markup });
  expect(await shownParams(page, name.event_id)).toMatchObject({ cta_name: markup });
  expect(await shownParams(page, fromTrack)).toEqual({ note: markup, [longKey]: 1 });
  // The gtag adapter's warning about the parameter name carries the markup too: as text.
  await expect(warnings(page).filter({ hasText: 'parameter <img src=x onerror=' })).toHaveCount(1);

  const found = await page.evaluate(() => ({
    overlayImages: document.getElementById('microconv-overlay')!.shadowRoot!.querySelectorAll('img').length,
    pageImages: document.querySelectorAll('img').length,
    xss: (window as unknown as { __xss?: unknown }).__xss,
  }));
  expect(found).toEqual({ overlayImages: 0, pageImages: 0, xss: undefined });
});

test('under a strict CSP it loads, is styled and works, outlines included, without a single violation', async ({ page, collector, cspViolations }) => {
  const response = await page.goto('/o-csp.csp.html');
  expect(response!.headers()['content-security-policy']).toBe("script-src 'self'; style-src 'self'");
  await idle(page);
  await expect(overlay(page)).toBeAttached();

  // Styled: its stylesheet applied inside the shadow root.
  const panel = overlay(page).locator('.panel');
  await expect(panel).toHaveCSS('position', 'fixed');
  await expect(panel).toHaveCSS('z-index', '2147483647');
  const ready = await lastId(page, 'csp_page_ready');
  await expect(entry(page, ready).locator('.name')).toHaveText('csp_page_ready');

  // It works: a click is listed, and delivered.
  await page.click('[data-mc-cta="hero_signup"]');
  const click = await lastId(page, 'cta_click');
  await flush(page);
  await expect(badge(page, click, 'endpoint')).toHaveText('endpoint: sent');
  expect(collector.delivered().map((event) => event.event_id)).toContain(click);

  // Outlining the tagged elements, and taking the outlines off again.
  const tagged = '[data-mc-cta], [data-mc-section]';
  const outlines = () => page.evaluate((selector) => [...document.querySelectorAll<HTMLElement>(selector)].map((el) => [getComputedStyle(el).outlineStyle, el.style.outline]), tagged);
  const highlight = overlay(page).locator('button.highlight');
  await expect(highlight).toHaveText('Outline tagged elements');
  await highlight.click();
  await expect(highlight).toHaveAttribute('aria-pressed', 'true');
  await expect(overlay(page).locator('.legend')).toBeVisible();
  const on = await outlines();
  expect(on).toHaveLength(5); // three CTAs, two sections
  for (const [style, inline] of on) expect([style, inline]).toEqual(['dashed', expect.stringMatching(/dashed/)]);
  await expect(page.locator('form[data-mc-form]')).toHaveCSS('outline-style', 'dashed');
  await highlight.click();
  await expect(highlight).toHaveAttribute('aria-pressed', 'false');
  expect(await outlines()).toEqual(on.map(() => ['none', '']));
  await expect(overlay(page).locator('.legend')).toBeHidden();

  expect(cspViolations).toEqual([]); // (the fixture checks again once the test is over)
});

test('plan warnings: more than eight micro-conversions, and an event outside the plan', async ({ page }) => {
  await load(page, '/o-plan.html');
  await expect(warnings(page).filter({ hasText: 'The plan names 9 micro-conversions' })).toHaveCount(1);
  await track(page, 'pricing_viewed'); // in the plan: no warning
  await track(page, 'newsletter_opened'); // not in it
  await track(page, 'purchase', { value: 49, currency: 'EUR' }); // the macro conversion: in it
  await expect(warnings(page).filter({ hasText: 'newsletter_opened is not in the plan.' })).toHaveCount(1);
  await expect(countOf(page, 'purchase')).toHaveText('1');
  await expect(warnings(page).filter({ hasText: /pricing_viewed|purchase/ })).toHaveCount(0);
  // Said once, however often it happens.
  await track(page, 'newsletter_opened');
  await expect(countOf(page, 'newsletter_opened')).toHaveText('2');
  await expect(warnings(page).filter({ hasText: 'newsletter_opened' })).toHaveCount(1);
});

test('with debugging off, not one byte of the overlay is loaded; debug(true) loads it then', async ({ page, collector }) => {
  const requested: string[] = [];
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  await load(page, '/o-plain.html');
  await page.click('[data-mc-cta="hero_signup"]');
  await settle(page, collector);
  expect(requested).toContain('/dist/microconv.js');
  expect(requested.filter((path) => path.includes('microconv-debug'))).toEqual([]);
  expect(await page.evaluate(() => 'microconvOverlay' in window)).toBe(false);
  await expect(overlay(page)).toHaveCount(0);
  // Nor is any of it inside the core file.
  expect(readFileSync(join(ROOT, 'dist/microconv.js'), 'utf8')).not.toContain('Outline tagged elements');

  await page.evaluate(() => window.microconv.debug(true));
  await expect(overlay(page)).toBeAttached();
  expect(requested).toContain('/dist/microconv-debug.js');
  const id = await track(page, 'after_debug_on');
  await expect(entry(page, id).locator('.name')).toHaveText('after_debug_on');
});

/** A port that was free a moment ago, for the demo server (which prints the port it was given). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

test.describe('the demo', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test('a screenshot of the demo with the overlay open', async ({ page }) => {
    const port = await freePort();
    const demo = spawn(process.execPath, [join(ROOT, 'build/serve.mjs'), '--port', String(port), '--db', ':memory:'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => demo.once('exit', () => resolve()));
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the demo server did not start:\n${output}`)), 15_000);
        const read = (chunk: Buffer) => {
          output += chunk;
          if (output.includes('landing page')) clearTimeout(timer), resolve();
        };
        demo.stdout!.on('data', read);
        demo.stderr!.on('data', read);
        demo.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the demo server exited (${code}):\n${output}`))));
      });

      await page.addInitScript(() => {
        const w = window as unknown as { violations: string[] };
        w.violations = [];
        document.addEventListener('securitypolicyviolation', (e) => w.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      await idle(page);
      await expect(overlay(page)).toBeAttached();

      // A hero CTA (it jumps to the form), back up, then a little scrolling.
      await page.click('.hero [data-mc-cta="start_trial"]');
      await page.evaluate(() => scrollTo(0, 0));
      await page.mouse.move(400, 400);
      await page.mouse.wheel(0, 160);
      await page.waitForFunction(() => scrollY >= 150);
      const click = overlay(page).locator('.events > li').filter({ has: page.locator('.name:text-is("cta_click")') }).first();
      await expect(click.locator('.params')).toContainText('"start_trial"');
      await flush(page);
      await expect(click.locator('[data-adapter="endpoint"]')).toHaveText('endpoint: sent');
      await expect(click.locator('[data-adapter="meta"]')).toHaveText('meta: held for consent');
      await expect(countOf(page, 'section_view')).toHaveText(/^[1-9]/);
      // Everything so far delivered to the collector, so the picture shows results rather than queues.
      const unsent = overlay(page).locator('[data-adapter="endpoint"]').filter({ hasNotText: 'endpoint: sent' });
      await expect.poll(async () => (await flush(page), unsent.count())).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);

      const shot = await page.screenshot();
      mkdirSync(join(ROOT, 'test-results'), { recursive: true });
      writeFileSync(join(ROOT, 'test-results/demo-overlay.png'), shot);
      // Only on request, so that a CI run never rewrites the committed picture.
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        const docs = join(ROOT, 'docs/demo-overlay.png');
        mkdirSync(dirname(docs), { recursive: true });
        writeFileSync(docs, shot);
      }
    } finally {
      demo.kill('SIGTERM');
      await exited;
    }
  });
});

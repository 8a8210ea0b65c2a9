/**
 * `microconv/vitals` (dist/microconv-vitals.js beside the script tag): one `web_vitals` event with LCP,
 * INP and CLS when the page is first hidden, here by leaving it for real (Chromium hides a page it
 * navigates away from before its pagehide), carried by the core's last beacon.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/test';
import { named } from './support/trackers';
import type { Collector } from './support/server';

/** A layout shift with no input before it, then an interaction; returns the shift's score. */
async function shiftAndClick(page: Page): Promise<number> {
  const shift = await page.evaluate(() => (window as unknown as { insertBanner(): Promise<number> }).insertBanner());
  expect(shift).toBeGreaterThan(0);
  await page.click('#more');
  await expect(page.locator('#more-text')).toBeVisible();
  // The browser times the interaction after the next paint: once an observer of ours has it, web-vitals'
  // observers (notified in the same task) have it too.
  await page.evaluate(() => new Promise((resolve) => new PerformanceObserver(resolve).observe({ type: 'first-input', buffered: true })));
  return shift;
}

/** The one web_vitals event, once it has arrived, with its three values checked. */
async function vitalsEvent(collector: Collector, shift: number) {
  const [vitals] = await collector.waitFor('web_vitals', () => named(collector, 'web_vitals').length > 0 && named(collector, 'web_vitals'));
  expect(Object.keys(vitals!.params).sort()).toEqual(['cls', 'inp', 'lcp']);
  const { lcp, inp, cls } = vitals!.params as { lcp: number; inp: number; cls: number };
  expect(lcp).toBeGreaterThan(0);
  expect(inp).toBeGreaterThanOrEqual(0);
  expect(cls).toBeCloseTo(shift, 3);
  expect(vitals!.page.path).toBe('/w-vitals.html');
  return vitals!;
}

test('one web_vitals event with LCP, INP and CLS reaches the collector when the page is left', async ({ page, collector }) => {
  await page.goto('/w-vitals.html');
  await page.waitForFunction(() => window.microconv?.loaded);
  const shift = await shiftAndClick(page);
  expect(await page.evaluate(() => document.visibilityState)).toBe('visible');
  expect(named(collector, 'web_vitals')).toEqual([]);

  // Leaving, Chromium fires pagehide, then visibilitychange to hidden.
  await page.click('#leave');
  await page.waitForURL(/\/next\.html$/);
  await vitalsEvent(collector, shift);
  expect(named(collector, 'web_vitals')).toHaveLength(1);
});

test('one web_vitals event reaches the collector when the tab is hidden', async ({ page, collector }) => {
  await page.goto('/w-vitals.html');
  await page.waitForFunction(() => window.microconv?.loaded);
  const shift = await shiftAndClick(page);
  // Hidden the way web-vitals' own tests do it: headless Chromium keeps every tab visible.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });
  await vitalsEvent(collector, shift);
  // Hidden again: still one.
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange', { bubbles: true })));
  await page.evaluate(() => window.microconv.flush());
  expect(named(collector, 'web_vitals')).toHaveLength(1);
});

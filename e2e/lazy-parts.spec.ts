/**
 * The script tag's lazy parts (issue 11; README, "Parts"): forms, video, the vendor adapters and the
 * consent sources are files of their own next to microconv.js, fetched only by a page that needs them,
 * through the overlay's loader. While one comes nothing is lost: an adapter's queue waits for its code,
 * and a tracker's DOM events are held and replayed to it in order. A part that cannot come is counted.
 */
import type { Page } from '@playwright/test';
import { expect, flush, load, settle, test } from './support/test';
import { holdRequests } from './support/hold';

/** Records which of microconv's files the page fetches. */
const fetched = (page: Page) => {
  const files: string[] = [];
  page.on('request', (request) => void (/\/microconv[\w-]*\.js$/.test(request.url()) && files.push(request.url().split('/').pop()!)));
  return files;
};

test('a page without forms, videos or vendor adapters fetches microconv.js alone', async ({ page, collector }) => {
  const files = fetched(page);
  await load(page, '/t-sections.html');
  await page.evaluate(() => window.microconv.track('probe_event'));
  await flush(page);
  await collector.waitForDelivered(['probe_event']);
  expect(files).toEqual(['microconv.js']);
});

test('a form met while its tracker is on its way: the focus and the submit are replayed in order, nothing is lost', async ({ page, collector }) => {
  const files = fetched(page);
  // The forms part is held on its way until the person has filled in and sent the form.
  const { requested, release } = await holdRequests(page, '**/dist/microconv-forms.js');
  await page.goto('/v-vendors.html');
  await requested;
  await page.click('[data-mc-cta="hero_signup"]');
  await page.click('#newsletter button[type="submit"]'); // focus then submit: form_begin, form_complete
  await expect(page.locator('#thanks')).toBeVisible();
  expect(collector.delivered().filter((event) => event.name.startsWith('form_'))).toEqual([]);
  // Held long enough that a replay's time would show: the page's clock moves on before the part comes.
  const held = await page.evaluate(() => Date.now());
  await page.waitForFunction((from) => Date.now() > from + 50, held);
  release();
  await collector.waitForDelivered(['cta_click', 'form_begin', 'form_complete']);
  await settle(page, collector);
  const forms = collector.delivered().filter((event) => event.name.startsWith('form_'));
  expect(forms.map((event) => event.name)).toEqual(['form_begin', 'form_complete']);
  expect(forms[1]!.params).toMatchObject({ form_name: 'newsletter', form_id: 'newsletter' });
  // Each tracked at the time it happened, not when it was replayed: after the click, before the part came.
  const click = collector.delivered().find((event) => event.name === 'cta_click')!;
  for (const event of forms) expect(event.ts).toBeGreaterThanOrEqual(click.ts), expect(event.ts).toBeLessThanOrEqual(held);
  // The vendor adapters came as their own files because the options named them; video never came.
  expect(files.sort()).toEqual(['microconv-datalayer.js', 'microconv-forms.js', 'microconv-gtag.js', 'microconv-meta.js', 'microconv.js']);
});

test('a part that cannot be fetched is a console error and a counted drop; the rest of the page is tracked', async ({ page, collector }) => {
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && message.text().startsWith('[microconv]') && errors.push(message.text())));
  await page.route('**/dist/microconv-forms.js', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.route('**/dist/microconv-meta.js', (route) => route.abort());
  await page.goto('/v-vendors.html');
  await page.click('[data-mc-cta="hero_signup"]');
  await collector.waitForDelivered(['cta_click']);
  await expect.poll(() => page.evaluate(() => window.microconv.stats().dropped.part_unavailable)).toBeGreaterThanOrEqual(2);
  expect(errors.some((text) => text.includes('forms tracker is unavailable'))).toBe(true);
  expect(errors.some((text) => text.includes('meta adapter is unavailable'))).toBe(true);
});

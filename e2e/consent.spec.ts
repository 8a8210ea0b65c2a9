/**
 * Consent (contract 3 and 5): Google Consent Mode v2's purposes per adapter, held while pending, dropped
 * and counted when denied, nothing stored without analytics_storage, everything forgotten when it is
 * withdrawn, and Global Privacy Control denying the ad purposes. With the vendors' snippets on the page.
 */
import type { Page } from '@playwright/test';
import { expect, expectDeliveredOnce, flush, load, settle, test, track } from './support/test';
import { dataLayerObjects, fbqEvents, gtagEvents, probe, statusesOf, stored, vendorState } from './support/vendors';

const ADAPTERS = ['endpoint', 'gtag', 'meta', 'datalayer'];
const stats = (page: Page) => page.evaluate(() => window.microconv.stats());

/** The ids that reached each vendor destination. */
async function vendorIds(page: Page) {
  const state = await vendorState(page);
  return {
    gtag: gtagEvents(state).map(([, params]) => params.event_id),
    datalayer: dataLayerObjects(state).map((object) => object.event_id),
    meta: fbqEvents(state).map((args) => (args[3] as { eventID: string }).eventID),
  };
}

/** Tracks what a visitor does on the vendor pages: a CTA click and two custom events; returns their ids. */
async function visit(page: Page): Promise<string[]> {
  await page.click('[data-mc-cta="hero_signup"]');
  await expect.poll(async () => (await probe(page)).events.length).toBe(1);
  const ids = [(await probe(page)).events[0]!.event_id];
  ids.push(await track(page, 'pricing_viewed', { plan: 'pro' }));
  ids.push(await track(page, 'calculator_used', { invoices: 12 }));
  return ids;
}

const nothingStored = { keys: [], localStorage: 0, database: false, records: 0 };

test('pending, then granted: nothing reaches any adapter before, everything after, with the same ids', async ({ page, collector }) => {
  await load(page, '/v-pending.html');
  const ids = await visit(page);
  await flush(page);

  // Held everywhere: reported as held, waiting, and nothing at the vendors or the collector.
  const { deliveries, events } = await probe(page);
  for (const id of ids) expect(statusesOf(deliveries, id)).toEqual(Object.fromEntries(ADAPTERS.map((name) => [name, ['held']])));
  expect(await stats(page)).toEqual({ dropped: {}, waiting: { endpoint: 3, gtag: 3, meta: 3, datalayer: 3 } });
  expect(await vendorIds(page)).toEqual({ gtag: [], datalayer: [], meta: [] });
  expect(collector.requests).toEqual([]);
  // Nothing stored while analytics_storage is pending, and no browser id on the events.
  expect(await stored(page)).toEqual(nothingStored);
  expect(events.map((event) => event.anonymous_id)).toEqual([null, null, null]);

  await page.evaluate(() => window.microconv('consent', 'granted'));
  await collector.waitFor('the held events', () => ids.every((id) => collector.deliveryCounts().has(id)));
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
  await expect.poll(async () => (await vendorIds(page)).meta.length).toBe(4); // the three, and settle()'s sentinel
  const after = await vendorIds(page);
  expect({ gtag: after.gtag.slice(0, 3), datalayer: after.datalayer.slice(0, 3), meta: after.meta.slice(0, 3) }).toEqual({ gtag: ids, datalayer: ids, meta: ids });
  expect(collector.delivered().slice(0, 3).map((event) => event.event_id)).toEqual(ids);
  // From now on analytics_storage is granted: the browser id and the session are kept.
  await expect.poll(async () => (await stored(page)).keys).toEqual(['microconv:id', 'microconv:session']);
});

test('pending, then denied: what was held is dropped and counted, and nothing is sent', async ({ page, collector }) => {
  await load(page, '/v-pending.html');
  const ids = await visit(page);
  await page.evaluate(() => window.microconv('consent', 'denied'));
  await flush(page);
  expect(await stats(page)).toEqual({ dropped: { consent_denied: 12 }, waiting: { endpoint: 0, gtag: 0, meta: 0, datalayer: 0 } });
  const { deliveries } = await probe(page);
  for (const id of ids) expect(statusesOf(deliveries, id)).toEqual(Object.fromEntries(ADAPTERS.map((name) => [name, ['held', 'dropped']])));
  expect(await vendorIds(page)).toEqual({ gtag: [], datalayer: [], meta: [] });
  expect(collector.requests).toEqual([]);
  expect(await stored(page)).toEqual(nothingStored);
});

test('denied: nothing is sent or queued, and every drop is counted', async ({ page, collector }) => {
  await load(page, '/v-denied.html');
  const ids = await visit(page);
  await flush(page);

  expect(await stats(page)).toEqual({ dropped: { consent_denied: 12 }, waiting: { endpoint: 0, gtag: 0, meta: 0, datalayer: 0 } });
  const { deliveries } = await probe(page);
  for (const id of ids) expect(statusesOf(deliveries, id)).toEqual(Object.fromEntries(ADAPTERS.map((name) => [name, ['dropped']])));
  expect(deliveries.every((report) => report.reason === 'consent_denied')).toBe(true);
  expect(await vendorIds(page)).toEqual({ gtag: [], datalayer: [], meta: [] });
  expect(collector.requests).toEqual([]);
  expect(await stored(page)).toEqual(nothingStored);
});

test('by purpose: analytics granted and ads denied reach endpoint, gtag and the dataLayer, not Meta', async ({ page, collector }) => {
  await load(page, '/v-purposes.html?analytics_storage=granted&ad_storage=denied&ad_user_data=denied&ad_personalization=denied');
  const ids = await visit(page);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);

  const reached = await vendorIds(page);
  expect(reached.gtag.slice(0, 3)).toEqual(ids);
  expect(reached.datalayer.slice(0, 3)).toEqual(ids);
  expect(reached.meta).toEqual([]);
  // Three events and the sentinel, each refused by meta alone.
  expect(await stats(page)).toEqual({ dropped: { consent_denied: 4 }, waiting: { endpoint: 0, gtag: 0, meta: 0, datalayer: 0 } });
  for (const id of ids) expect(statusesOf((await probe(page)).deliveries, id).meta).toEqual(['dropped']);
});

test('without analytics_storage nothing is written to localStorage or IndexedDB, and anonymous_id is null', async ({ page }) => {
  await load(page, '/v-purposes.html?analytics_storage=denied&ad_storage=granted&ad_user_data=granted&ad_personalization=granted');
  const ids = await visit(page);
  await flush(page);

  // Meta has its consent and gets everything; the analytics destinations get nothing.
  await expect.poll(async () => (await vendorIds(page)).meta).toEqual(ids);
  const reached = await vendorIds(page);
  expect({ gtag: reached.gtag, datalayer: reached.datalayer }).toEqual({ gtag: [], datalayer: [] });
  const { events } = await probe(page);
  expect(events.map((event) => event.anonymous_id)).toEqual([null, null, null]);
  expect(await stored(page)).toEqual(nothingStored);
  expect(await page.evaluate(() => document.cookie)).toBe('');
});

test('withdrawn (granted, then denied): the browser id, the session and the stored events are removed', async ({ page, collector }) => {
  collector.hold(); // 503: the events stay queued, and stored in IndexedDB, while the endpoint retries
  await load(page, '/v-vendors.html');
  const ids = await visit(page);
  await flush(page);
  await collector.waitFor('a failed attempt', () => collector.requests.length > 0);
  await expect.poll(() => stored(page)).toEqual({ keys: ['microconv:id', 'microconv:session'], localStorage: 2, database: true, records: 3 });
  const before = (await probe(page)).events;
  expect(before.every((event) => event.anonymous_id === before[0]!.anonymous_id && event.anonymous_id)).toBe(true);

  await page.evaluate(() => window.microconv('consent', 'denied'));
  await expect.poll(() => stored(page)).toEqual({ keys: [], localStorage: 0, database: true, records: 0 });
  // What waited for the endpoint is dropped, counted; nothing is waiting anywhere.
  const after = await stats(page);
  expect(after.dropped).toEqual({ consent_denied: 3 });
  expect(after.waiting).toEqual({ endpoint: 0, gtag: 0, meta: 0, datalayer: 0 });
  for (const id of ids) expect(statusesOf((await probe(page)).deliveries, id).endpoint!.at(-1)).toBe('dropped');

  // Later events carry no browser id and store nothing, and the collector, answering again, gets none.
  collector.accept();
  await track(page, 'after_withdrawal');
  await flush(page);
  expect((await probe(page)).events.at(-1)!.anonymous_id).toBeNull();
  expect(await stored(page)).toEqual({ keys: [], localStorage: 0, database: true, records: 0 });
  expect(collector.delivered()).toEqual([]);
});

// Withdrawing storage consent leaves no microconv data in localStorage, the remembered Retry-After included.
test('withdrawn after a Retry-After: no microconv key is left in localStorage', async ({ page, collector }) => {
  collector.answer({ status: 503, retryAfter: '120' });
  await load(page, '/v-vendors.html');
  await track(page, 'pricing_viewed');
  await flush(page);
  await collector.waitFor('the 503', () => collector.requests.length > 0);
  await expect.poll(async () => (await stored(page)).keys.some((key) => key.startsWith('microconv:wait:'))).toBe(true);

  await page.evaluate(() => window.microconv('consent', 'denied'));
  await expect.poll(async () => (await stored(page)).keys).toEqual([]);
});

// Events in flight when consent is withdrawn: if that attempt fails, they are dropped and counted, not retried.
test('withdrawn while a batch is in flight: when that attempt fails, its events are dropped and counted', async ({ page }) => {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  let hit!: () => void;
  const inFlight = new Promise<void>((resolve) => (hit = resolve));
  await page.route('**/collect', async (route) => {
    hit();
    await answered;
    await route.fulfill({ status: 503 });
  });
  await load(page, '/v-vendors.html');
  const id = await track(page, 'pricing_viewed');
  await page.evaluate(() => void window.microconv.flush());
  await inFlight;

  await page.evaluate(() => window.microconv('consent', 'denied'));
  answer();
  // The attempt settles (today as `retrying`, for good); it should end the event, counted.
  const last = async () => statusesOf((await probe(page)).deliveries, id).endpoint!.at(-1);
  await expect.poll(last).not.toBe('queued');
  expect(await last()).toBe('dropped');
  expect(await stats(page)).toMatchObject({ dropped: { consent_denied: 1 }, waiting: { endpoint: 0 } });
});

test('Global Privacy Control denies the ad purposes, even after consent is granted; analytics still flows', async ({ page, collector }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true }));
  await load(page, '/v-pending.html');
  expect(await page.evaluate(() => (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl)).toBe(true);
  const held = await visit(page);
  await page.evaluate(() => window.microconv('consent', 'granted'));
  const later = await track(page, 'after_consent');
  const ids = [...held, later];
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);

  const reached = await vendorIds(page);
  expect(reached.gtag.slice(0, 4)).toEqual(ids);
  expect(reached.datalayer.slice(0, 4)).toEqual(ids);
  expect(reached.meta).toEqual([]);
  expect((await vendorState(page)).fbq!.map((call) => call.args[0])).toEqual(['init', 'track']); // the page's own, nothing of ours
  // Four events and the sentinel: Meta refused each one, for its consent.
  expect((await stats(page)).dropped).toEqual({ consent_denied: 5 });
  for (const id of ids) expect(statusesOf((await probe(page)).deliveries, id).meta).toEqual(['dropped']);
});

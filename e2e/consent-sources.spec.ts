/**
 * Consent from the site's own tools (issue 13), in Chromium, with the vendors' snippets on the page:
 * `data-consent="gtag"` follows Google Consent Mode's commands in the dataLayer, `data-consent="tcf"` an
 * IAB TCF v2.2 CMP (a stand-in, `e2e/pages/v-tcf-cmp.js`, speaking the CMP API). Events wait while
 * consent is pending, go when it is granted, are dropped (counted) when it is denied, and follow later
 * changes. And the gtag adapter's advanced consent mode.
 */
import type { Page } from '@playwright/test';
import { expect, expectDeliveredOnce, flush, load, runPageScript, settle, test, track } from './support/test';
import { dataLayerObjects, fbqEvents, gtagEvents, probe, statusesOf, stored, vendorState } from './support/vendors';

interface Choices {
  purposes?: number[];
  interests?: number[];
  vendors?: number[];
}
declare global {
  interface Window {
    gtag: (...args: unknown[]) => void;
    dataLayer: unknown[];
    /** What the GTM stand-in (`v-gtm-loaded.js`) saw pushed. */
    gtmMessages: unknown[];
    tcfCmp: {
      calls: string[];
      listeners(): number;
      install(): void;
      load(options?: { stored?: Choices; gdprApplies?: boolean }): void;
      ask(): void;
      decide(choices: Choices): void;
    };
  }
}

const ADAPTERS = ['endpoint', 'gtag', 'meta', 'datalayer'];
const PURPOSES = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'];
const all = (value: string) => Object.fromEntries(PURPOSES.map((purpose) => [purpose, value]));
/** Every TCF purpose, and Google as a vendor. */
const EVERYTHING: Choices = { purposes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], vendors: [755] };

const stats = (page: Page) => page.evaluate(() => window.microconv.stats());
const gtag = (page: Page, ...args: unknown[]) => page.evaluate((args) => window.gtag(...args), args);
const statuses = async (page: Page, ids: string[]) => {
  const { deliveries } = await probe(page);
  return ids.map((id) => statusesOf(deliveries, id));
};
const everywhere = (status: string) => Object.fromEntries(ADAPTERS.map((name) => [name, [status]]));

/** The ids that reached each vendor destination. */
async function vendorIds(page: Page) {
  const state = await vendorState(page);
  return {
    gtag: gtagEvents(state).map(([, params]) => params.event_id),
    datalayer: dataLayerObjects(state).map((object) => object.event_id),
    meta: fbqEvents(state).map((args) => (args[3] as { eventID: string }).eventID),
  };
}

/** A CTA click and two custom events; their ids. */
async function visit(page: Page): Promise<string[]> {
  await page.click('[data-mc-cta="hero_signup"]');
  await expect.poll(async () => (await probe(page)).events.length).toBe(1);
  const ids = [(await probe(page)).events[0]!.event_id];
  ids.push(await track(page, 'pricing_viewed', { plan: 'pro' }));
  ids.push(await track(page, 'calculator_used', { invoices: 12 }));
  return ids;
}

/** `ids` reached the collector once each and every vendor destination, in order (settle()'s sentinel after them). */
async function expectEverywhere(page: Page, collector: Parameters<typeof settle>[1], ids: string[]) {
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
  await expect.poll(async () => (await vendorIds(page)).meta.length).toBe(ids.length + 1);
  const reached = await vendorIds(page);
  expect({ gtag: reached.gtag.slice(0, ids.length), datalayer: reached.datalayer.slice(0, ids.length), meta: reached.meta.slice(0, ids.length) }).toEqual({ gtag: ids, datalayer: ids, meta: ids });
}

/** Nothing left the page: held where consent is pending. */
async function expectHeld(page: Page, collector: Parameters<typeof settle>[1], ids: string[]) {
  await flush(page);
  expect(await statuses(page, ids)).toEqual(ids.map(() => everywhere('held')));
  expect(await vendorIds(page)).toEqual({ gtag: [], datalayer: [], meta: [] });
  expect(collector.requests).toEqual([]);
}

test.describe("data-consent='gtag'", () => {
  test('no consent default yet: events wait; an update granting all sends them everywhere, with their ids', async ({ page, collector }) => {
    await load(page, '/v-gtag-consent.html');
    const ids = await visit(page);
    await expectHeld(page, collector, ids);
    await gtag(page, 'consent', 'update', all('granted'));
    await expectEverywhere(page, collector, ids);
  });

  test('a denied default set before microconv loaded drops events, counted; later updates are followed', async ({ page, collector }) => {
    await load(page, `/v-gtag-consent.html?default=${encodeURIComponent(JSON.stringify(all('denied')))}`);
    const ids = await visit(page);
    await flush(page);
    expect(await stats(page)).toEqual({ dropped: { consent_denied: 12 }, waiting: { endpoint: 0, gtag: 0, meta: 0, datalayer: 0 } });
    expect(await statuses(page, ids)).toEqual(ids.map(() => everywhere('dropped')));

    // The person grants analytics only: the analytics destinations get what comes next, Meta nothing.
    await gtag(page, 'consent', 'update', { analytics_storage: 'granted' });
    const granted = await track(page, 'pricing_viewed');
    await settle(page, collector);
    expect(collector.delivered().map((event) => event.name)).toEqual(['pricing_viewed', 'sentinel']);
    expectDeliveredOnce(collector, [granted]);
    const reached = await vendorIds(page);
    expect({ gtag: reached.gtag[0], datalayer: reached.datalayer[0], meta: reached.meta }).toEqual({ gtag: granted, datalayer: granted, meta: [] });

    // And withdraws it: dropped again, counted, and nothing more sent.
    await gtag(page, 'consent', 'update', { analytics_storage: 'denied' });
    const withdrawn = await track(page, 'after_withdrawal');
    await flush(page);
    expect(await statuses(page, [withdrawn])).toEqual([everywhere('dropped')]);
    expect(collector.delivered().map((event) => event.name)).toEqual(['pricing_viewed', 'sentinel']);
    await expect.poll(async () => (await stored(page)).keys).toEqual([]);
  });

  test("wait_for_update: a denied default waits for the CMP's update, which grants", async ({ page, collector }) => {
    await load(page, `/v-gtag-consent.html?default=${encodeURIComponent(JSON.stringify({ ...all('denied'), wait_for_update: 60_000 }))}`);
    const ids = await visit(page);
    await expectHeld(page, collector, ids);
    await gtag(page, 'consent', 'update', all('granted'));
    await expectEverywhere(page, collector, ids);
  });

  test('GTM wrapping dataLayer.push after microconv: both get every push, and GTM keeps them after destroy()', async ({ page, collector }) => {
    await load(page, '/v-gtag-consent.html');
    await runPageScript(page, 'v-gtm-loaded.js');
    await gtag(page, 'consent', 'update', all('granted'));
    const id = await track(page, 'pricing_viewed');
    await settle(page, collector);
    expectDeliveredOnce(collector, [id]);
    const messages = () => page.evaluate(() => window.gtmMessages);
    // GTM saw the consent update and the gtag adapter's event for it.
    expect(await messages()).toContainEqual(['consent', 'update', all('granted')]);
    expect((await messages()).some((message) => Array.isArray(message) && message[0] === 'event' && message[2]?.event_id === id)).toBe(true);

    await page.evaluate(() => window.microconv.destroy());
    const before = (await messages()).length;
    const length = await page.evaluate(() => window.dataLayer.length);
    await gtag(page, 'consent', 'update', all('denied'));
    expect(await messages()).toHaveLength(before + 1);
    expect(await page.evaluate(() => window.dataLayer.length)).toBe(length + 1);
  });

  test('advanced consent mode: events reach gtag while analytics_storage is denied; nothing else leaves, nothing is stored', async ({ page, collector }) => {
    await load(page, `/v-gtag-consent.html?advanced=1&default=${encodeURIComponent(JSON.stringify(all('denied')))}`);
    const ids = await visit(page);
    await flush(page);
    expect(await vendorIds(page)).toEqual({ gtag: ids, datalayer: [], meta: [] });
    expect(collector.requests).toEqual([]);
    expect((await stats(page)).dropped).toEqual({ consent_denied: 9 }); // endpoint, meta, datalayer
    expect((await probe(page)).events.map((event) => event.anonymous_id)).toEqual([null, null, null]);
    expect(await stored(page)).toEqual({ keys: [], localStorage: 0, database: false, records: 0 });
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });
});

test.describe("data-consent='tcf'", () => {
  test('while the CMP asks, events wait; accepting all sends them everywhere', async ({ page, collector }) => {
    await load(page, '/v-tcf.html');
    await page.evaluate(() => window.tcfCmp.load()); // after microconv: the stub had queued its call
    const ids = await visit(page);
    await expectHeld(page, collector, ids);
    await page.evaluate((choices) => window.tcfCmp.decide(choices), EVERYTHING);
    await expectEverywhere(page, collector, ids);
  });

  test('refusing drops what waited, counted; a later change of mind through the CMP is followed', async ({ page, collector }) => {
    await load(page, '/v-tcf.html');
    await page.evaluate(() => window.tcfCmp.load());
    const ids = await visit(page);
    await page.evaluate(() => window.tcfCmp.decide({}));
    await flush(page);
    expect(await stats(page)).toEqual({ dropped: { consent_denied: 12 }, waiting: { endpoint: 0, gtag: 0, meta: 0, datalayer: 0 } });
    expect(await statuses(page, ids)).toEqual(ids.map(() => Object.fromEntries(ADAPTERS.map((name) => [name, ['held', 'dropped']]))));
    expect(collector.requests).toEqual([]);

    await page.evaluate((choices) => (window.tcfCmp.ask(), window.tcfCmp.decide(choices)), EVERYTHING);
    const later = await track(page, 'changed_mind');
    await expectEverywhere(page, collector, [later]);
  });

  test('purpose 1 alone: the analytics destinations get events, Meta none (its ad purposes are denied)', async ({ page, collector }) => {
    await load(page, '/v-tcf.html');
    await page.evaluate(() => window.tcfCmp.load({ stored: { purposes: [1], vendors: [755] } }));
    const ids = await visit(page);
    await settle(page, collector);
    expectDeliveredOnce(collector, ids);
    const reached = await vendorIds(page);
    expect({ gtag: reached.gtag.slice(0, 3), datalayer: reached.datalayer.slice(0, 3), meta: reached.meta }).toEqual({ gtag: ids, datalayer: ids, meta: [] });
    expect((await stats(page)).dropped).toEqual({ consent_denied: 4 }); // Meta: the three and the sentinel
  });

  test('a CMP that loads after microconv, without a stub, is found, and its stored choice (tcloaded) applies', async ({ page, collector }) => {
    await load(page, '/v-tcf.html?stub=0');
    expect(await page.evaluate(() => typeof (window as { __tcfapi?: unknown }).__tcfapi)).toBe('undefined');
    const ids = await visit(page);
    await expectHeld(page, collector, ids);
    await page.evaluate((stored) => window.tcfCmp.load({ stored }), EVERYTHING);
    await expectEverywhere(page, collector, ids);
    expect(await page.evaluate(() => window.tcfCmp.calls)).toEqual(['addEventListener']);
  });

  test('a CMP that never answers: events wait, bounded, and nothing is sent', async ({ page, collector }) => {
    await load(page, '/v-tcf.html');
    const ids = await visit(page);
    await expectHeld(page, collector, ids);
    expect(await stats(page)).toEqual({ dropped: {}, waiting: { endpoint: 3, gtag: 3, meta: 3, datalayer: 3 } });
    expect(await page.evaluate(() => window.tcfCmp.calls)).toEqual(['addEventListener']); // queued by the stub, never answered
    expect(await stored(page)).toEqual({ keys: [], localStorage: 0, database: false, records: 0 });
  });

  test('where GDPR does not apply, everything is granted', async ({ page, collector }) => {
    await load(page, '/v-tcf.html');
    await page.evaluate(() => window.tcfCmp.load({ gdprApplies: false }));
    const ids = await visit(page);
    await expectEverywhere(page, collector, ids);
  });

  test("destroy() removes microconv's listener from the CMP", async ({ page }) => {
    await load(page, '/v-tcf.html');
    await page.evaluate((stored) => window.tcfCmp.load({ stored }), EVERYTHING);
    expect(await page.evaluate(() => window.tcfCmp.listeners())).toBe(1);
    await page.evaluate(() => window.microconv.destroy());
    expect(await page.evaluate(() => window.tcfCmp.listeners())).toBe(0);
    expect(await page.evaluate(() => window.tcfCmp.calls)).toEqual(['addEventListener', 'removeEventListener']);
  });
});

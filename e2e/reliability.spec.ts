/**
 * The fault matrix (issue 10, "Then prove it"): one test per fault, end to end in Chromium against the test
 * collector, which injects the fault. Each test tracks events, lets the fault happen, waits until every
 * tracked event is accounted for (accepted by the collector, or dropped with a counted reason), and then
 * writes its row (tracked, received, duplicates after dedup, raw re-sends, lost, counted drops) for
 * `npm run reliability`, which prints the table. A row passes with 0 lost, 0 duplicates after dedup, and
 * exactly the raw re-sends the scenario causes on purpose (0 but for the collector that answers late).
 *
 * The bfcache scenario runs in the `bfcache` project (its browser keeps the back/forward cache on); every
 * other scenario runs in `chromium`.
 */
import type { BrowserContext, Page, TestInfo } from '@playwright/test';
import { MAX_REQUEST_BYTES, SEND_TIMEOUT_MS } from '../src/core/send';
import { drained, record, row, type Recorder } from './support/reliability';
import type { Collector } from './support/server';
import { expect, flush, load, settle, test } from './support/test';

declare global {
  interface Window {
    /** The scenario's init options, merged over reliability.html's own. */
    reliabilityOptions?: Record<string, unknown>;
  }
}

const PAGE = '/reliability.html';

// A scenario waits on conditions only, some of them on the backoff's timers: on a loaded two-core machine
// that can take longer than the default 30 s, which would fail a scenario that loses nothing.
test.describe.configure({ timeout: 90_000 });

/** Gives `target`'s pages these init options (call before they load). Functions are built in the page by `build`. */
const withOptions = (target: Page | BrowserContext, options: Record<string, unknown>) =>
  target.addInitScript((options) => void (window.reliabilityOptions = options), options);

/** Tracks `count` events named `prefix_i`, in one task; returns their ids. */
const trackMany = (page: Page, prefix: string, count: number): Promise<string[]> =>
  page.evaluate(([prefix, count]) => Array.from({ length: count }, (_, i) => window.microconv.track(`${prefix}_${i}`)), [prefix, count] as const);

/** Starts a send round without waiting for it to settle. */
const kick = (page: Page) => page.evaluate(() => void window.microconv.flush());

/** Tracks `count` events and follows the page's link to /next.html in the same task, as a visitor's click would. */
const trackAndLeave = async (page: Page, prefix: string, count: number): Promise<string[]> => {
  const ids = await page.evaluate(
    ([prefix, count]) => {
      const ids = Array.from({ length: count }, (_, i) => window.microconv.track(`${prefix}_${i}`));
      document.querySelector<HTMLAnchorElement>('#next')!.click();
      return ids;
    },
    [prefix, count] as const,
  );
  await page.waitForURL('**/next.html');
  return ids;
};

/** The requests that carried any of `ids`. */
const carriers = (collector: Collector, ids: string[]) => collector.requests.filter((request) => request.events.some((event) => ids.includes(event.event_id)));

/**
 * Closes the scenario and holds its row to the promise: nothing lost (every missing event dropped with a
 * counted reason), nothing accepted twice after dedup, no raw re-send but those caused on purpose. With
 * `page`, that page's own `stats().dropped` must say what the books say (read before the sentinels of
 * `settle`, which every page in `pages` sends to show that nothing more was on its way, are tracked).
 */
async function finish(
  testInfo: TestInfo,
  books: Recorder,
  collector: Collector,
  scenario: { order: number; name: string; note: string; adapters?: string[]; resendsExpected?: number; page?: Page; pages?: Page[] },
) {
  const counted = await scenario.page?.evaluate(() => window.microconv.stats().dropped);
  for (const page of scenario.pages || (scenario.page ? [scenario.page] : [])) await settle(page, collector);
  const result = row(testInfo, books, collector, scenario);
  expect(result.unaccounted, 'tracked events neither received nor dropped with a counted reason').toEqual([]);
  expect(result.duplicates, 'events accepted twice after deduplication by event_id').toBe(0);
  expect(result.resends, 'raw re-sends of an event_id').toBe(scenario.resendsExpected || 0);
  if (counted) {
    const byReason: Record<string, number> = {};
    for (const [key, count] of Object.entries(result.drops)) byReason[key.replace(/^.*: /, '')] = (byReason[key.replace(/^.*: /, '')] || 0) + count;
    expect(counted, "the page's stats().dropped").toEqual(byReason);
  }
  expect(result.tracked).toBeGreaterThan(0);
  expect(result.status).toBe('pass');
}

test('offline/online flapping', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await load(page, PAGE);
  // Eight flaps, each with events tracked and a send round started just as the network goes or comes back.
  for (let flap = 0; flap < 8; flap++) {
    await trackMany(page, `flap${flap}`, 3);
    await kick(page);
    await context.setOffline(flap % 2 === 0);
  }
  await context.setOffline(false);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 1, name: 'offline/online flapping', note: '8 flaps, 3 events and a send round started at each', page });
});

test('5xx bursts', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  // Requests 1-2 and 5-7 fail with a 5xx; the rest are taken.
  const statuses = [503, 500, 204, 204, 502, 503, 504];
  let request = 0;
  collector.respond(() => statuses[request++]);
  await load(page, PAGE);
  for (let group = 0; group < 6; group++) await trackMany(page, `burst${group}`, 5); // a full batch each: sent at once
  await drained(books, collector);
  expect(collector.requests.map((request) => request.status).slice(0, statuses.length)).toEqual(statuses);
  await finish(testInfo, books, collector, { order: 2, name: '5xx bursts', note: 'answers 503 500 204 204 502 503 504, then 204; retried on the backoff timer', page });
});

test('429 with Retry-After', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await load(page, PAGE);
  const ids: string[] = [];
  // Retry-After in seconds, then as an HTTP date; each time events tracked during the wait wait too.
  for (const asDate of [false, true]) {
    const until = Math.ceil((Date.now() + 2000) / 1000) * 1000; // an HTTP date has whole seconds
    collector.answer({ status: 429, retryAfter: asDate ? new Date(until).toUTCString() : '1' });
    const first = await trackMany(page, `limited${ids.length}`, 5);
    await collector.waitFor('the 429', () => carriers(collector, first).length);
    ids.push(...first, ...(await trackMany(page, `during_wait${ids.length}`, 3)));
    await collector.waitFor('the retry', () => first.every((id) => collector.deliveryCounts().has(id)));
    const [refused, retried] = carriers(collector, first);
    expect([refused!.status, retried!.status]).toEqual([429, 204]);
    // The page's clock is the test's: the retry leaves at the date, or a second after the answer, not before.
    expect(retried!.time).toBeGreaterThanOrEqual(asDate ? until : refused!.time + 990);
  }
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 3, name: '429 with Retry-After', note: 'Retry-After: 1, then an HTTP date 2 to 3 s ahead; no retry before either', page });
});

test('a hanging collector', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await page.clock.install();
  collector.answer('hang');
  await load(page, PAGE);
  const hung = await trackMany(page, 'hung', 5);
  await collector.waitFor('the hanging request', () => collector.hanging === 1);
  await trackMany(page, 'behind_hung', 3);
  // The page gives up on the request after SEND_TIMEOUT_MS, and retries after the backoff.
  await page.clock.runFor(SEND_TIMEOUT_MS);
  await page.clock.runFor(1000);
  await drained(books, collector);
  // Then the stalled collector answers the first request after all: it stored those events too.
  collector.release(204);
  expect(carriers(collector, hung).map((request) => request.status)).toEqual([204, 204]);
  await finish(testInfo, books, collector, {
    order: 4,
    name: 'a hanging collector',
    note: `the first request hangs; the page times it out (${SEND_TIMEOUT_MS / 1000} s) and resends; the collector then answers the hung one too: 5 raw re-sends, one row each after dedup`,
    resendsExpected: 5,
    page,
  });
});

test('navigation during a send', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  collector.answer('hang');
  await load(page, PAGE);
  await trackMany(page, 'in_flight', 5);
  await collector.waitFor('the request in flight', () => collector.hanging === 1);
  await trackAndLeave(page, 'queued_at_leave', 3);
  collector.release(204); // the keepalive request outlived its page
  await load(page, PAGE); // the next page load sends whatever the left page freed
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 5, name: 'navigation during a send', note: '5 events in a request the collector holds while the page navigates away with 3 more queued', pages: [page] });
});

test('closing the tab', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await withOptions(page, { batch: { size: 50, intervalMs: 60_000 } });
  await load(page, PAGE);
  const sent = await trackMany(page, 'before_close', 3);
  await flush(page);
  await collector.waitFor('the first batch', () => sent.every((id) => collector.deliveryCounts().has(id)));
  await trackMany(page, 'at_close', 4);
  await page.close();
  const next = await context.newPage();
  await load(next, PAGE);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 6, name: 'closing the tab', note: '3 events sent, then 4 queued when the tab is closed; a new tab opened after', pages: [next] });
});

/** Resolves once `count` events are stored in the page's IndexedDB (asking again and again: no timer). */
const storedEvents = (page: Page, count: number) =>
  page.evaluate(async (count) => {
    const ask = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((request.onsuccess = () => resolve(request.result)), (request.onerror = reject)));
    for (;;) {
      const db = await ask(indexedDB.open('microconv'));
      const stored = await ask(db.transaction('outbox').objectStore('outbox').count());
      db.close();
      if (stored >= count) return stored;
    }
  }, count);

test('a crashed renderer', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await load(page, PAGE);
  collector.hold();
  const refused = await trackMany(page, 'refused_before_crash', 5);
  await collector.waitFor('the refusal', () => carriers(collector, refused).length);
  await trackMany(page, 'tracked_before_crash', 2);
  await storedEvents(page, 7); // what a crash can spare: what is stored
  const crashed = page.waitForEvent('crash');
  const cdp = await context.newCDPSession(page);
  void cdp.send('Page.crash').catch(() => {}); // answered by no one: the renderer is gone
  await crashed;
  await page.close();
  collector.accept();
  const next = await context.newPage();
  await load(next, PAGE);
  // Within seconds, not the 60 s a lease would hold them: the dead tab's Web Lock is gone at once
  // (10 s leaves room for a loaded machine and is still far from the lease).
  await drained(books, collector, undefined, 10_000);
  await finish(testInfo, books, collector, { order: 7, name: 'a crashed renderer (CDP Page.crash)', note: '5 events refused (503) and 2 more stored, then the renderer crashes; the next page sends them within 10 s (a lease would hold them 60 s)', page: next });
});

/**
 * Leaves for /next.html and comes back; resolves with `event.persisted` of every `pageshow` so far, once
 * the return's has fired (a reloaded page, not restored, answers at once, without it).
 */
async function leaveAndComeBack(page: Page): Promise<boolean[]> {
  const shows = await page.evaluate(() => ((window.probe.cached = true), window.probe.pageshows!.length));
  await page.locator('#next').click();
  await page.waitForURL('**/next.html');
  await page.goBack({ waitUntil: 'commit' }); // a restored page fires no load event
  return page.evaluate(
    (shows) =>
      new Promise<boolean[]>((resolve) => {
        const probe = window.probe;
        const check = () => (probe.pageshows!.length > shows || !probe.cached) && resolve(probe.pageshows!);
        probe.onshow = check;
        check();
      }),
    shows,
  );
}

test('bfcache restore @bfcache', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await page.addInitScript(() => {
    const probe: typeof window.probe = (window.probe = { pageshows: [] });
    addEventListener('pageshow', (event) => (probe.pageshows!.push(event.persisted), probe.onshow?.()));
  });
  await withOptions(page, { batch: { size: 50, intervalMs: 60_000 } });
  await load(page, PAGE);
  // Queued as the page is hidden: they leave by beacon.
  await trackMany(page, 'before_away', 3);
  expect(await leaveAndComeBack(page), 'restored from the back/forward cache, not reloaded').toEqual([false, true]);
  // Refused, then hidden: they are freed for later, and the restored page sends them.
  collector.hold();
  const refused = await trackMany(page, 'refused_before_away', 2);
  await kick(page);
  await collector.waitFor('the refusal', () => carriers(collector, refused).length);
  collector.accept();
  expect(await leaveAndComeBack(page)).toEqual([false, true, true]);
  await trackMany(page, 'after_restore', 2);
  await flush(page);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 8, name: 'bfcache restore', note: 'left and restored twice: with 3 events queued, then with 2 refused; 2 more after', page });
});

test('two tabs sharing the stored queue', async ({ context, collector }, testInfo) => {
  const books = await record(context);
  // A closed page leaves 8 events stored, unsent (offline); the collector holds meanwhile, so that a
  // request that escapes the offline emulation from the closing page cannot pass for a delivery.
  const left = await context.newPage();
  await load(left, PAGE);
  collector.hold();
  await context.setOffline(true);
  await trackMany(left, 'left_behind', 8);
  await left.goto('about:blank');
  await left.close();
  await context.setOffline(false);
  // Two tabs open together over them, and track their own while every third request fails.
  let request = 0;
  collector.accept();
  collector.respond(() => (++request % 3 === 0 ? 503 : undefined));
  const tabs = await Promise.all([context.newPage(), context.newPage()]);
  await Promise.all(tabs.map((tab) => tab.goto(PAGE)));
  for (let round = 0; round < 4; round++) await Promise.all(tabs.map((tab, i) => trackMany(tab, `tab${i}_round${round}`, 4).then(() => kick(tab))));
  // The fault ends with the tracking; a kick sends what waits at once, not after a backoff that the
  // repeated 503s (an event can meet one every time) may have grown past the test's patience.
  collector.respond(undefined);
  await Promise.all(tabs.map((tab) => kick(tab)));
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 9, name: 'two tabs sharing the stored queue', note: "8 events a closed page left, 32 tracked by two tabs opened together; every third request 503", pages: tabs });
});

test('IndexedDB broken', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await context.addInitScript(() => {
    IDBFactory.prototype.open = () => {
      throw new DOMException('IndexedDB is blocked here', 'SecurityError');
    };
  });
  await load(page, PAGE);
  await trackMany(page, 'memory', 5);
  await trackAndLeave(page, 'memory_last', 3); // from memory, by beacon
  await load(page, PAGE);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 10, name: 'IndexedDB broken (open throws)', note: '5 events sent from memory, 3 by beacon as the page is left', page });
});

test('IndexedDB over quota', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  // Once `quotaFull` is set, every IndexedDB write transaction aborts with a QuotaExceededError, as a
  // full disk makes it; deletes still work, as they do then. A new page load starts with room again.
  await context.addInitScript(() => {
    const w = window as unknown as { quotaFull?: boolean };
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: [unknown, IDBValidKey?]) {
      const request = put.apply(this, args);
      if (w.quotaFull) {
        const transaction = this.transaction;
        Object.defineProperty(transaction, 'error', { value: new DOMException('The quota has been exceeded.', 'QuotaExceededError') });
        transaction.abort();
      }
      return request;
    };
  });
  /** Events stored, then refused (503); then the quota runs out, and the page tracks more. */
  const fillUp = async (prefix: string) => {
    collector.hold();
    const stored = await trackMany(page, `${prefix}_stored`, 3);
    await kick(page);
    await collector.waitFor('the refusal', () => carriers(collector, stored).length);
    await storedEvents(page, 3);
    await page.evaluate(() => void ((window as unknown as { quotaFull: boolean }).quotaFull = true));
    await trackMany(page, `${prefix}_when_full`, 2);
    collector.accept();
  };
  // Sent from memory by the open page; then again, with the page left at once (by beacon).
  await load(page, PAGE);
  await fillUp('flushed');
  await flush(page);
  await page.goto('/next.html');
  await load(page, PAGE); // room again: whatever is still stored is this page's to send
  await fillUp('left');
  await trackAndLeave(page, 'left_at_once', 2);
  await load(page, PAGE);
  await drained(books, collector);
  await finish(testInfo, books, collector, {
    order: 11,
    name: 'IndexedDB over quota',
    note: 'twice: 3 events stored and refused, the quota runs out, 2 more tracked; sent by the open page, then by a page left at once; the next page load has room again',
    page,
  });
});

test('sendBeacon refusing', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await page.addInitScript(() => void (Navigator.prototype.sendBeacon = () => false));
  await load(page, PAGE);
  await trackMany(page, 'before_leave', 5);
  const leaving = await trackAndLeave(page, 'at_leave', 4);
  await collector.waitFor('the events left with the page', () => leaving.every((id) => collector.deliveryCounts().has(id)));
  expect(carriers(collector, leaving).map((request) => request.fetchMode)).toEqual(['cors']); // fetch keepalive, not a beacon
  await load(page, PAGE);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 12, name: 'sendBeacon refusing', note: 'sendBeacon returns false: 4 events queued at leave go by fetch keepalive', page });
});

/** The wire envelope around the events: `{"v":1,"sent_at":"<24 characters>","events":[` and `]}`. */
const ENVELOPE = JSON.stringify({ v: 1, sent_at: new Date().toISOString(), events: [] }).length;

/**
 * Tracks three events whose payload, sent as one request, would be exactly `bytes` long (each under the
 * 32 KiB an event may have): the first, padded with 20,000 characters, is measured as tracked (the page's
 * context makes its size), the other two are padded to share the rest.
 */
const trackBytes = (page: Page, prefix: string, bytes: number): Promise<string[]> =>
  page.evaluate(
    ([prefix, bytes, envelope]) => {
      let last: unknown;
      const off = window.microconv.on('event', (event) => void (last = event));
      const pad = 20_000;
      const first = window.microconv.track(`${prefix}_1`, { pad: 'x'.repeat(pad) });
      const size = new TextEncoder().encode(JSON.stringify(last)).length;
      const rest = bytes - envelope - 2 - size; // two commas between three events
      const padTo = (share: number) => ({ pad: 'x'.repeat(share - (size - pad)) });
      const ids = [first, window.microconv.track(`${prefix}_2`, padTo(Math.floor(rest / 2))), window.microconv.track(`${prefix}_3`, padTo(Math.ceil(rest / 2)))];
      off();
      return ids;
    },
    [prefix, bytes, ENVELOPE] as const,
  );

for (const [order, kib] of [
  [13, 63],
  [14, 64],
  [15, 65],
] as const) {
  test(`a batch of ${kib} KiB`, async ({ page, context, collector }, testInfo) => {
    const books = await record(context);
    await withOptions(page, { batch: { size: 100, intervalMs: 3_600_000 } });
    await load(page, PAGE);
    // Sent while the page lives, then left with the same again: by beacon what fits, the rest by the next page.
    const live = await trackBytes(page, 'live', kib * 1024);
    await flush(page);
    await collector.waitFor('the live batch', () => live.every((id) => collector.deliveryCounts().has(id)));
    const liveRequests = carriers(collector, live).map((request) => request.bytes);
    const leaving = await trackBytes(page, 'leaving', kib * 1024);
    await page.locator('#next').click();
    await page.waitForURL('**/next.html');
    await load(page, PAGE);
    await drained(books, collector);
    const leavingRequests = carriers(collector, leaving).map((request) => request.bytes);
    for (const bytes of [...liveRequests, ...leavingRequests]) expect(bytes).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    // 63 KiB goes as one request, byte for byte the size planned; 64 and 65 KiB are split.
    if (kib === 63) expect(liveRequests).toEqual([kib * 1024]);
    else expect(liveRequests).toHaveLength(2);
    await finish(testInfo, books, collector, {
      order,
      name: `batches of ${kib} KiB`,
      note: `3 events making ${kib * 1024} bytes as one payload; requests while live: ${liveRequests.join(' + ')} B; when left: ${leavingRequests.join(' + ')} B`,
      page,
    });
  });
}

test('vendor scripts blocked', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  // No gtag, dataLayer or fbq ever comes (an ad blocker); each adapter waits 500 ms, once.
  await withOptions(page, { adapters: ['endpoint', 'gtag', 'meta'], gtag: { waitMs: 500 }, meta: { waitMs: 500 } });
  await load(page, PAGE);
  await trackMany(page, 'blocked', 6);
  await drained(books, collector, ['endpoint', 'gtag', 'meta']);
  await finish(testInfo, books, collector, {
    order: 16,
    name: 'vendor scripts blocked',
    note: 'endpoint, gtag and meta; gtag and fbq never load: those adapters drop, counted, after one bounded wait',
    adapters: ['endpoint', 'gtag', 'meta'],
    page,
  });
});

test('an adapter that throws or never settles', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  await page.clock.install();
  await page.addInitScript(() => {
    window.reliabilityOptions = {
      adapters: [
        'endpoint',
        { name: 'thrower', send: () => { throw new Error('thrower is broken'); } }, // prettier-ignore
        { name: 'hanger', send: () => new Promise(() => {}) },
      ],
    };
  });
  await load(page, PAGE);
  const ids = await trackMany(page, 'beside_broken', 10);
  // The endpoint is held up by neither: its two batches arrive while the clock has not moved.
  await collector.waitFor('the endpoint batches', () => ids.every((id) => collector.deliveryCounts().has(id)));
  // The thrower is retried twice, the hanger times out three times (SEND_TIMEOUT_MS each): then both drop, counted.
  for (let minute = 0; minute < 2; minute++) await page.clock.runFor(60_000);
  await drained(books, collector, ['endpoint', 'thrower', 'hanger']);
  await finish(testInfo, books, collector, {
    order: 17,
    name: 'an adapter that throws or never settles',
    note: 'beside the endpoint, one adapter throws and one returns a promise that never settles: 3 attempts each, then counted drops',
    adapters: ['endpoint', 'thrower', 'hanger'],
    page,
  });
});

test('a poison event the collector never takes (503)', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  collector.respond((events) => (events.some((event) => event.name === 'poison') ? 503 : undefined));
  await load(page, PAGE);
  await trackMany(page, 'poison_neighbour', 2);
  await page.evaluate(() => window.microconv.track('poison'));
  await trackMany(page, 'poison_neighbour_late', 2); // a batch of 5 with the poison: sent at once, refused
  // The visitor goes on; every other event arrives while the poison is retried, until its budget is spent.
  for (let i = 0; !(await page.evaluate(() => window.microconv.stats().dropped.undeliverable)); i++) {
    expect(i, 'rounds before the poison is dropped').toBeLessThan(30);
    const [id] = await trackMany(page, `after_poison${i}`, 1);
    await flush(page);
    await collector.waitFor(`after_poison${i}`, () => collector.deliveryCounts().has(id!), 20_000);
  }
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 18, name: 'poison event (503 whenever present)', note: 'the collector answers 503 to any request carrying it; the visitor keeps tracking', page });
});

test('a poison event the collector names as rejected', async ({ page, context, collector }, testInfo) => {
  const books = await record(context);
  collector.respond((events) => ({
    status: 200,
    body: { rejected: events.filter((event) => event.name === 'poison').map((event) => ({ event_id: event.event_id, problems: ['params: cannot be stored'] })) },
  }));
  await load(page, PAGE);
  await trackMany(page, 'before_poison', 2);
  await page.evaluate(() => window.microconv.track('poison'));
  await trackMany(page, 'after_poison', 7);
  await drained(books, collector);
  await finish(testInfo, books, collector, { order: 19, name: 'poison event (named rejected in a 200)', note: 'the collector stores the batch but names the poison as rejected', page });
});

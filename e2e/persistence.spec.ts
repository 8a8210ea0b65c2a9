import type { BrowserContext, Page } from '@playwright/test';
import type { Collector } from './support/server';
import { expect, expectDeliveredOnce, flush, load, settle, test, track } from './support/test';

interface LeaveOptions {
  /** Runs once the page has loaded, before it tracks. */
  loaded?: () => Promise<unknown>;
  /** Leaves only once the events are in IndexedDB, for a test that reads or rewrites them there. */
  stored?: boolean;
}

/**
 * A page that tracks `names` while the browser is offline and is then left and closed: it cannot send, so
 * it frees the events in IndexedDB for the next page. The collector holds (503, nothing delivered)
 * meanwhile, so that a request that escapes the offline emulation from the closing page cannot pass for a
 * delivery.
 */
async function leaveBehindOffline(context: BrowserContext, collector: Collector, names: string[], { loaded, stored }: LeaveOptions = {}): Promise<string[]> {
  const page = await context.newPage();
  await load(page, '/track.html');
  await loaded?.();
  collector.hold();
  await context.setOffline(true);
  const ids: string[] = [];
  for (const name of names) ids.push(await track(page, name));
  if (stored) await storedEvents(page, names.length);
  // The page is unloaded (pagehide) before it is closed: page.close() alone resolves while the renderer still
  // runs the page, which then saw the `online` event below, claimed its events again and died holding them.
  await page.goto('about:blank');
  await page.close();
  await context.setOffline(false);
  collector.accept();
  return ids;
}

/**
 * The next page must send what a left or crashed page left within seconds: well inside the 60 s lease, so
 * that a broken hand-over (the left page's GONE_KEY mark, or a dead tab's Web Lock) cannot pass for one by
 * waiting the lease out.
 */
const WITHIN_SECONDS = 5_000;

/** Waits for `names`, which a left page freed, to arrive: at once, without waiting out any lease. */
const waitForLeftEvents = (collector: Collector, names: string[]) => collector.waitForDelivered(names, WITHIN_SECONDS);

/** Resolves once `count` events are stored in the page's IndexedDB (asking it again and again: no timer). */
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

/**
 * Opens a page of the site, without microconv, that holds a read-write transaction on microconv's store
 * until the returned function is called: the IndexedDB writes of other pages wait behind it, as they do
 * behind another tab's claim. Resolves once the store is held; the release resolves to the events stored
 * once the writes that waited have run.
 */
async function holdStore(context: BrowserContext, pageHeaders: Record<string, string>): Promise<() => Promise<number>> {
  const holder = await context.newPage();
  await holder.route('**/holds-the-store.html', (route) => route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: '<!doctype html><title>Another page of the site</title>' }));
  await holder.goto('/holds-the-store.html');
  await holder.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('microconv');
        open.onerror = reject;
        open.onsuccess = () => {
          const store = open.result.transaction('outbox', 'readwrite').objectStore('outbox');
          // One request after another keeps the transaction alive until released.
          const spin = () => ((window as { released?: boolean }).released ? open.result.close() : (store.get('').onsuccess = spin));
          spin();
          resolve();
        };
      }),
  );
  return async () => {
    await holder.evaluate(() => ((window as { released?: boolean }).released = true));
    const stored = await holder.evaluate(async () => {
      const ask = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((request.onsuccess = () => resolve(request.result)), (request.onerror = reject)));
      const db = await ask(indexedDB.open('microconv'));
      const count = await ask(db.transaction('outbox', 'readwrite').objectStore('outbox').count());
      db.close();
      return count;
    });
    await holder.close();
    return stored;
  };
}

/** Takes Web Locks away from every page of the context: the claims on stored events fall back to leases. */
const withoutWebLocks = (context: BrowserContext) => context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true }));

/**
 * Makes every IndexedDB write that `page` starts from its pagehide on a no-op: what happens, now and then,
 * to the writes of a page that is being torn down (they do not land). Only the page's GONE_KEY mark in
 * localStorage then tells the next page which events it freed and which it sent.
 */
const dropWritesFromPagehide = (page: Page) =>
  page.addInitScript(() =>
    addEventListener('pagehide', () => {
      IDBObjectStore.prototype.put = IDBObjectStore.prototype.delete = function (this: IDBObjectStore) {
        return {} as IDBRequest;
      };
    }, true),
  );

test('a stored event costs the page no call back once its write lands: only a failure is listened for', async ({ page }) => {
  // Counts the completion and failure handlers set on IndexedDB transactions.
  await page.addInitScript(() => {
    const counts: Record<string, number> = ((window as unknown as { idbHandlers: Record<string, number> }).idbHandlers = { complete: 0, abort: 0 });
    for (const type of ['complete', 'abort']) {
      const { get, set } = Object.getOwnPropertyDescriptor(IDBTransaction.prototype, 'on' + type)!;
      Object.defineProperty(IDBTransaction.prototype, 'on' + type, {
        configurable: true,
        get,
        set(handler) {
          if (handler) counts[type]!++;
          set!.call(this, handler);
        },
      });
    }
  });
  await page.goto('/track.html');
  // microconv's idle moment has come (it keeps the session), and the round it starts is over: a claim
  // does wait for its commit.
  await page.waitForFunction(() => localStorage.getItem('microconv:session'));
  await flush(page);
  const before = await page.evaluate(() => ({ ...(window as unknown as { idbHandlers: Record<string, number> }).idbHandlers }));
  for (const name of ['stored_one', 'stored_two', 'stored_three']) await track(page, name); // a task each: a write each
  await storedEvents(page, 3);
  const after = await page.evaluate(() => (window as unknown as { idbHandlers: Record<string, number> }).idbHandlers);
  expect({ complete: after.complete! - before.complete!, abort: after.abort! - before.abort! }).toEqual({ complete: 0, abort: 3 });
});

const NAMES = ['offline_one', 'offline_two', 'offline_three'];

for (const locks of ['with Web Locks', 'without Web Locks'])
test(`offline, then left and closed: the next page load sends the events, with their ids, once (${locks})`, async ({ context, collector }) => {
  if (locks === 'without Web Locks') await withoutWebLocks(context);
  const ids = await leaveBehindOffline(context, collector, NAMES);
  expect(collector.delivered()).toEqual([]);

  const page = await context.newPage();
  await page.goto('/track.html');
  await waitForLeftEvents(collector, NAMES);
  const events = collector.delivered().filter((event) => NAMES.includes(event.name));
  expect(events.map((event) => event.event_id).sort()).toEqual([...ids].sort());
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

test('two tabs opened together over what a closed page left: each event is sent once', async ({ context, collector }) => {
  const names = Array.from({ length: 12 }, (_, i) => `left_${i}`);
  const ids = await leaveBehindOffline(context, collector, names);

  const tabs = await Promise.all([context.newPage(), context.newPage()]);
  await Promise.all(tabs.map((tab) => tab.goto('/track.html')));
  await waitForLeftEvents(collector, names);
  for (const tab of tabs) await settle(tab, collector);
  expectDeliveredOnce(collector, ids);
});

test('an open page that went offline sends what it queued as soon as the browser is back online', async ({ page, context, collector }) => {
  await page.clock.install();
  await load(page, '/track.html');
  // No timer fires from here on: only the `online` event can start the next send.
  await page.clock.pauseAt(Date.now() + 60_000);
  collector.hold();
  await context.setOffline(true);
  const ids = [await track(page, 'queued_offline_one'), await track(page, 'queued_offline_two')];
  await flush(page); // offline: nothing goes
  collector.accept();
  await context.setOffline(false);
  await collector.waitForDelivered(['queued_offline_one', 'queued_offline_two']);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

// Contract 4 and issue 10, defect 3: a crashed or killed tab's claim on its stored events dies with it (its
// Web Lock), so the next page of the site sends them within seconds; where Web Locks are missing, the 60 s
// lease decides, and a page that stays open takes them over by itself when it runs out.

/** A page that will die without a goodbye: its pagehide and visibilitychange never reach microconv. */
async function openDoomedPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(() => {
    for (const type of ['pagehide', 'visibilitychange']) addEventListener(type, (event) => event.stopImmediatePropagation(), true);
  });
  await load(page, '/track.html');
  return page;
}

/** Crashes the page's renderer (CDP `Page.crash`), as a tab crashes. */
async function crash(page: Page): Promise<void> {
  const crashed = page.waitForEvent('crash');
  const cdp = await page.context().newCDPSession(page);
  void cdp.send('Page.crash').catch(() => {}); // answered by no one: the renderer is gone
  await crashed;
  await page.close();
}

/** Tracks `names` on `page` while the collector refuses them (503), and waits for that refusal. */
async function trackRefused(page: Page, collector: Collector, names: string[]): Promise<string[]> {
  collector.hold();
  const ids: string[] = [];
  for (const name of names) ids.push(await track(page, name));
  await flush(page);
  await collector.waitFor('the refused attempt', () => collector.requests.some((request) => request.events.some((event) => ids.includes(event.event_id))));
  return ids;
}

test("a crashed tab's events, refused once, are sent by the next page of the site within seconds", async ({ context, collector }) => {
  const doomed = await context.newPage();
  await load(doomed, '/track.html');
  const names = ['refused_before_crash_one', 'refused_before_crash_two'];
  const ids = await trackRefused(doomed, collector, names);
  await context.setOffline(true);
  await crash(doomed);
  await context.setOffline(false);
  collector.accept();

  const page = await context.newPage();
  await page.goto('/track.html');
  await collector.waitForDelivered(names, WITHIN_SECONDS);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

test('a page that stays open sends what a tab that crashed meanwhile left, within seconds, by itself', async ({ context, collector }) => {
  const doomed = await context.newPage();
  await load(doomed, '/track.html');
  const names = ['left_by_crash_one', 'left_by_crash_two'];
  const ids = await trackRefused(doomed, collector, names); // and refused while the tab lives, so it cannot send them itself
  const open = await context.newPage();
  await load(open, '/track.html'); // sees the other tab's events, alive: not its own to send

  await crash(doomed);
  collector.accept();
  await collector.waitForDelivered(names, WITHIN_SECONDS); // no flush, no reload: the open page was woken
  await settle(open, collector);
  expectDeliveredOnce(collector, ids);
});

// Contract 4: unsent events survive a killed tab, even one killed right after tracking them.
test('events tracked right before the tab is killed, never sent, are sent by the next page within seconds', async ({ context, collector }) => {
  const doomed = await openDoomedPage(context);
  const names = ['tracked_before_kill_one', 'tracked_before_kill_two'];
  const ids = [await track(doomed, names[0]!), await track(doomed, names[1]!)];
  await doomed.close();
  const page = await context.newPage();
  await page.goto('/track.html');
  await collector.waitForDelivered(names, WITHIN_SECONDS);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

test("without Web Locks, a page that stays open takes over a crashed tab's events when their lease runs out, not before", async ({ context, collector }) => {
  await withoutWebLocks(context);
  await context.clock.install();
  const doomed = await context.newPage();
  await load(doomed, '/track.html');
  expect(await doomed.evaluate(() => 'locks' in navigator && navigator.locks)).toBeFalsy();
  const names = ['leased_one', 'leased_two'];
  const ids = await trackRefused(doomed, collector, names);
  await crash(doomed);
  collector.accept();

  const page = await context.newPage();
  await page.goto('/track.html');
  await settle(page, collector); // within the lease, the crashed tab's events are not this page's to send
  expect(collector.delivered().filter((event) => ids.includes(event.event_id))).toEqual([]);
  await page.clock.fastForward('01:01');
  await collector.waitForDelivered(names, WITHIN_SECONDS); // no flush, no reload: its own timer
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

// A closing page beacons what fits the 64 KiB a page may have in flight and frees the rest; its IndexedDB writes
// from pagehide may not land, and then its GONE_KEY mark alone tells the next page which is which.
for (const locks of ['with Web Locks', 'without Web Locks'])
test(`a closed page whose last IndexedDB writes did not land: the next page sends what it freed at once, and nothing it beaconed again (${locks})`, async ({ page, context, collector }) => {
  if (locks === 'without Web Locks') await withoutWebLocks(context);
  await dropWritesFromPagehide(page);
  await load(page, '/large.html');
  const names = Array.from({ length: 5 }, (_, i) => `handed_over_${i}`);
  const ids = await page.evaluate((names) => names.map((name) => window.microconv.track(name, { text: 'x'.repeat(20_000) })), names);
  await storedEvents(page, 5);
  await page.goto('/next.html');
  await collector.waitFor('the beacon of the closing page', () => collector.delivered().length === 3);
  await page.goto('/large.html');
  await collector.waitForDelivered(names, WITHIN_SECONDS);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

// Found by CI: IndexedDB writes that have not landed when a page is torn down are aborted with it. Here
// they wait behind another tab's transaction; a busy machine makes the same window. The closing page's
// GONE_KEY mark then carries the events themselves, and the next page takes them from it.
test('a closed page whose IndexedDB writes were still waiting behind another tab: the next page sends its events from its mark, once', async ({ context, collector, pageHeaders }) => {
  const names = ['write_waited_0', 'write_waited_1', 'write_waited_2'];
  let release: () => Promise<number> = async () => 0;
  const ids = await leaveBehindOffline(context, collector, names, { loaded: async () => (release = await holdStore(context, pageHeaders)) });
  // The store held nothing once the writes that waited had their turn: they died with the page.
  expect(await release()).toBe(0);
  const page = await context.newPage();
  await page.goto('/track.html');
  await waitForLeftEvents(collector, names);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

for (const [variant, breakIndexedDB] of [
  [
    'indexedDB.open throws',
    () => {
      IDBFactory.prototype.open = () => {
        throw new DOMException('IndexedDB is blocked here', 'SecurityError');
      };
    },
  ],
  [
    "indexedDB.open's request fails",
    () => {
      // A request that fails as a real one does: `error` set, then its error handler called, a task later.
      IDBFactory.prototype.open = () => {
        const request = { error: new DOMException('The database is broken', 'UnknownError') } as { error: DOMException; onerror?: (event: Event) => void };
        setTimeout(() => request.onerror?.(new Event('error')));
        return request as unknown as IDBOpenDBRequest;
      };
    },
  ],
] as const) {
  test(`where ${variant}, events still go from the open page`, async ({ page, collector }) => {
    await page.addInitScript(breakIndexedDB);
    await load(page, '/track.html');
    const probe = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          try {
            const request = indexedDB.open('microconv');
            request.onsuccess = () => resolve('opened');
            request.onerror = () => resolve('failed');
          } catch {
            resolve('threw');
          }
        }),
    );
    expect(probe).toBe(variant === 'indexedDB.open throws' ? 'threw' : 'failed');

    const ids = [await track(page, 'memory_one'), await track(page, 'memory_two')];
    await flush(page);
    await collector.waitForDelivered(['memory_one', 'memory_two']);
    await settle(page, collector);
    // And from memory, the last events go when the page is left.
    const last = await page.evaluate(() => {
      const id = window.microconv.track('memory_last');
      document.querySelector<HTMLAnchorElement>('#next')!.click();
      return id;
    });
    await page.waitForURL('**/next.html');
    await collector.waitForDelivered(['memory_last']);
    expectDeliveredOnce(collector, [...ids, last]);
  });
}

// An event tracked while a send round claims from IndexedDB was not in what the claim read, and the round
// used to rebuild the page's queue from the claim alone, so the page forgot it (fixed in bb8d282).
test('an event tracked while a send round claims from IndexedDB is not forgotten', async ({ page, collector }) => {
  await load(page, '/track.html');
  const id = await page.evaluate(async () => {
    const round = window.microconv.flush(); // its claim is running from here on
    const id = window.microconv.track('during_claim');
    await round;
    return id;
  });
  // Sent already, or still queued: either way it leaves with the page, or with the next one at the latest.
  await page.locator('#next').click();
  await page.waitForURL('**/next.html');
  await load(page, '/track.html');
  await collector.waitForDelivered(['during_claim']);
  await settle(page, collector);
  expectDeliveredOnce(collector, [id]);
});

// Stored events had one-letter field names (`e` event, `o` owner, `l` lease end, `q` sequence) before they
// got real ones: what a page of that version left in IndexedDB must still be read, claimed and sent, once.
test('events stored by the previous version, under one-letter names, are claimed, rewritten and sent once', async ({ context, collector, pageHeaders }) => {
  const names = ['old_format_freed', 'old_format_closed_page', 'old_format_crashed_tab'];
  const ids = await leaveBehindOffline(context, collector, names, { stored: true });
  // As the previous version would have left them: one freed, one still the closed page's (its GONE_KEY mark
  // says it freed it), one a crashed tab's (no lock, its lease run out) that had failed twice on its own.
  const other = await context.newPage();
  await other.route('**/without-microconv.html', (route) => route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: '<!doctype html><title>A page of the site without microconv</title>' }));
  await other.goto('/without-microconv.html');
  const rewritten = await other.evaluate(async (ids) => {
    const ask = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((request.onsuccess = () => resolve(request.result)), (request.onerror = reject)));
    const mark = Object.keys(localStorage).find((key) => key.startsWith('microconv:gone:'))!;
    const closedPage = mark.slice(mark.lastIndexOf(' ') + 1);
    const db = await ask(indexedDB.open('microconv'));
    const store = db.transaction('outbox', 'readwrite').objectStore('outbox');
    const [keys, rows] = await Promise.all([ask(store.getAllKeys()), ask(store.getAll())]);
    const old = rows.map((row, i) => {
      const e = row.event;
      const at = ids.indexOf(e.event_id);
      const owner = [{ o: null, l: 0 }, { o: closedPage, l: Date.now() + 60_000 }, { o: 'a-crashed-tab', l: Date.now() - 1, suspect: true, strikes: 2 }][at]!;
      return [{ e, q: at + 1, ...owner }, keys[i]!] as const;
    });
    await Promise.all(old.map(([row, key]) => ask(store.put(row, key))));
    db.close();
    return old.map(([row]) => Object.keys(row).sort().join()).sort();
  }, ids);
  expect(rewritten).toEqual(['e,l,o,q', 'e,l,o,q', 'e,l,o,q,strikes,suspect']);
  await other.close();

  // The next page of this version claims them (while the collector refuses them), which rewrites them under today's names...
  collector.hold();
  const page = await context.newPage();
  await page.goto('/track.html');
  const stored = await page.evaluate(async () => {
    const ask = <T>(request: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((request.onsuccess = () => resolve(request.result)), (request.onerror = reject)));
    for (;;) {
      const db = await ask(indexedDB.open('microconv'));
      const rows = await ask(db.transaction('outbox').objectStore('outbox').getAll());
      db.close();
      if (rows.length && rows.every((row) => !('e' in row))) return rows.map((row) => [row.event.name, row.owner !== null, row.strikes || 0]).sort();
    }
  });
  expect(stored).toEqual([
    ['old_format_closed_page', true, 0],
    ['old_format_crashed_tab', true, 2],
    ['old_format_freed', true, 0],
  ]);
  // ...and sends them, with their ids, once.
  collector.accept();
  await flush(page);
  await waitForLeftEvents(collector, names);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

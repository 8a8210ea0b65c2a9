import type { BrowserContext } from '@playwright/test';
import type { Collector } from './support/server';
import { expect, expectDeliveredOnce, flush, load, settle, test, track } from './support/test';

/**
 * A page that tracks `names` while the browser is offline and is then closed: it cannot send, so it
 * leaves the events in IndexedDB. The collector holds (503, nothing delivered) meanwhile, so that a request
 * that escapes the offline emulation from the closing page cannot pass for a delivery.
 */
async function leaveBehindOffline(context: BrowserContext, collector: Collector, names: string[]): Promise<string[]> {
  const page = await context.newPage();
  await load(page, '/track.html');
  collector.hold();
  await context.setOffline(true);
  const ids: string[] = [];
  for (const name of names) ids.push(await track(page, name));
  await page.close();
  await context.setOffline(false);
  collector.accept();
  return ids;
}

const NAMES = ['offline_one', 'offline_two', 'offline_three'];

test('offline, then closed: the next page load sends the events, with their ids, once', async ({ context, collector }) => {
  const ids = await leaveBehindOffline(context, collector, NAMES);
  expect(collector.delivered()).toEqual([]);

  const page = await context.newPage();
  await page.goto('/track.html');
  const events = await collector.waitForDelivered(NAMES);
  expect(events.map((event) => event.event_id)).toEqual(ids);
  await settle(page, collector);
  expectDeliveredOnce(collector, ids);
});

test('two tabs opened together over what a closed page left: each event is sent once', async ({ context, collector }) => {
  const names = Array.from({ length: 12 }, (_, i) => `left_${i}`);
  const ids = await leaveBehindOffline(context, collector, names);

  const tabs = await Promise.all([context.newPage(), context.newPage()]);
  await Promise.all(tabs.map((tab) => tab.goto('/track.html')));
  await collector.waitForDelivered(names);
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

test("a crashed page's events are taken over by another page once their lease has run out", async ({ context, collector }) => {
  await context.clock.install();
  const crashed = await context.newPage();
  // A crashed tab says no goodbye. (CDP's Page.crash takes the whole headless browser down with it here.)
  await crashed.addInitScript(() => {
    for (const type of ['pagehide', 'visibilitychange']) addEventListener(type, (event) => event.stopImmediatePropagation(), true);
  });
  await load(crashed, '/track.html');
  collector.hold();
  const ids = [await track(crashed, 'before_crash_one'), await track(crashed, 'before_crash_two')];
  await flush(crashed);
  await collector.waitFor('the refused attempt', () => collector.requests.length > 0);
  await crashed.close();
  collector.accept();

  const page = await context.newPage();
  await page.goto('/track.html');
  await settle(page, collector); // within the lease, the crashed page's events are not this page's to send
  expect(collector.delivered().filter((event) => ids.includes(event.event_id))).toEqual([]);

  await page.clock.fastForward('01:01');
  await flush(page);
  await collector.waitForDelivered(['before_crash_one', 'before_crash_two']);
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
    const [last] = await page.evaluate(() => {
      const id = window.microconv.track('memory_last');
      document.querySelector<HTMLAnchorElement>('#next')!.click();
      return [id];
    });
    await page.waitForURL('**/next.html');
    await collector.waitForDelivered(['memory_last']);
    expectDeliveredOnce(collector, [...ids, last!]);
  });
}

// BUG (src/core/outbox.ts, round()): a round replaces the in-memory queue with what its IndexedDB claim
// returned (`entries = next`). An event tracked while that claim runs (here, one queued by the stub, which
// is replayed right after init's first claim has started) is written to IndexedDB after the claim read the
// store, so it is dropped from memory. The page still sends it on its next timed round, but if the page is
// left first, leave() does not see it: it is neither beaconed nor freed, and stays on this page's 60 s
// lease, so the next page load does not send it either. `stats().waiting.endpoint` reads 0 meanwhile.
test.fixme('an event tracked while the first claim runs leaves with the page', async ({ page, collector }) => {
  await page.goto('/early.html');
  await page.locator('#next').click();
  await page.waitForURL('**/next.html');
  await collector.waitForDelivered(['early_event']);
});

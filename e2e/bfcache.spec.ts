import type { Page } from '@playwright/test';
import { expect, expectDeliveredOnce, flush, load, settle, test, track } from './support/test';

// Runs in the `bfcache` project, whose browser keeps the back/forward cache on (Playwright turns it off).

/**
 * Leaves for /next.html and comes back. Resolves with `event.persisted` of every `pageshow` the page has
 * seen, once the one of the return has fired; a reloaded page (not restored) answers at once, without it.
 */
async function leaveAndComeBack(page: Page): Promise<boolean[]> {
  const shows = await page.evaluate(() => ((window.probe.cached = true), window.probe.pageshows!.length));
  await page.locator('#next').click();
  await page.waitForURL('**/next.html');
  // A restored page fires no load event, which goBack waits for by default.
  await page.goBack({ waitUntil: 'commit' });
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

test('a page restored from the back/forward cache registers nothing again and sends nothing twice', async ({ page, collector }) => {
  await page.addInitScript(() => {
    const probe: typeof window.probe = (window.probe = { pageshows: [], listeners: {} });
    addEventListener('pageshow', (event) => (probe.pageshows!.push(event.persisted), probe.onshow?.()));
    // Counts the lifecycle listeners that the page's scripts add from here on.
    const add = EventTarget.prototype.addEventListener;
    EventTarget.prototype.addEventListener = function (this: EventTarget, type: string, ...rest: [EventListenerOrEventListenerObject | null, (boolean | AddEventListenerOptions)?]) {
      if (['visibilitychange', 'pagehide', 'pageshow', 'online', 'freeze', 'resume'].includes(type)) probe.listeners![type] = (probe.listeners![type] || 0) + 1;
      return add.call(this, type, ...rest);
    };
  });
  await load(page, '/track.html');
  const listeners = await page.evaluate(() => ({ ...window.probe.listeners }));
  expect(listeners).toMatchObject({ visibilitychange: expect.any(Number), pagehide: expect.any(Number) });

  // Left with an event queued: it goes by beacon as the page is hidden.
  const before = await track(page, 'before_away');
  const shows = await leaveAndComeBack(page);
  expect(shows, 'restored from the back/forward cache, not reloaded').toEqual([false, true]);
  await collector.waitForDelivered(['before_away']);
  expect(await page.evaluate(() => window.probe.listeners)).toEqual(listeners);

  // Resumed, the instance sends what comes next, and not what it beaconed before it was cached.
  await flush(page);
  const after = await track(page, 'after_restore');
  await flush(page);
  await collector.waitForDelivered(['after_restore']);

  // Hidden and restored once more, with nothing queued: nothing more goes.
  expect(await leaveAndComeBack(page)).toEqual([false, true, true]);
  expect(await page.evaluate(() => window.probe.listeners)).toEqual(listeners);
  await settle(page, collector);
  expectDeliveredOnce(collector, [before, after]);
});

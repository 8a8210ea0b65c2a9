// Contract 2: `scroll_depth` once per mark (25, 50, 75, 90, configurable) per page view, as the page is
// scrolled past it, measured at the page's height as it is then; nothing on a page that cannot scroll.
// The scrolling is the mouse wheel's. The tracker reads the position once scrolling pauses (150 ms):
// Playwright's clock makes that pause pass without waiting for it.
import type { Page } from '@playwright/test';
import { expect, settle, test } from './support/test';
import { open, paramsOf, pauseClock, wheel, withOptions } from './support/trackers';
import type { Collector } from './support/server';

async function openScroll(page: Page, mode: string): Promise<void> {
  await page.clock.install();
  await open(page, `/t-scroll.html?mode=${mode}`);
}

const marks = async (page: Page, collector: Collector): Promise<unknown[]> => {
  await settle(page, collector);
  return paramsOf(collector, 'scroll_depth').map((params) => params.percent_scrolled);
};

test('wheeling down a page sends 25, 50, 75 and 90 once each, as they are passed', async ({ page, collector }) => {
  await openScroll(page, 'long'); // 4000 px, 720 px in view
  expect(await wheel(page, 400)).toBe(400); // bottom at 1120: 28 %
  expect(await marks(page, collector)).toEqual([25]);
  expect(await wheel(page, 1000)).toBe(1400); // 53 %
  expect(await marks(page, collector)).toEqual([25, 50]);
  expect(await wheel(page, 900)).toBe(2300); // 75.5 %
  expect(await marks(page, collector)).toEqual([25, 50, 75]);
  expect(await wheel(page, 5000)).toBe(3280); // the end
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);

  // Up and down again on the same page view: nothing more.
  expect(await wheel(page, -5000)).toBe(0);
  expect(await wheel(page, 5000)).toBe(3280);
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);
  for (const event of collector.delivered().filter((event) => event.name === 'scroll_depth')) expect(event.page.path).toBe('/t-scroll.html');
});

test('a jump to the end sends every mark it passed', async ({ page, collector }) => {
  await openScroll(page, 'long');
  await wheel(page, 5000);
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);
});

test('the marks are an option', async ({ page, collector }) => {
  await withOptions(page, { trackers: { scroll: { marks: [60, 10] } } });
  await openScroll(page, 'long');
  await wheel(page, 400); // 28 %
  expect(await marks(page, collector)).toEqual([10]);
  await wheel(page, 5000);
  expect(await marks(page, collector)).toEqual([10, 60]);
});

test('a page that grows as it loads more is measured at its new height', async ({ page, collector }) => {
  await openScroll(page, 'grow');
  // To the end of the first 2000 px: the feed loads 2000 px more, so the reader is at half of 4000, not at 100 %.
  expect(await wheel(page, 5000)).toBe(1280);
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBe(4000);
  expect(await marks(page, collector)).toEqual([25, 50]);
  // The end of 4000 px: 6000 px now, so two thirds, no new mark.
  expect(await wheel(page, 5000)).toBe(3280);
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBe(6000);
  expect(await marks(page, collector)).toEqual([25, 50]);
  // The end of 6000 px: 8000 px now, 75 %.
  expect(await wheel(page, 5000)).toBe(5280);
  expect(await marks(page, collector)).toEqual([25, 50, 75]);
  // The feed has no more: the end is the end.
  expect(await wheel(page, 5000)).toBe(7280);
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBe(8000);
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);
});

test('a page that cannot scroll sends nothing', async ({ page, collector }) => {
  await openScroll(page, 'short');
  expect(await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight)).toBe(true);
  await page.mouse.move(640, 360);
  await page.mouse.wheel(0, 2000);
  // Browsers also fire scroll on a page that cannot move (a resize, a fragment): the tracker must still
  // read it as "nothing scrolled", not as "the bottom of the page is in view".
  await page.evaluate(() => document.dispatchEvent(new Event('scroll')));
  await page.clock.runFor(1000);
  expect(await marks(page, collector)).toEqual([]);
});

// Issue 10, defect 5: the tracker reads the position once scrolling pauses; a reader who gets to the end and
// jumps straight back up before that pause was never counted at 90.
test('scrolled to the end and straight back to the top before pausing: every mark passed is sent', async ({ page, collector }) => {
  await openScroll(page, 'long');
  await pauseClock(page); // from here, the pause after which the tracker reads comes only when the test lets time pass
  await page.mouse.move(640, 360);
  await page.mouse.wheel(0, 5000);
  await page.waitForFunction(() => scrollY + innerHeight >= document.documentElement.scrollHeight - 1);
  await page.clock.runFor(50); // a few frames at the end: far less than the pause
  await page.click('#back-to-top');
  await page.waitForFunction(() => scrollY === 0);
  await page.clock.runFor(300);
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);
});

// The end of a burst is found by an IntersectionObserver on the document's box; where that box is shorter
// than what the document scrolls, the read at each pause still finds every mark.
test('a document whose box is one viewport high still sends every mark it scrolls past', async ({ page, collector }) => {
  await openScroll(page, 'boxed');
  expect(await page.evaluate(() => [document.documentElement.getBoundingClientRect().height === innerHeight, document.documentElement.scrollHeight])).toEqual([true, 4000]);
  expect(await wheel(page, 1000)).toBe(1000); // bottom at 1720: 43 %
  expect(await marks(page, collector)).toEqual([25]);
  expect(await wheel(page, 5000)).toBe(3280);
  expect(await marks(page, collector)).toEqual([25, 50, 75, 90]);
});

// A route change starts a new page view where the page stands: marks already in view then count at its
// first scroll, as they do on a page loaded part way down.
test('after a route change, the marks in view count again at the first scroll', async ({ page, collector }) => {
  await openScroll(page, 'long');
  expect(await wheel(page, 1700)).toBe(1700); // bottom at 2420: 60 %
  expect(await marks(page, collector)).toEqual([25, 50]);
  await page.evaluate(() => history.pushState({}, '', '/t-scroll-next.html'));
  expect(await wheel(page, 40)).toBe(1740); // 61 %: no mark crossed
  expect(await marks(page, collector)).toEqual([25, 50, 25, 50]);
  expect(collector.delivered().filter((event) => event.name === 'scroll_depth').map((event) => event.page.path)).toEqual(['/t-scroll.html', '/t-scroll.html', '/t-scroll-next.html', '/t-scroll-next.html']);
});

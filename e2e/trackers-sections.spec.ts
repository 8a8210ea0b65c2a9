// Contract 2: `section_view`, once per page view, when half of the element (half of the viewport, for
// an element taller than it) has been visible for 1 s; both numbers configurable. Time is Playwright's
// clock, paused: the dwell passes only when a test says so, and visibility is settled before it does.
import type { Page } from '@playwright/test';
import { expect, settle, test } from './support/test';
import { open, paramsOf, pauseClock, rendered, trackerEvents, withOptions } from './support/trackers';
import type { Collector } from './support/server';

/** Opens the page with microconv's timers on a paused clock. */
async function openPaused(page: Page): Promise<void> {
  await page.clock.install();
  await open(page, '/t-sections.html');
  await pauseClock(page);
}

/**
 * Scrolls so that the top `px` of the element show at the bottom of the viewport (the element's whole
 * height, or more, scrolls it further up), and returns its intersection ratio once microconv's observer
 * has seen it.
 */
async function reveal(page: Page, selector: string, px: number): Promise<number> {
  await page.evaluate(
    ([selector, px]) => {
      const element = document.querySelector<HTMLElement>(selector)!;
      scrollTo(0, element.offsetTop + px - innerHeight);
    },
    [selector, px] as const,
  );
  return rendered(page, selector);
}

/** Scrolls back to the top, where no section is in view. */
async function away(page: Page, selector: string): Promise<void> {
  await page.evaluate(() => scrollTo(0, 0));
  expect(await rendered(page, selector)).toBe(0);
}

const views = async (page: Page, collector: Collector): Promise<string[]> => {
  await settle(page, collector);
  return paramsOf(collector, 'section_view').map((params) => params.section_name as string);
};

test('a section is viewed once per page view, after 1 s with half of it in view', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#features', 160)).toBe(0.4);
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]); // 40 % is not half

  expect(await reveal(page, '#features', 240)).toBe(0.6);
  await page.clock.runFor(999);
  expect(await views(page, collector)).toEqual([]);
  await page.clock.runFor(1);
  expect(await views(page, collector)).toEqual(['features']);

  // Seen again on the same page view: nothing more.
  await away(page, '#features');
  expect(await reveal(page, '#features', 400)).toBe(1);
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual(['features']);
  expect(trackerEvents(collector, ['section_view'])).toHaveLength(1);
});

test('a section scrolled past in less than the dwell does not count; the dwell starts again', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#pricing', 400)).toBe(1);
  await page.clock.runFor(900);
  await away(page, '#pricing');
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]);

  // Back in view: a full second again, not the 100 ms that were left.
  expect(await reveal(page, '#pricing', 400)).toBe(1);
  await page.clock.runFor(999);
  expect(await views(page, collector)).toEqual([]);
  await page.clock.runFor(1);
  expect(await views(page, collector)).toEqual(['pricing']);
});

test('a section taller than the viewport counts once it covers half of the viewport', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#story', 300)).toBe(0.15); // 300 of 720 px: less than half the viewport
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]);

  expect(await reveal(page, '#story', 1000)).toBe(0.36); // the whole viewport, and 36 % of the section
  await page.clock.runFor(1000);
  expect(await views(page, collector)).toEqual(['story']);
});

// An element far taller than the viewport counts once it covers half the viewport, however gradually it got there.
test('a very tall section (28 screens) scrolled into gradually counts once it fills the viewport', async ({ page, collector }) => {
  await openPaused(page);
  for (let px = 100; px <= 720; px += 100) await reveal(page, '#article', px);
  expect(await reveal(page, '#article', 1500)).toBe(0.04); // the whole viewport
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual(['article']);
});

// A tall element that comes to rest with half the viewport covered counts, whatever ratio of its own height that is.
test('a tall section that stops between two observer thresholds with half the viewport covered counts', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#story', 250)).toBe(0.13);
  expect(await reveal(page, '#story', 380)).toBe(0.19); // 380 of 720 px: more than half the viewport
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual(['story']);
});

// A phone's address bar that hides, or a window made taller: a section taller than the viewport at
// first can be shorter than it later, and then counts once half of it is in view.
test('a tall section that the viewport outgrows counts once half of it is in view', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#story', 100)).toBe(0.05); // 2000 px, taller than the 720 px viewport
  await page.setViewportSize({ width: page.viewportSize()!.width, height: 2200 });
  expect(await reveal(page, '#story', 600)).toBe(0.3); // less than half of the section, or of the viewport
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]);
  expect(await reveal(page, '#story', 1200)).toBe(0.6);
  await page.clock.runFor(1000);
  expect(await views(page, collector)).toEqual(['story']);
});

test('a section the page adds after load is tracked', async ({ page, collector }) => {
  await openPaused(page);
  await page.click('#load-testimonials');
  await page.evaluate(() => document.querySelector('#testimonials')!.scrollIntoView({ block: 'center' }));
  expect(await rendered(page, '#testimonials')).toBe(1);
  await page.clock.runFor(999);
  expect(await views(page, collector)).toEqual([]);
  await page.clock.runFor(1);
  expect(await views(page, collector)).toEqual(['testimonials']);
});

test('the share and the dwell are options', async ({ page, collector }) => {
  await withOptions(page, { trackers: { sections: { threshold: 0.9, dwellMs: 3000 } } });
  await openPaused(page);
  expect(await reveal(page, '#features', 320)).toBe(0.8);
  await page.clock.runFor(10_000);
  expect(await views(page, collector)).toEqual([]); // 80 % is not 90 %

  expect(await reveal(page, '#features', 400)).toBe(1);
  await page.clock.runFor(2999);
  expect(await views(page, collector)).toEqual([]);
  await page.clock.runFor(1);
  expect(await views(page, collector)).toEqual(['features']);
});

/**
 * Hides or shows the tab the way web-vitals' own tests do (stubVisibilityChange): headless Chromium keeps
 * every tab visible, in the background or not.
 */
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((hidden) => {
    Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible', configurable: true });
    Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);

test('no dwell counts while the page is hidden, and a section shown again waits a full dwell', async ({ page, collector }) => {
  await openPaused(page);
  expect(await reveal(page, '#features', 400)).toBe(1);
  await page.clock.runFor(500);
  await setHidden(page, true);
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]); // the dwell stopped when the page was hidden

  // Scrolled while hidden (by the page's script, say): what comes into view does not start a dwell either.
  expect(await reveal(page, '#pricing', 400)).toBe(1);
  await page.clock.runFor(5000);
  expect(await views(page, collector)).toEqual([]);

  // Shown again: a full second from then, not what was left.
  await setHidden(page, false);
  expect(await rendered(page, '#pricing')).toBe(1);
  await page.clock.runFor(999);
  expect(await views(page, collector)).toEqual([]);
  await page.clock.runFor(1);
  expect(await views(page, collector)).toEqual(['pricing']);
});

// Contract 3, SPAs: a route change (pushState or popstate to another path, a hash route such as #/pricing)
// starts a new page view: later events carry the new page and the old URL as referrer, scroll marks and
// section views start again, a form begun on the old view is abandoned on it, and what the route renders is
// tracked. An in-page anchor (#signup) or a query changed alone by replaceState is no new page view.
import type { Page } from '@playwright/test';
import { expect, settle, test, track } from './support/test';
import { named, open, rendered, waitForCount, wheel } from './support/trackers';
import type { Collector } from './support/server';

/** Lets a section that is in view dwell long enough to count (the clock is installed). */
async function dwell(page: Page, selector: string): Promise<void> {
  expect(await rendered(page, selector)).toBeGreaterThan(0.5);
  await page.clock.runFor(1000);
}

/** `name path` (or `percent path`) of each delivered event of one name. */
const where = (collector: Collector, name: string, param: string) =>
  named(collector, name).map((event) => `${event.params[param]} ${event.page.path}`);

test('a pushState route change, and going back, each start a new page view', async ({ page, collector }) => {
  await page.clock.install();
  await open(page, '/t-spa.html');
  const origin = new URL(page.url()).origin;

  // The first view: the hero, a form begun, scrolled to the end, the footer.
  await dwell(page, '#hero');
  await page.getByLabel('E-mail').pressSequentially('someone');
  await wheel(page, 5000);
  await dwell(page, '#footer');
  await waitForCount(collector, 'scroll_depth', 4);
  await waitForCount(collector, 'section_view', 2);

  // To /spa/pricing, by the History API: the form is abandoned on the page it was on.
  await page.click('#to-pricing');
  await expect(page).toHaveURL(`${origin}/spa/pricing`);
  const [abandon] = await waitForCount(collector, 'form_abandon');
  expect(abandon!.params).toEqual({ form_name: 'newsletter', form_id: 'newsletter', last_field: 'email' });
  expect(abandon!.page).toEqual({ url: `${origin}/t-spa.html`, path: '/t-spa.html', title: 'SPA', referrer: '' });

  // The new view: what the route rendered is tracked, marks and sections count again.
  await dwell(page, '#plans');
  await page.click('#choose');
  await wheel(page, 5000);
  await dwell(page, '#footer');
  const [cta] = await waitForCount(collector, 'cta_click');
  expect(cta!.params.cta_name).toBe('choose_plan');
  expect(cta!.page).toEqual({ url: `${origin}/spa/pricing`, path: '/spa/pricing', title: 'SPA', referrer: `${origin}/t-spa.html` });

  // Back: popstate to the first path is a third view.
  await page.goBack();
  await expect(page).toHaveURL(`${origin}/t-spa.html`);
  await dwell(page, '#hero');
  await settle(page, collector);

  const first = ['25', '50', '75', '90'].map((mark) => `${mark} /t-spa.html`);
  const second = ['25', '50', '75', '90'].map((mark) => `${mark} /spa/pricing`);
  expect(where(collector, 'scroll_depth', 'percent_scrolled')).toEqual([...first, ...second]);
  expect(where(collector, 'section_view', 'section_name')).toEqual([
    'home_hero /t-spa.html',
    'footer /t-spa.html',
    'plans /spa/pricing',
    'footer /spa/pricing',
    'home_hero /t-spa.html',
  ]);
  expect(named(collector, 'form_abandon')).toHaveLength(1);
  const last = named(collector, 'section_view').at(-1)!;
  expect(last.page.referrer).toBe(`${origin}/spa/pricing`);
});

test('a hash route is a new page view; an in-page anchor and a replaceState of the query are not', async ({ page, collector }) => {
  await page.clock.install();
  await open(page, '/t-spa.html');
  const origin = new URL(page.url()).origin;
  await dwell(page, '#hero');
  await wheel(page, 5000);
  await waitForCount(collector, 'scroll_depth', 4);

  // Not new page views: an anchor on this page, and the query changed in place.
  await page.click('#anchor');
  await expect(page).toHaveURL(`${origin}/t-spa.html#signup`);
  await page.evaluate(() => history.replaceState(history.state, '', '?tab=annual' + location.hash));
  await wheel(page, -5000);
  await dwell(page, '#hero');
  await wheel(page, 5000);
  const id = await track(page, 'same_view');
  await settle(page, collector);
  expect(named(collector, 'scroll_depth')).toHaveLength(4);
  expect(where(collector, 'section_view', 'section_name').filter((view) => view.startsWith('home_hero'))).toHaveLength(1);
  const same = collector.delivered().find((event) => event.event_id === id)!;
  // The query's values are redacted (default-deny), the route and anchor are kept.
  expect(same.page).toMatchObject({ url: `${origin}/t-spa.html?tab=[redacted]#signup`, referrer: '' });

  // A hash route: a new page view, with the URL before it as referrer.
  await page.click('#hash-pricing');
  await expect(page).toHaveURL(`${origin}/t-spa.html?tab=annual#/pricing`);
  await dwell(page, '#plans');
  await wheel(page, 5000);
  await waitForCount(collector, 'scroll_depth', 8);
  await settle(page, collector);
  const marks = named(collector, 'scroll_depth');
  expect(marks.map((event) => event.params.percent_scrolled)).toEqual([25, 50, 75, 90, 25, 50, 75, 90]);
  for (const event of marks.slice(4)) {
    expect(event.page).toMatchObject({ url: `${origin}/t-spa.html?tab=[redacted]#/pricing`, referrer: `${origin}/t-spa.html?tab=[redacted]#signup` });
  }
  expect(where(collector, 'section_view', 'section_name')).toContain('plans /t-spa.html');
});

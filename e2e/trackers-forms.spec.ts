// Contract 2, forms: `form_begin` at the first focus or input, `form_step` when the next step is shown or
// the form is submitted, `form_complete` on submit (also when the page's script prevents the default),
// `form_abandon` once when the page is hidden or left mid-form. All typing is real keyboard input, and no
// field's value, nothing a person typed, may ever leave the page.
import type { Page } from '@playwright/test';
import { expect, expectDeliveredOnce, settle, test } from './support/test';
import { named, open, paramsOf, recordBodies, trackerEvents, waitForCount } from './support/trackers';
import type { Collector } from './support/server';
import { holdRequests } from './support/hold';

const FORM_EVENTS = ['form_begin', 'form_step', 'form_complete', 'form_abandon'];
const formEvents = (collector: Collector) => trackerEvents(collector, FORM_EVENTS);

// What the tests type: distinctive enough that any trace of it in a request body is found.
const EMAIL = 'jane.quill@example.net';
const PHONE = '+44 20 7946 0958';
const COMPANY = 'Periwinkle Anvil Works';
const ABOUT = 'I juggle marmalade jars.';
/** Ids as microconv makes them (UUID v4). */
const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Pieces of the above as they could appear in a body, raw or encoded. */
const TRACES = ['jane.quill', 'example.net', 'jane.quill%40', '7946', '0958', 'Periwinkle', 'Anvil', 'juggle', 'marmalade'];

const signup = { form_name: 'signup', form_id: 'signup-form', step_count: 3 };
const step = (index: number) => ({ ...signup, step_index: index, step_name: ['account', 'profile', 'confirm'][index - 1] });

/** Fills the first step (with short stand-ins, unless told what to type) and goes on to the second. */
async function throughFirstStep(page: Page, email = 'a@b.co', phone = '1'): Promise<void> {
  await page.getByLabel('E-mail').pressSequentially(email);
  await page.getByLabel('Phone').pressSequentially(phone);
  await page.locator('[data-mc-step="account"] .next').click();
}

/**
 * Hides the tab the way web-vitals' own tests do (stubVisibilityChange): headless Chromium keeps every
 * tab visible, minimised or in the background.
 */
const hideTab = (page: Page) =>
  page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });

test('a focus held while the forms tracker is on its way: form_begin still names the step on show', async ({ page, collector }) => {
  const { requested, release } = await holdRequests(page, '**/dist/microconv-forms.js');
  await page.goto('/t-forms.html?variant=hidden');
  await requested;
  await page.getByLabel('E-mail').focus();
  release();
  await waitForCount(collector, 'form_begin');
  await settle(page, collector);
  // Replayed as the tracker starts, before its ResizeObserver's first report: the step is read then.
  expect(paramsOf(collector, 'form_begin')).toEqual([step(1)]);
});

for (const variant of ['hidden', 'display', 'class', 'rerender']) {
  test(`a three-step form: begin, each step, complete (steps shown by ${variant})`, async ({ page, collector }) => {
    await open(page, `/t-forms.html?variant=${variant}`);
    await throughFirstStep(page);
    await page.getByLabel('Company').pressSequentially('Acme');
    await page.locator('[data-mc-step="profile"] .next').click();
    await page.getByLabel('I agree').check();
    await page.click('#submit'); // the page prevents the default and says thanks itself
    await expect(page.locator('#thanks')).toBeVisible();
    await waitForCount(collector, 'form_complete');
    await settle(page, collector);

    expect(formEvents(collector)).toEqual(['form_begin', 'form_step', 'form_step', 'form_step', 'form_complete']);
    expect(paramsOf(collector, 'form_begin')).toEqual([step(1)]);
    expect(paramsOf(collector, 'form_step')).toEqual([step(1), step(2), step(3)]);
    expect(paramsOf(collector, 'form_complete')).toEqual([step(3)]);
    expect(page.url()).toMatch(/\/t-forms\.html\?variant=\w+$/); // stayed: the page sent the form itself
  });
}

test('a form submitted by the browser completes, and leaving after it is no abandon', async ({ page, collector }) => {
  await open(page, '/t-forms.html?send=native');
  await throughFirstStep(page);
  await page.locator('[data-mc-step="profile"] .next').click();
  await page.click('#submit');
  await page.waitForURL('**/next.html?**');
  await waitForCount(collector, 'form_complete');
  await open(page, '/t-forms.html');
  await settle(page, collector);
  expect(formEvents(collector)).toEqual(['form_begin', 'form_step', 'form_step', 'form_step', 'form_complete']);
});

test('leaving mid-form sends one form_abandon with the step and the last field', async ({ page, collector }) => {
  await open(page, '/t-forms.html');
  await throughFirstStep(page);
  await page.getByLabel('Company').pressSequentially('Acme');
  await page.getByLabel('About you').pressSequentially('Hi');
  await page.click('#leave'); // hidden and left: visibilitychange and pagehide both fire
  await page.waitForURL('**/next.html');
  const [abandon] = await waitForCount(collector, 'form_abandon');
  expect(abandon!.params).toEqual({ ...step(2), last_field: 'about' });
  expect(abandon!.page.path).toBe('/t-forms.html');

  await open(page, '/t-forms.html'); // the next page of the site sends nothing of it again
  await settle(page, collector);
  expect(formEvents(collector)).toEqual(['form_begin', 'form_step', 'form_abandon']);
  expectDeliveredOnce(collector, [abandon!.event_id]);
});

test('a hidden tab mid-form sends form_abandon, once however often it is hidden', async ({ page, collector }) => {
  await open(page, '/t-forms.html');
  await page.getByLabel('E-mail').pressSequentially('a@b.co');
  // form_begin's request (batch size 1) is on its way as the tab hides: a beacon sent after it can
  // still arrive first, so the order below is the order of arrival only once form_begin is in.
  await waitForCount(collector, 'form_begin');
  await hideTab(page);
  const [abandon] = await waitForCount(collector, 'form_abandon');
  expect(abandon!.params).toEqual({ ...step(1), last_field: 'email' });
  await hideTab(page);
  await settle(page, collector);
  expect(formEvents(collector)).toEqual(['form_begin', 'form_abandon']);
});

test('a form with fields named "name" and "id" still reports its own name and id', async ({ page, collector }) => {
  await open(page, '/t-forms.html');
  // The trap: these properties of the form are its fields.
  expect(await page.evaluate(() => [document.forms[1]!.id, document.forms[1]!.name].map((value) => typeof value))).toEqual(['object', 'object']);
  await page.getByLabel('Name').pressSequentially('Jane Quill');
  await page.getByLabel('Customer number').pressSequentially('C-1234');
  await page.click('#contact-submit');
  await waitForCount(collector, 'form_complete');
  await settle(page, collector);
  expect(formEvents(collector)).toEqual(['form_begin', 'form_complete']);
  expect(paramsOf(collector, 'form_begin')).toEqual([{ form_name: 'contact', form_id: 'contact-form' }]);
  expect(paramsOf(collector, 'form_complete')).toEqual([{ form_name: 'contact', form_id: 'contact-form' }]);
});

test('nothing typed into a form reaches any request, completed, abandoned or hidden', async ({ page, collector }) => {
  const bodies = recordBodies(page);
  // Completed.
  await open(page, '/t-forms.html');
  await throughFirstStep(page, EMAIL, PHONE);
  await page.getByLabel('Company').pressSequentially(COMPANY);
  await page.getByLabel('About you').pressSequentially(ABOUT);
  await page.locator('[data-mc-step="profile"] .next').click();
  await page.click('#submit');
  await waitForCount(collector, 'form_complete');
  // Abandoned by a hidden tab, in the middle of a sentence.
  await open(page, '/t-forms.html?variant=class');
  await throughFirstStep(page);
  await page.getByLabel('About you').pressSequentially(ABOUT);
  await hideTab(page);
  await waitForCount(collector, 'form_abandon', 1);
  // Abandoned by leaving, right after typing an address.
  await open(page, '/t-forms.html?variant=rerender');
  await page.getByLabel('E-mail').pressSequentially(EMAIL);
  await page.click('#leave');
  await waitForCount(collector, 'form_abandon', 2);
  await open(page, '/t-forms.html');
  await settle(page, collector);

  expect(named(collector, 'form_complete')).toHaveLength(1);
  // No body holds a trace of the typing: raw, as the browser sent it (a beacon sent as a page goes may
  // escape Playwright's notice), and as the collector read it (every one of them JSON).
  expect(bodies.length).toBeGreaterThan(0);
  expect(collector.requests.filter((request) => !request.payload)).toEqual([]);
  for (const body of [...bodies, ...collector.requests.map((request) => JSON.stringify(request.payload))]) {
    // What is random or clock-made (ids, times, the server's port) can hold the phone's digits by chance
    // ("...-adf480095897" holds "0958"): it is left out, and every other character is checked.
    const made = body.replace(UUIDS, 'uuid').replace(/"(ts|sent_at)":("[^"]*"|\d+)/g, '"$1":0').replace(/127\.0\.0\.1:\d+/g, 'host');
    for (const trace of TRACES) expect(made, `a request body holds "${trace}"`).not.toContain(trace);
  }
  // What the abandons do name: the fields, by their name attribute.
  expect(paramsOf(collector, 'form_abandon').map((params) => params.last_field)).toEqual(['about', 'email']);
});

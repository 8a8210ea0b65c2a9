/**
 * Privacy, proven in Chromium (contract 2 and 3, issue 10): nothing a person types or chooses leaves the
 * page, by any route (the collector, the dataLayer, the Meta Pixel), on this page or the next, where a GET
 * form put every value in the URL; with consent denied nothing persistent is written; a consent change
 * takes effect where storage throws; URLs, paths and titles are redacted; the page's prototypes add
 * nothing to parameters.
 */
import type { Frame, Page, Request } from '@playwright/test';
import { expect, flush, settle, test, track } from './support/test';
import { named, open, waitForCount, withOptions } from './support/trackers';
import { dataLayerObjects, fbqEvents, gtagEvents, stored, vendorState } from './support/vendors';
import type { Collector } from './support/server';

/** What the tests type and choose: one word that nothing else on the pages or in microconv holds. */
const SECRET = 'qzxwv';
const holdsSecret = (text: string | null | undefined) => !!text && text.toLowerCase().includes(SECRET);

/**
 * Every request the context's pages make, but the navigations (a form the page submits carries its
 * values, as it must): URL and body, as text; and for microconv's own (to the collector) the headers too.
 */
function watchRequests(page: Page): string[] {
  const seen: string[] = [];
  const record = async (request: Request) => {
    if (request.isNavigationRequest()) return;
    const headers = request.url().endsWith('/collect') ? JSON.stringify(await request.allHeaders()) : '';
    seen.push(`${request.method()} ${request.url()}\n${headers}\n${request.postData() || ''}`);
  };
  page.context().on('request', (request) => void record(request));
  return seen;
}

/** Waits until microconv's trackers run on the page now open: they start once it is idle after load. */
async function idle(page: Page) {
  await page.waitForLoadState('load');
  for (let i = 0; i < 2; i++) await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));
}

/**
 * Keeps, in sessionStorage (the tab's, which outlives a navigation), what the vendors' globals hold when
 * each page is left: what microconv gave gtag, the dataLayer and the Meta Pixel up to its last moment.
 */
async function keepVendorsOnLeave(page: Page) {
  await page.addInitScript(() =>
    addEventListener('load', () =>
      // Added at load, so after microconv's own pagehide listener: its last deliveries are in.
      addEventListener('pagehide', () => {
        const w = window as unknown as { dataLayer?: unknown[]; fbq?: { queue: ArrayLike<unknown>[] } };
        const log = JSON.parse(sessionStorage.getItem('test:vendors') || '[]');
        log.push(JSON.stringify({ page: location.pathname, dataLayer: (w.dataLayer || []).map((entry) => Array.from(entry as ArrayLike<unknown>).length ? Array.from(entry as ArrayLike<unknown>) : entry), fbq: Array.from(w.fbq?.queue || [], (call) => Array.from(call)) }));
        sessionStorage.setItem('test:vendors', JSON.stringify(log));
      }),
    ),
  );
}

/** Types and chooses the secret in every kind of field of p-form.html, and clicks the two CTAs that hold fields. */
async function fillEverything(page: Page) {
  await page.getByLabel('Name').pressSequentially(`Ann ${SECRET}`);
  await page.getByLabel('E-mail').pressSequentially(`${SECRET}@example.net`);
  await page.getByLabel('Password').pressSequentially(`pw-${SECRET}`);
  await page.getByLabel('Search').pressSequentially(`${SECRET} shoes`);
  await page.getByLabel('Plan').selectOption(`chosen-${SECRET}`);
  await page.locator('input[type=hidden]').evaluate((input, secret) => void ((input as HTMLInputElement).value = `ref-${secret}`), SECRET);
  await page.getByLabel('Message').pressSequentially(`Hello ${SECRET}`);
  // Typed into editable content inside a CTA: its spaces are typing, not a press of the CTA.
  await page.focus('#note');
  await page.keyboard.type(`note ${SECRET}`);
  await page.locator('#q').pressSequentially(SECRET);
  await page.locator('#aside').pressSequentially(`${SECRET} aside`);
  // The CTAs that hold a contenteditable, an input and a textarea: clicked on their own text.
  await page.click('#note-cta b');
  await page.click('#find-cta b');
}

const leftPage = (collector: Collector) => named(collector, 'form_complete').length > 0;

for (const method of ['get', 'post'] as const) {
  test(`a secret typed into every kind of field and sent by ${method.toUpperCase()} never leaves, on this page or the next`, async ({ page, collector }) => {
    test.slow(); // a hundred keystrokes and two page loads: on a busy two-core machine, more than 30 s
    const requests = watchRequests(page);
    await keepVendorsOnLeave(page);
    await open(page, '/p-form.html');
    await page.locator('#contact').evaluate((form, method) => void ((form as HTMLFormElement).method = method), method);
    await fillEverything(page);
    const ctas = await waitForCount(collector, 'cta_click', 2);
    // The CTAs holding fields are reported, with the page's own words only.
    expect(ctas.map((event) => event.params.link_text)).toEqual(['Add a note', 'Find']);

    await page.click('#send');
    await page.waitForURL(/\/p-results\.html/);
    if (method === 'get') expect(holdsSecret(decodeURIComponent(page.url()))).toBe(true); // the values are in the URL
    await idle(page);
    await collector.waitFor('the form page’s last events', () => leftPage(collector));
    await page.click('#book');
    await waitForCount(collector, 'cta_click', 3);
    await settle(page, collector);

    // On the next page, its URL is there, with every value the form put in it redacted.
    const next = named(collector, 'cta_click').at(-1)!;
    expect(next.page.path).toBe('/p-results.html');
    const query = method === 'get' ? '?name=[redacted]&email=[redacted]&password=[redacted]&search=[redacted]&plan=[redacted]&ref=[redacted]&message=[redacted]&q=[redacted]' : '';
    expect(next.page.url).toBe(new URL('/p-results.html' + query, page.url()).href);

    // Not one trace of it: at the collector, in any request the pages made, in the vendors' globals.
    const wire = JSON.stringify(collector.requests.map((request) => request.payload));
    expect(collector.delivered().length).toBeGreaterThan(5);
    expect(holdsSecret(wire), wire).toBe(false);
    expect(requests.filter(holdsSecret)).toEqual([]);
    const now = await vendorState(page);
    expect(fbqEvents(now).length + gtagEvents(now).length + dataLayerObjects(now).length).toBeGreaterThan(0);
    expect(holdsSecret(JSON.stringify(now))).toBe(false);
    const left = JSON.parse((await page.evaluate(() => sessionStorage.getItem('test:vendors'))) || '[]') as string[];
    expect(left.length).toBe(1); // the form page's vendors, as it was left
    expect(left[0]).toContain('form_complete');
    expect(left.filter(holdsSecret)).toEqual([]);
  });
}

test('with consent denied, nothing persistent is written: no localStorage key, no IndexedDB database, no cookie', async ({ page, collector, context }) => {
  test.slow(); // a hundred keystrokes and two page loads
  await withOptions(page, { consent: 'denied' });
  const nothing = { keys: [], localStorage: 0, database: false, records: 0 };
  await open(page, '/p-form.html');
  await fillEverything(page);
  expect(await stored(page)).toEqual(nothing);
  await page.click('#send');
  await page.waitForURL(/\/p-results\.html\?/);
  await idle(page);
  await page.click('#book');
  await track(page, 'custom_event', { plan: 'pro' });
  await flush(page);

  // The instance ran, and emitted: its events were refused for consent, counted.
  const stats = await page.evaluate(() => window.microconv.stats());
  expect(stats.dropped).toEqual({ consent_denied: 8 }); // two events, four adapters
  expect(await stored(page)).toEqual(nothing);
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name))).toEqual([]);
  expect(await context.cookies()).toEqual([]);
  expect(await page.evaluate(() => [document.cookie, sessionStorage.length])).toEqual(['', 0]);
  expect(collector.requests).toEqual([]);
});

/** Storage as a sandboxed frame or a strict private mode has it: every call throws at once. */
const breakStorage = (page: Page) =>
  page.addInitScript(() => {
    const refuse = () => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    };
    IDBFactory.prototype.open = refuse;
    for (const method of ['getItem', 'setItem', 'removeItem', 'clear', 'key'] as const) Storage.prototype[method] = refuse;
  });

/** The ids of microconv's events that reached gtag, the dataLayer and the Meta Pixel in `where`. */
async function vendorIds(where: Page | Frame) {
  const state = await vendorState(where);
  return {
    gtag: gtagEvents(state).map(([, params]) => params.event_id),
    datalayer: dataLayerObjects(state).map((object) => object.event_id),
    meta: fbqEvents(state).map((args) => (args[3] as { eventID: string }).eventID),
  };
}

/** In `where` (v-vendors.html): one event tracked, consent withdrawn, one more tracked. */
async function withdrawBetween(where: Page | Frame, collector: Collector) {
  const before = await where.evaluate(() => window.microconv.track('before_withdrawal'));
  await where.evaluate(() => window.microconv.flush());
  await collector.waitFor('the event before', () => collector.requests.some((request) => request.events.some((event) => event.event_id === before)));
  await expect.poll(() => vendorIds(where)).toEqual({ gtag: [before], datalayer: [before], meta: [before] });
  const logged = await where.evaluate(() => {
    const errors: string[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(' '));
    window.microconv('consent', 'denied');
    console.error = error;
    return errors;
  });
  expect(logged).toEqual([]);
  const after = await where.evaluate(() => window.microconv.track('after_withdrawal'));
  await where.evaluate(() => window.microconv.flush());
  return { before, after };
}

test('where storage throws at once, withdrawing consent still stops the endpoint, gtag and the Meta Pixel', async ({ page, collector }) => {
  await breakStorage(page);
  await page.goto('/v-vendors.html');
  await page.evaluate(() => new Promise((resolve) => requestIdleCallback(resolve)));
  const { before, after } = await withdrawBetween(page, collector);
  // Refused when tracked, so nothing can be on its way when flush() has resolved.
  expect(collector.requests.flatMap((request) => request.events.map((event) => event.event_id))).not.toContain(after);
  expect(await vendorIds(page)).toEqual({ gtag: [before], datalayer: [before], meta: [before] });
  expect((await page.evaluate(() => window.microconv.stats())).dropped).toEqual({ consent_denied: 4 }); // one event, four adapters
});

test('in a sandboxed frame (storage refused), withdrawing consent stops every destination there', async ({ page, collector, pageHeaders }) => {
  // Opaque origin: the frame's requests are cross-origin, so the collector's answers need CORS.
  await page.route('**/collect', async (route) => route.fulfill({ response: await route.fetch(), headers: { 'Access-Control-Allow-Origin': '*' } }));
  await page.route('**/sandbox-host.html', (route) =>
    route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: '<!doctype html><title>Host</title><iframe sandbox="allow-scripts" src="/v-vendors.html"></iframe>' }),
  );
  await page.goto('/sandbox-host.html');
  const frame = page.frames().find((candidate) => candidate.url().endsWith('/v-vendors.html'))!;
  await frame.waitForFunction(() => window.microconv?.loaded);
  // The sandbox refuses storage, as it should for this test to mean anything.
  expect(await frame.evaluate(() => [() => localStorage, () => indexedDB.open('x')].map((use) => { try { use(); return 'allowed'; } catch (error) { return (error as Error).name; } }))).toEqual([
    'SecurityError',
    'SecurityError',
  ]);
  const { before, after } = await withdrawBetween(frame, collector);
  const last = await frame.evaluate(() => window.microconv.track('last_word'));
  await frame.evaluate(() => window.microconv.flush());
  const sent = () => collector.requests.flatMap((request) => request.events.map((event) => event.event_id));
  expect(sent()).toContain(before);
  expect(sent().filter((id) => id === after || id === last)).toEqual([]);
  expect(await vendorIds(frame)).toEqual({ gtag: [before], datalayer: [before], meta: [before] });
  expect((await frame.evaluate(() => window.microconv.stats())).dropped).toEqual({ consent_denied: 8 }); // two events, four adapters
});

test('the page’s URL, path, title and referrer, the landing page and a link are redacted as they leave', async ({ page, collector, pageHeaders }) => {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Orders of jane@example.com, call +44 20 7946 0958</title>
    <script async src="/dist/microconv.js" data-endpoint="/collect"></script></head><body>
    <a id="brochure" href="/files/brochure-0301234567.pdf?token=abc123&utm_source=site" data-mc-cta="brochure">Brochure for jane@example.com</a>
  </body></html>`;
  await page.route('**/users/**', (route) => route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: html }));
  await page.route('**/files/**', (route) => route.fulfill({ contentType: 'application/pdf', body: '%PDF-1.4' }));
  await page.goto('/users/jane@example.com/orders?message=hello&otp=123456&utm_source=news', { referer: 'https://search.example/results?q=jane+doe&email=jane@example.com' });
  await idle(page);
  await page.evaluate(() => document.getElementById('brochure')!.addEventListener('click', (event) => event.preventDefault()));
  await page.click('#brochure');
  await flush(page);
  const [click] = await waitForCount(collector, 'cta_click');
  const origin = new URL(page.url()).origin;
  const url = `${origin}/users/[redacted]/orders?message=[redacted]&otp=[redacted]&utm_source=news`;
  const referrer = 'https://search.example/results?q=[redacted]&email=[redacted]';
  expect(click!.page).toEqual({ url, path: '/users/[redacted]/orders', title: 'Orders of [redacted], call [redacted]', referrer });
  expect(click!.attribution).toMatchObject({ landing_page: url, referrer, utm_source: 'news' });
  expect(click!.params).toMatchObject({ link_text: 'Brochure for [redacted]', link_url: `${origin}/files/[redacted]?token=[redacted]&utm_source=site` });
  const [download] = await waitForCount(collector, 'download_click');
  expect(download!.params).toMatchObject({ file_name: 'brochure-[redacted].pdf', file_extension: 'pdf' });
  const wire = JSON.stringify(collector.requests.map((request) => request.payload));
  for (const secret of ['jane', 'example.com', '7946', '0301234567', 'hello', '123456', 'abc123']) expect(wire).not.toContain(secret);
});

test('what the page added to Object.prototype never becomes a parameter', async ({ page, collector, pageHeaders }) => {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Legacy</title>
    <script src="/p-legacy-prototype.js"></script>
    <script async src="/dist/microconv.js" data-endpoint="/collect"></script></head><body>
    <button type="button" data-mc-cta="hero">Start</button>
  </body></html>`;
  await page.route('**/legacy.html', (route) => route.fulfill({ contentType: 'text/html', headers: pageHeaders, body: html }));
  await page.goto('/legacy.html');
  await idle(page);
  await page.click('[data-mc-cta="hero"]');
  await track(page, 'custom', { plan: 'pro' });
  await flush(page);
  await waitForCount(collector, 'custom');
  expect(named(collector, 'cta_click').map((event) => Object.keys(event.params).sort())).toEqual([['cta_name', 'link_text', 'link_type']]);
  expect(named(collector, 'custom').map((event) => event.params)).toEqual([{ plan: 'pro' }]);
  expect(JSON.stringify(collector.requests.map((request) => request.payload))).not.toContain('old library');
});

/**
 * identify()'s e-mail and phone are checked, normalised and hashed by a lazy part of the script tag,
 * `microconv-identify.js`, fetched at the first identify() that gives one. While it comes nothing is lost
 * or reordered: the endpoint waits for the hashes. If it cannot come, nothing waits for it for ever.
 */
import type { Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import type { Collector } from './support/server';
import { expect, flush, load, test, track } from './support/test';
import { holdRequests } from './support/hold';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Tracks `before` and waits for it, then identifies and tracks `lead_1` and `lead_2`; returns their ids. */
async function identifyBetween(page: Page, collector: Collector): Promise<string[]> {
  const before = await track(page, 'before');
  await collector.waitForDelivered(['before']);
  return [
    before,
    ...(await page.evaluate(() => {
      const mc = window.microconv;
      mc.identify({ user_id: 'u-42', email: ' Jane.Doe@Gmail.com ', phone: '+1 (616) 954-7888' });
      return [mc.track('lead_1'), mc.track('lead_2')];
    })),
  ];
}

test('events tracked while the part comes wait for it, in order, and carry the hashes; nothing raw leaves the page', async ({ page, collector }) => {
  const files: string[] = [];
  page.on('request', (request) => void (/\/microconv[\w-]*\.js$/.test(request.url()) && files.push(request.url().split('/').pop()!)));
  const { requested, release } = await holdRequests(page, '**/dist/microconv-identify.js');
  await load(page, '/t-sections.html');
  expect(files).toEqual(['microconv.js']); // no identify() yet: no part
  const ids = await identifyBetween(page, collector);
  await requested;
  expect(collector.delivered().filter((event) => event.name.startsWith('lead_'))).toEqual([]);
  release();
  await collector.waitForDelivered(['lead_1', 'lead_2']);
  const delivered = collector.delivered().filter((event) => ids.includes(event.event_id));
  expect(delivered.map((event) => event.name)).toEqual(['before', 'lead_1', 'lead_2']);
  expect(delivered[0]!.ids).toEqual({});
  for (const lead of delivered.slice(1))
    expect(lead.ids).toEqual({
      user_id: 'u-42',
      email_sha256: sha('jane.doe@gmail.com'),
      google_email_sha256: sha('janedoe@gmail.com'),
      phone_sha256: sha('16169547888'),
      google_phone_sha256: sha('+16169547888'),
    });
  expect(JSON.stringify(collector.requests.map((request) => request.payload))).not.toMatch(/jane|6169547888|954-7888/i);
  expect(files).toEqual(['microconv.js', 'microconv-identify.js']);
});

test('an e-mail that is not one is refused once the part has come: a console error and a counted drop, the event goes without it', async ({ page, collector }) => {
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && message.text().startsWith('[microconv]') && errors.push(message.text())));
  await load(page, '/t-sections.html');
  const id = await page.evaluate(() => (window.microconv.identify({ user_id: 'u-1', email: 'nobody' }), window.microconv.track('lead')));
  await collector.waitForDelivered(['lead']);
  expect(collector.delivered().find((event) => event.event_id === id)!.ids).toEqual({ user_id: 'u-1' });
  await expect.poll(() => errors).toContain('[microconv] identify(): email is not an e-mail address');
  expect(await page.evaluate(() => window.microconv.stats().dropped.invalid)).toBe(1);
  expect(JSON.stringify(collector.requests.map((request) => request.payload))).not.toContain('nobody');
});

test('if the part cannot come, the events go without hashes (the e-mail and phone as given to the endpoint alone, for the collector to hash), and the console says why', async ({ page, collector }) => {
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && message.text().startsWith('[microconv]') && errors.push(message.text())));
  await page.route('**/dist/microconv-identify.js', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await load(page, '/t-sections.html');
  const ids = await identifyBetween(page, collector);
  await collector.waitForDelivered(['lead_1', 'lead_2']);
  const delivered = collector.delivered().filter((event) => ids.includes(event.event_id));
  expect(delivered.map((event) => event.name)).toEqual(['before', 'lead_1', 'lead_2']);
  expect(delivered[2]!.ids).toEqual({ user_id: 'u-42', email: ' Jane.Doe@Gmail.com ', phone: '+1 (616) 954-7888' });
  await expect.poll(() => errors).toContainEqual(expect.stringMatching(/identify\(\): microconv-identify\.js could not be loaded: the e-mail and phone go unhashed/));
  // Nothing of them in what stays in the browser.
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toMatch(/jane|6169547888/i);
});

test('the ids follow the cookies: read once at an idle moment, and again after a change the browser tells of, so a cookie set later is on the next event', async ({ page, collector }) => {
  // Counts the page's reads of document.cookie.
  await page.addInitScript(() => {
    const { get, set } = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    const counter = window as unknown as { cookieReads: number };
    counter.cookieReads = 0;
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      get() {
        counter.cookieReads++;
        return get!.call(this);
      },
      set(value) {
        set!.call(this, value);
      },
    });
  });
  await load(page, '/t-sections.html');
  const readsFor = (names: string[]) =>
    page.evaluate((names) => {
      const counter = window as unknown as { cookieReads: number };
      const before = counter.cookieReads;
      for (const name of names) window.microconv.track(name);
      return counter.cookieReads - before;
    }, names);
  // Read once the page is idle, ahead of the first event: the events that follow read nothing.
  await expect.poll(() => page.evaluate(() => (window as unknown as { cookieReads: number }).cookieReads)).toBe(1);
  expect(await readsFor(['first', 'second'])).toBe(0);
  // The site's tag sets _ga now. Once the browser has told of the change, the next event reads it.
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        (window as unknown as { cookieStore: EventTarget }).cookieStore.addEventListener('change', resolve, { once: true });
        document.cookie = '_ga=GA1.1.111.222; path=/';
      }),
  );
  expect(await readsFor(['third'])).toBe(1);
  await flush(page);
  await collector.waitForDelivered(['first', 'second', 'third']);
  const byName = Object.fromEntries(collector.delivered().map((event) => [event.name, event.ids?.ga_client_id]));
  expect([byName.first, byName.second, byName.third]).toEqual([undefined, undefined, '111.222']);
});

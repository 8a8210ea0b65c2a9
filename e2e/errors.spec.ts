/**
 * The words of the script tag's refusals (issue 11): microconv.js decides at once what it refuses, and
 * says the full message once `microconv-errors.js` has come, fetched through the loader of the other
 * parts on the first refusal (in the `csp` project, under a strict CSP and Trusted Types). Until then, a
 * short error names what was refused; it stands on its own if the words cannot come.
 */
import type { Page } from '@playwright/test';
import type { LogEntry } from '../src/types';
import { expect, load, settle, test, track } from './support/test';

const short = (what: string) => `${what} cannot be used; the details follow in the console`;

/** How many times the page asked for the words. */
const wordsFetched = (page: Page) => {
  const asked = { count: 0 };
  page.on('request', (request) => void (request.url().endsWith('/microconv-errors.js') && asked.count++));
  return asked;
};

/** microconv's console errors, without their prefix. */
const consoleErrors = (page: Page) => {
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && message.text().startsWith('[microconv] ') && errors.push(message.text().slice(12))));
  return errors;
};

test('the first refusal fetches the words once: a short error at once, the full one when they come; later refusals in full at once', async ({ page, collector }) => {
  const asked = wordsFetched(page);
  const errors = consoleErrors(page);
  await load(page, '/track.html');
  expect(asked.count, 'a page without errors never fetches the words').toBe(0);

  // The log listeners (and so the overlay) hear both steps; the refusal is counted at once.
  const first = await page.evaluate(() => {
    const logs: LogEntry[] = ((window as unknown as { logs: LogEntry[] }).logs = []);
    window.microconv.on('log', (entry: LogEntry) => logs.push(entry));
    const id = window.microconv.track('Bad Name');
    return { id, logs: [...logs], dropped: window.microconv.stats().dropped };
  });
  expect(first).toEqual({ id: '', logs: [{ level: 'error', message: short('track("Bad Name"): event name') }], dropped: { invalid: 1 } });
  const full = 'track("Bad Name"): invalid event name "Bad Name": 1 to 40 of a-z, 0-9 and _, starting with a letter';
  await expect.poll(() => page.evaluate(() => (window as unknown as { logs: LogEntry[] }).logs.map((entry) => entry.message))).toEqual([short('track("Bad Name"): event name'), full]);

  // The words are here now: the next refusal is said in full, once.
  const second = await page.evaluate(() => {
    const logs = (window as unknown as { logs: LogEntry[] }).logs;
    window.microconv.track('with_function', { callback: () => 1 });
    return logs.slice(2);
  });
  expect(second).toEqual([{ level: 'error', message: 'track("with_function"): parameter callback cannot be sent: function' }]);
  expect(errors).toEqual([short('track("Bad Name"): event name'), full, 'track("with_function"): parameter callback cannot be sent: function']);
  expect(asked.count).toBe(1);

  await track(page, 'valid_after');
  await settle(page, collector);
  expect(collector.delivered().map((event) => event.name)).toContain('valid_after');
  expect((await page.evaluate(() => window.microconv.stats())).dropped).toEqual({ invalid: 2 });
});

test('words that cannot come: the short error stands on its own, the refusal still counted, the page still tracked', async ({ page, collector }) => {
  const asked = wordsFetched(page);
  const errors = consoleErrors(page);
  let failed!: () => void;
  const gone = new Promise<void>((resolve) => (failed = resolve));
  page.on('requestfailed', (request) => void (request.url().endsWith('/microconv-errors.js') && failed()));
  await page.route('**/dist/microconv-errors.js', (route) => route.abort());
  await load(page, '/track.html');

  expect(await page.evaluate(() => window.microconv.track('Bad Name'))).toBe('');
  await gone;
  // Past the failed fetch: a second refusal, and an event that goes.
  expect(await page.evaluate(() => window.microconv('track', 'valid_name', { node: document.body }))).toBe('');
  await track(page, 'valid_after');
  await settle(page, collector);

  expect(errors).toEqual([short('track("Bad Name"): event name'), short('track("valid_name"): parameter node')]);
  expect(asked.count, 'fetched once, not again at each refusal').toBe(1);
  expect(collector.delivered().map((event) => event.name)).toContain('valid_after');
  expect((await page.evaluate(() => window.microconv.stats())).dropped).toEqual({ invalid: 2 });
});

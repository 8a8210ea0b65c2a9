/**
 * The `test` of every e2e spec: Playwright's, with a test server of its own (`server`, `collector`),
 * `baseURL` pointing at it, and checks after each test that microconv threw nothing into any page
 * (contract 3: "nothing microconv does ever throws into the host page", unhandled rejections included)
 * and that no page or frame broke its Content Security Policy or Trusted Types (issue 10). The `csp`
 * project serves every file under `SUITE_CSP`, so there the second check covers the whole suite.
 */
import { readFile } from 'node:fs/promises';
import { test as base, expect, type Page } from '@playwright/test';
import type { MicroconvEvent } from '../../src/types';
import { startServer, summary, type Collector, type TestServer } from './server';

export interface Options {
  /** The Content-Security-Policy the test server sends with every file (the `csp` project sets it). */
  csp: string | undefined;
}

interface Fixtures {
  server: TestServer;
  collector: Collector;
  /** Errors thrown into any page of the test's context; must stay empty unless a test empties it. */
  pageErrors: Error[];
  /** Headers for pages a test serves itself with `route.fulfill`: the policy the test server would send. */
  pageHeaders: Record<string, string>;
  /**
   * The CSP and Trusted Types violations of any page or frame of the test's context, as reported by the
   * `securitypolicyviolation` event and by the console; must stay empty unless a test empties it.
   */
  cspViolations: string[];
}

/** The console errors a blocked script, style or Trusted Types sink leaves in Chromium. */
const VIOLATION_MESSAGE = /Content Security Policy|Trusted ?(Types?|Script|ScriptURL|HTML)\b/i;

export const test = base.extend<Fixtures & Options>({
  csp: [undefined, { option: true }],
  server: async ({ csp }, use) => {
    const server = await startServer({ csp });
    await use(server);
    await server.close();
  },
  collector: async ({ server }, use) => use(server.collector),
  baseURL: async ({ server }, use) => use(server.origin),
  pageErrors: [
    async ({ context }, use) => {
      const errors: Error[] = [];
      const watch = (page: Page) => page.on('pageerror', (error) => errors.push(error));
      context.pages().forEach(watch);
      context.on('page', watch);
      await use(errors);
      expect(errors.map(String), 'errors thrown into the page').toEqual([]);
    },
    { auto: true },
  ],
  pageHeaders: async ({ csp }, use) => use(csp ? { 'Content-Security-Policy': csp } : {}),
  cspViolations: [
    async ({ context }, use) => {
      const violations: string[] = [];
      // The init script and the binding reach every frame, cross-origin and sandboxed ones included, from
      // before the page's first script; the event is composed, so a violation inside a shadow root is heard.
      await context.exposeBinding('__reportCspViolation', ({ frame }, text: string) => violations.push(`${text} (in ${frame.url()})`));
      await context.addInitScript(() =>
        addEventListener(
          'securitypolicyviolation',
          (event) => (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'}: ${event.sample} at ${event.sourceFile}:${event.lineNumber}`),
          true,
        ),
      );
      context.on('console', (message) => message.type() === 'error' && VIOLATION_MESSAGE.test(message.text()) && violations.push(`console: ${message.text()}`));
      await use(violations);
      expect(violations, 'CSP and Trusted Types violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/**
 * Opens a fixture page and waits for the round of sends that microconv starts on load (at once, or once
 * the page is idle), so that what a test tracks next does not race that round's IndexedDB claim (a race
 * that persistence.spec.ts tests on its own).
 */
export async function load(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));
  await flush(page);
}

/**
 * Runs one of e2e/pages' scripts in the page now, as a tag that comes late would. Not `page.addScriptTag`:
 * it sets a script's `src` from a plain string, which Trusted Types refuses (the `csp` project); code the
 * test runs through DevTools is not held to the page's CSP, so the script's code gets in unchanged.
 */
export const runPageScript = async (page: Page, file: string): Promise<void> =>
  void (await page.evaluate(await readFile(new URL(`../pages/${file}`, import.meta.url), 'utf8')));

/** Tracks through the script-tag API; returns the event_id. */
export const track = (page: Page, name: string, params?: Record<string, unknown>): Promise<string> =>
  page.evaluate(([name, params]) => window.microconv.track(name, params), [name, params] as const);

export const flush = (page: Page): Promise<void> => page.evaluate(() => window.microconv.flush());

/**
 * Makes "nothing more arrives" observable without sleeping: whatever `page` had to send is sent by a
 * flush, and then a sentinel event, tracked and flushed after it, has been delivered.
 */
export async function settle(page: Page, collector: Collector): Promise<void> {
  await flush(page);
  const id = await track(page, 'sentinel');
  await flush(page);
  await collector.waitFor('the sentinel', () => collector.deliveryCounts().has(id));
}

/** Every one of `ids` reached a 2xx exactly once, and no event at all was delivered twice. */
export function expectDeliveredOnce(collector: Collector, ids: string[]): void {
  const counts = collector.deliveryCounts();
  const message = `deliveries:\n${summary(collector.requests)}`;
  expect(ids.map((id) => counts.get(id) || 0), message).toEqual(ids.map(() => 1));
  expect([...counts].filter(([, count]) => count > 1), message).toEqual([]);
}

/** The delivered events with these ids, in the order of `ids`. */
export const byIds = (events: MicroconvEvent[], ids: string[]): (MicroconvEvent | undefined)[] =>
  ids.map((id) => events.find((event) => event.event_id === id));

/**
 * Helpers of the tracker specs (`e2e/trackers-*.spec.ts`). Their fixture pages (`e2e/pages/t-*.html`)
 * install microconv through the standard stub with `batch: { size: 1 }`, so that every event leaves as
 * soon as it is tracked and a test waits on the collector, never on a batch timer; `withOptions` adds a
 * test's own init options to those.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Frame, Page } from '@playwright/test';
import type { MicroconvEvent } from '../../src/types';
import type { Collector } from './server';
import { load } from './test';

/** Init options the fixture page merges over its own (`window.mcOptions`); call before opening the page. */
export async function withOptions(page: Page, options: Record<string, unknown>): Promise<void> {
  await page.addInitScript((options) => void ((window as unknown as { mcOptions: unknown }).mcOptions = options), options);
}

/**
 * Opens a fixture page and waits until microconv's trackers run: they start in an idle callback after
 * `load`, and the idle callbacks `load()` and this one ask for come after it.
 */
export async function open(page: Page, path: string): Promise<void> {
  await load(page, path);
  await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));
}

/**
 * Pauses the page's installed clock, a little ahead of its time (Playwright pauses only at a time to
 * come): timers due in that moment run, and from then on time passes only by `runFor`.
 */
export async function pauseClock(page: Page): Promise<void> {
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 2000);
}

/** The delivered events named `name`, each event_id once, in the order they arrived. */
export function named(collector: Collector, name: string): MicroconvEvent[] {
  const seen = new Set<string>();
  return collector.delivered().filter((event) => event.name === name && !seen.has(event.event_id) && (seen.add(event.event_id), true));
}

/** The params of the delivered events named `name` (see `named`). */
export const paramsOf = (collector: Collector, name: string): Record<string, unknown>[] => named(collector, name).map((event) => event.params);

/** Resolves with the events named `name` once at least `count` of them have been delivered. */
export const waitForCount = (collector: Collector, name: string, count = 1): Promise<MicroconvEvent[]> =>
  collector.waitFor(`${count} × ${name}`, () => {
    const events = named(collector, name);
    return events.length >= count && events;
  });

/**
 * The names of the delivered events, each event_id once, in the order they arrived: those among `names`,
 * or, without `names`, all but the `sentinel` of `settle`.
 */
export const trackerEvents = (collector: Collector, names?: string[]): string[] => {
  const seen = new Set<string>();
  return collector
    .delivered()
    .filter((event) => (names ? names.includes(event.name) : event.name !== 'sentinel') && !seen.has(event.event_id) && (seen.add(event.event_id), true))
    .map((event) => event.name);
};

/**
 * Resolves, with the element's intersection ratio, at the first rendering update after the call. By
 * then every IntersectionObserver created before this one (microconv's) has had its callback for the
 * page as it is now: observers are notified in one task, in the order they were made. Uses no timer and
 * no animation frame, so it works while `page.clock` is paused.
 */
export const rendered = (page: Page, selector: string): Promise<number> =>
  page.evaluate(
    (selector) =>
      new Promise<number>((resolve) => {
        const observer = new IntersectionObserver(([entry]) => (observer.disconnect(), resolve(Math.round(entry!.intersectionRatio * 100) / 100)));
        observer.observe(document.querySelector(selector)!);
      }),
    selector,
  );

/**
 * Scrolls the page with the mouse wheel by `dy`, waits until it has got there, and lets the clock (which
 * the test has installed) pass the pause after which the scroll tracker reads the position. Returns scrollY.
 */
export async function wheel(page: Page, dy: number): Promise<number> {
  const target = await page.evaluate((dy) => Math.max(0, Math.min(scrollY + dy, document.documentElement.scrollHeight - innerHeight)), dy);
  await page.mouse.move(640, 360);
  await page.mouse.wheel(0, dy);
  await page.waitForFunction((target) => Math.abs(scrollY - target) < 1, target);
  await page.clock.runFor(300);
  return page.evaluate(() => scrollY);
}

/** The frame of the first iframe whose URL matches `url` (the page has loaded), once it has loaded. */
export async function frameOf(page: Page, url: RegExp): Promise<Frame> {
  const frame = page.frames().find((candidate) => url.test(candidate.url()));
  if (!frame) throw new Error(`no frame matches ${url}; frames: ${page.frames().map((f) => f.url())}`);
  await frame.waitForLoadState('load');
  return frame;
}

/** Every request body the pages of the test's context sent, raw, whatever their destination. */
export function recordBodies(page: Page): string[] {
  const bodies: string[] = [];
  page.context().on('request', (request) => {
    const body = request.postData();
    if (body) bodies.push(body);
  });
  return bodies;
}

/** A relay in front of the collector that can keep requests in flight (see `startRelay`). */
export interface Relay {
  /** The relay's collect URL, on its own port (a simple cross-origin request: text/plain, no preflight). */
  url: string;
  /** Resolves once `count` requests have reached the relay. */
  received(count: number): Promise<void>;
  /** Forwards what is held and everything after it at once. */
  release(): void;
  close(): Promise<void>;
}

/**
 * Starts a relay that holds every request it gets (the browser sees it in flight, unanswered) until
 * `release()`, then forwards each to `collect` and answers with the collector's status. It makes "a
 * request still in flight when the page goes" happen every time instead of by chance.
 */
export async function startRelay(collect: string): Promise<Relay> {
  let released = false;
  const held: (() => void)[] = [];
  let count = 0;
  const waiters: [number, () => void][] = [];
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
    });
  const server = createServer(async (req, res) => {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method !== 'POST') return void res.writeHead(204, { ...cors, 'Access-Control-Allow-Headers': '*' }).end();
    const body = await read(req);
    count++;
    waiters.splice(0).forEach(([n, resolve]) => (count >= n ? resolve() : waiters.push([n, resolve])));
    if (!released) await new Promise<void>((resolve) => held.push(resolve));
    const answer = await fetch(collect, { method: 'POST', body: body.toString('utf8'), headers: { 'Content-Type': String(req.headers['content-type'] || 'text/plain') } });
    res.writeHead(answer.status, cors).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`,
    received: (n) => new Promise((resolve) => (count >= n ? resolve() : waiters.push([n, resolve]))),
    release: () => ((released = true), held.splice(0).forEach((go) => go())),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** The stand-in players' driver (e2e/pages/fake-youtube.html, fake-vimeo.html), as the tests use it. */
export interface FakePlayer {
  /** Messages posted to the page so far. */
  sent: number;
  /** Resolves once `test()` holds, checked after each message the player receives. */
  until(test: () => unknown): Promise<void>;
  // YouTube
  heard: number;
  answered: boolean;
  marker?: boolean;
  becomeReady(): void;
  play(at?: number): number;
  at(seconds: number): number;
  end(): number;
  // Vimeo
  asked: string[];
  titleAsked: number;
  emit(event: string, seconds: number): number;
}

declare global {
  interface Window {
    /** In a stand-in player's frame. */
    player: FakePlayer;
    /** In t-embeds.html: resolves once the page has received `count` messages from the player in iframe #`id`. */
    receivedFrom(id: string, count: number): Promise<void>;
  }
}

// Contract 3: `destroy()` removes every listener and observer microconv added. An init script counts them
// before microconv loads: it wraps addEventListener/removeEventListener, the three observers and
// setInterval, and credits to microconv what its own file (dist/microconv.js) called. After destroy()
// nothing of it may remain, and interacting with the page must bring nothing to the collector.
import type { Page } from '@playwright/test';
import { expect, test } from './support/test';
import { open, wheel, withOptions } from './support/trackers';

interface Ledger {
  /** `target type` of each listener microconv added and has not removed. */
  listeners: string[];
  /** Per observer microconv made: `kind targets-still-observed`. */
  observers: string[];
  /** Intervals microconv set and has not cleared. */
  intervals: number;
  /** history.pushState and replaceState are the page's own again. */
  historyRestored: boolean;
}

declare global {
  interface Window {
    ledger(): Ledger;
  }
}

async function installLedger(page: Page): Promise<void> {
  await page.addInitScript(() => {
    Error.stackTraceLimit = 100;
    const byMicroconv = () => /\/dist\/microconv\.js/.test(new Error().stack || '');
    const nameOf = (target: EventTarget) => (target === window ? 'window' : target === document ? 'document' : String(target));

    type Entry = { target: EventTarget; type: string; listener: unknown; capture: boolean };
    const live = new Set<Entry>();
    const captureOf = (options?: boolean | EventListenerOptions) => (typeof options === 'boolean' ? options : !!options?.capture);
    const find = (target: EventTarget, type: string, listener: unknown, capture: boolean) =>
      [...live].find((entry) => entry.target === target && entry.type === type && entry.listener === listener && entry.capture === capture);
    const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype;
    EventTarget.prototype.addEventListener = function (this: EventTarget, type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions) {
      const capture = captureOf(options);
      if (listener && byMicroconv() && !find(this, type, listener, capture)) {
        const entry = { target: this, type, listener, capture };
        live.add(entry);
        // Gone by themselves: a once listener after it ran, one with a signal when that aborts.
        if (typeof options === 'object' && options.once) add.call(this, type, () => live.delete(entry), { once: true, capture });
        if (typeof options === 'object' && options.signal) add.call(options.signal, 'abort', () => live.delete(entry));
      }
      return add.call(this, type, listener, options);
    };
    EventTarget.prototype.removeEventListener = function (this: EventTarget, type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions) {
      const entry = find(this, type, listener, captureOf(options));
      if (entry) live.delete(entry);
      return remove.call(this, type, listener, options);
    };

    const observers: { kind: string; targets: Set<unknown> }[] = [];
    for (const kind of ['IntersectionObserver', 'ResizeObserver', 'MutationObserver'] as const) {
      const Original = window[kind] as unknown as new (...args: unknown[]) => { observe(target: unknown, options?: unknown): void; unobserve?(target: unknown): void; disconnect(): void };
      const records = new WeakMap<object, { kind: string; targets: Set<unknown> }>();
      const Counted = class extends Original {
        constructor(...args: unknown[]) {
          super(...args);
          if (!byMicroconv()) return;
          const record = { kind, targets: new Set<unknown>() };
          records.set(this, record);
          observers.push(record);
        }
        override observe(target: unknown, options?: unknown) {
          records.get(this)?.targets.add(target);
          return super.observe(target, options);
        }
        override unobserve(target: unknown) {
          records.get(this)?.targets.delete(target);
          return super.unobserve!(target);
        }
        override disconnect() {
          records.get(this)?.targets.clear();
          return super.disconnect();
        }
      };
      (window as unknown as Record<string, unknown>)[kind] = Counted;
    }

    const intervals = new Set<number>();
    const { setInterval: set, clearInterval: clear } = window;
    window.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const id = set(...args);
      if (byMicroconv()) intervals.add(id);
      return id;
    }) as typeof setInterval;
    window.clearInterval = ((id?: number) => (intervals.delete(id!), clear(id))) as typeof clearInterval;

    const { pushState, replaceState } = history;
    window.ledger = () => ({
      listeners: [...live].map((entry) => `${nameOf(entry.target)} ${entry.type}`).sort(),
      observers: observers.map((record) => `${record.kind} ${record.targets.size}`),
      intervals: intervals.size,
      historyRestored: history.pushState === pushState && history.replaceState === replaceState,
    });
  });
}

test('after destroy() no listener, observer or timer of microconv remains, and nothing more is sent', async ({ page, collector }) => {
  await page.clock.install(); // first, so that the ledger counts the clock's timers
  await installLedger(page);
  // A section that is seen stops being observed. Its dwell outlasts the test, so that its observer is still
  // at work when the ledger is read however slow the machine is (with the default second, the dwell ended
  // first about one run in twenty).
  await withOptions(page, { trackers: { sections: { dwellMs: 3_600_000 } } });
  await open(page, '/t-destroy.html');

  // Alive: the page works, and the ledger sees microconv's listeners and observers.
  await page.click('#cta');
  await collector.waitForDelivered(['cta_click']);
  const alive = await page.evaluate(() => window.ledger());
  // No scroll listener: on a page taller than its viewport, the scroll tracker's observer serves alone.
  expect(alive.listeners).toEqual(expect.arrayContaining(['document click', 'document keydown', 'document submit', 'document play', 'window message', 'window pagehide', 'document visibilitychange']));
  expect(alive.observers).toEqual(expect.arrayContaining([expect.stringMatching(/^IntersectionObserver [1-9]/), expect.stringMatching(/^ResizeObserver [1-9]/), 'MutationObserver 1']));
  expect(alive.intervals).toBe(1); // the YouTube handshake, unanswered
  expect(alive.historyRestored).toBe(false);

  await page.evaluate(() => window.microconv.destroy());
  const sentBefore = collector.requests.length;
  expect(await page.evaluate(() => window.ledger())).toEqual({
    listeners: [],
    observers: alive.observers.map((observer) => observer.replace(/\d+$/, '0')),
    intervals: 0,
    historyRestored: true,
  });

  // Everything that made events before: clicks, keys, scrolling, typing, a submit, a video, a route
  // change, a hidden tab, and time for every timer microconv might have left.
  const consoleLines: string[] = [];
  page.on('console', (message) => message.text().startsWith('[microconv]') && consoleLines.push(message.text()));
  await page.click('#cta');
  await page.click('#tel');
  await page.focus('#key-cta');
  await page.keyboard.press('Enter');
  await page.getByLabel('E-mail').pressSequentially('gone');
  await page.click('#submit');
  await page.evaluate(async () => {
    const video = document.querySelector('video')!;
    video.playbackRate = 4;
    await video.play(); // past 25 %, then a seek to the end
    await new Promise((resolve) => video.addEventListener('timeupdate', () => video.currentTime > 4 && resolve(undefined)));
    video.currentTime = 11.9;
    await new Promise((resolve) => video.addEventListener('ended', resolve, { once: true }));
  });
  await wheel(page, 5000);
  await page.evaluate(() => history.pushState({}, '', '/elsewhere'));
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    dispatchEvent(new PageTransitionEvent('pagehide'));
  });
  await page.clock.runFor(60_000);

  // A request of the test's own, sent after all that, arrives; microconv sent nothing meanwhile.
  await page.evaluate(() =>
    fetch('/collect', { method: 'POST', body: JSON.stringify({ v: 1, sent_at: new Date().toISOString(), events: [{ event_id: 'flag', name: 'flag' }] }) }),
  );
  await collector.waitFor('the flag request', () => collector.requests.some((request) => request.events.some((event) => event.name === 'flag')));
  expect(collector.requests.slice(sentBefore).map((request) => request.events.map((event) => event.name))).toEqual([['flag']]);
  expect(consoleLines).toEqual([]);
  expect(await page.evaluate(() => window.ledger().listeners)).toEqual([]);
});

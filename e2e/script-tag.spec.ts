import { expect, expectDeliveredOnce, load, settle, test } from './support/test';

/** The first of the two steps in which the script tag says a refusal (the second: its full message). */
const SHORT = / cannot be used; the details follow in the console$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const QUEUED = ['queued_first', 'queued_second', 'queued_third', 'queued_fourth'];

test('calls queued by the stub before the script loads replay in order', async ({ page, collector }) => {
  // Hold the script back until the test has queued a call of its own through the stub.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/dist/microconv.js', async (route) => {
    await released;
    await route.continue();
  });
  await page.goto('/queued.html', { waitUntil: 'domcontentloaded' });
  const before = await page.evaluate(() => {
    window.microconv('track', 'queued_fourth', { step: 4 });
    return { queued: window.microconv.q?.length, loaded: !!window.microconv.loaded };
  });
  expect(before).toEqual({ queued: 6, loaded: false }); // init, three tracks, consent, and ours

  release();
  await page.waitForLoadState('load');
  await collector.waitForDelivered(QUEUED);
  await settle(page, collector);

  const events = QUEUED.map((name) => collector.delivered().find((event) => event.name === name)!);
  expect(events.map((event) => event.params)).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }, { step: 4 }]);
  // Replayed in order: timestamps never go back, and the consent call ran between the second and the third
  // track (no browser id before it, one after). The order on the wire is another test's (delivery.spec.ts).
  const times = events.map((event) => event.ts);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(events.map((event) => event.anonymous_id === null)).toEqual([true, true, false, false]);
  expect(events[2]!.anonymous_id).toMatch(UUID_V4);
  expect(events[3]!.anonymous_id).toBe(events[2]!.anonymous_id);
  expectDeliveredOnce(
    collector,
    events.map((event) => event.event_id),
  );
});

test('the endpoint receives the wire format of the contract', async ({ page, collector }) => {
  await page.goto('/queued.html?utm_source=newsletter&utm_medium=email');
  await collector.waitForDelivered(['queued_third']);
  const request = collector.requests.find((r) => r.delivered)!;
  expect(request.contentType).toBe('text/plain;charset=UTF-8');
  expect(request.payload!.v).toBe(1);
  expect(new Date(request.payload!.sent_at).toISOString()).toBe(request.payload!.sent_at);

  const origin = new URL(page.url()).origin;
  for (const event of collector.delivered()) {
    expect(Object.keys(event).sort()).toEqual(['anonymous_id', 'attribution', 'consent', 'event_id', 'ids', 'name', 'page', 'params', 'session_id', 'ts'].sort());
    expect(event.event_id).toMatch(UUID_V4);
    expect(event.session_id).toBe(collector.delivered()[0]!.session_id);
    expect(Math.abs(event.ts - Date.now())).toBeLessThan(60_000);
    expect(event.page).toEqual({ url: page.url(), path: '/queued.html', title: 'Queued', referrer: '' });
    // The consent each event was tracked under: the page granted it after its first two events, which
    // waited for it and carry 'pending' (the collector forwards nothing to an ad platform on that).
    const tracked = event.name === 'queued_third' ? 'granted' : 'pending';
    expect(event.consent).toEqual({ analytics_storage: tracked, ad_storage: tracked, ad_user_data: tracked, ad_personalization: tracked });
    expect(event.attribution).toEqual({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: null,
      utm_term: null,
      utm_content: null,
      gclid: null,
      gbraid: null,
      wbraid: null,
      fbclid: null,
      landing_page: `${origin}/queued.html?utm_source=newsletter&utm_medium=email`,
      referrer: '',
    });
  }
});

test('bad input from the script tag is logged and counted, never thrown, and valid events still go', async ({ page, collector }) => {
  const errors: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && message.text().startsWith('[microconv]') && errors.push(message.text())));
  await load(page, '/bad-input.html');

  // The same mistakes after load, through both call styles: each one returns normally.
  const outcomes = await page.evaluate(() =>
    [
      () => window.microconv.track('', {}),
      () => window.microconv('track', 42),
      () => window.microconv.track('body_as_params', document.body),
      () => window.microconv.track('function_param', { callback: () => 1 }),
      () => window.microconv.consent('maybe'),
    ].map((call) => {
      try {
        call();
        return 'returned';
      } catch {
        return 'threw';
      }
    }),
  );
  expect(outcomes).toEqual(Array(5).fill('returned'));

  await page.evaluate(() => window.microconv.track('valid_late'));
  await page.evaluate(() => window.microconv.flush());
  await collector.waitForDelivered(['valid_before', 'valid_after', 'valid_late']);
  await settle(page, collector);

  const names = collector.delivered().map((event) => event.name);
  expect(names.filter((name) => name.startsWith('valid_'))).toEqual(['valid_before', 'valid_after', 'valid_late']);
  for (const refused of ['Not A Name', 'node_param', 'circular_param', 'body_as_params', 'function_param']) expect(names).not.toContain(refused);
  // In the page: two bad options, a bad name, a DOM node, a circular object; after load, five more.
  expect((await page.evaluate(() => window.microconv.stats())).dropped).toEqual({ invalid: 10 });
  // Each is said in full once microconv-errors.js has come; those met before it came (the five in the
  // page at least) were first a short error naming what was refused, in the order they were met.
  const short = (error: string) => SHORT.test(error);
  await expect.poll(() => errors.filter((error) => !short(error)).length).toBe(10);
  const shorts = errors.filter(short);
  expect(shorts.slice(0, 5)).toEqual(['option batch', 'option debug', 'track("Not A Name"): event name', 'track("node_param"): parameter target', 'track("circular_param"): params'].map((what) => `[microconv] ${what} cannot be used; the details follow in the console`));
  expect(errors).toHaveLength(10 + shorts.length);
  const full = errors.filter((error) => !short(error));
  const starts = ['option batch must be', 'option debug must be', 'track("Not A Name"): invalid event name', 'track("node_param"): parameter target cannot be sent', 'track("circular_param"): params hold a circular'];
  expect(full.slice(0, 5).map((error, i) => error.startsWith(`[microconv] ${starts[i]}`)), `in order: ${full}`).toEqual(starts.map(() => true));
  for (const clue of ['option batch', 'option debug', '"Not A Name"', 'HTMLHtmlElement', 'circular', '""', '42', 'HTMLBodyElement', 'callback', 'maybe']) {
    expect(full.filter((error) => error.includes(clue)), `a console error mentioning ${clue}`).not.toEqual([]);
  }
});

/**
 * Records, with its time, each touch of the page that microconv.js makes: listeners, observers,
 * storage, cookies. A stack that names the file tells its calls from the page's.
 */
const RECORD_TOUCHES = () => {
  const touches: [string, number][] = ((window as any).touches = []);
  const ours = () => /\/dist\/microconv\.js/.test(new Error().stack || '');
  const note = (what: string) => ours() && touches.push([what, performance.now()]);
  const wrap = (proto: any, key: string, label = key) => {
    const original = proto[key];
    proto[key] = function (this: unknown, ...args: unknown[]) {
      note(label + (typeof args[0] === 'string' ? ' ' + args[0] : ''));
      return original.apply(this, args);
    };
  };
  wrap(EventTarget.prototype, 'addEventListener');
  wrap(IDBFactory.prototype, 'open', 'indexedDB.open');
  for (const name of ['IntersectionObserver', 'MutationObserver'] as const) {
    const Original = window[name] as any;
    (window as any)[name] = function (...args: unknown[]) {
      note(name);
      return new Original(...args);
    };
    (window as any)[name].prototype = Original.prototype;
  }
  const getter = (target: object, key: string) => {
    const { get, set } = Object.getOwnPropertyDescriptor(target, key)!;
    Object.defineProperty(target, key, { get() { note(key); return get!.call(this); }, set, configurable: true });
  };
  getter(Document.prototype, 'cookie');
  getter(window, 'localStorage');
};

test('before the load event the script installs microconv and waits: it starts once the page is idle', async ({ page, collector }) => {
  await page.addInitScript(RECORD_TOUCHES);
  await page.goto('/t-clicks.html');
  await page.click('#demo');
  await collector.waitForDelivered(['cta_click']);
  const { touches, loaded } = await page.evaluate(() => ({ touches: (window as any).touches as [string, number][], loaded: performance.getEntriesByType('navigation')[0]!.toJSON().loadEventStart as number }));
  // Before load: one listener, for the load event itself.
  expect(touches.filter(([, at]) => at < loaded).map(([what]) => what)).toEqual(['addEventListener load']);
  // After it, the start: the lifecycle's listeners, storage, the trackers' listeners and observers.
  const after = touches.filter(([, at]) => at >= loaded).map(([what]) => what);
  expect(after).toEqual(expect.arrayContaining(['addEventListener pagehide', 'localStorage', 'indexedDB.open microconv', 'addEventListener click', 'IntersectionObserver']));
});

test('a call to microconv before the page has loaded starts it at once, and is served', async ({ page, collector }) => {
  // The load event waits for an image that the test holds back.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/held.png', async (route) => (await released, route.fulfill({ status: 404 })));
  await page.addInitScript(() => document.addEventListener('DOMContentLoaded', () => document.body.append(Object.assign(new Image(), { src: '/held.png' }))));
  await page.goto('/t-clicks.html', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.microconv?.loaded);
  const early = await page.evaluate(() => ({ id: window.microconv.track('early_call'), state: document.readyState }));
  expect(early.state).not.toBe('complete');
  await page.evaluate(() => window.microconv.flush());
  await collector.waitForDelivered(['early_call']);
  expect(collector.delivered().find((event) => event.name === 'early_call')!.event_id).toBe(early.id);
  expect(await page.evaluate(() => document.readyState)).not.toBe('complete');
  release();
});

test('calls queued by the stub are served at once, not at the idle moment a visitor may leave before', async ({ page, collector }) => {
  // A page that is never idle: its idle callbacks never come.
  await page.addInitScript(() => (window.requestIdleCallback = () => 0));
  await page.goto('/queued.html');
  await collector.waitForDelivered(['queued_first', 'queued_second', 'queued_third']);
});

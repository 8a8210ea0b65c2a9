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

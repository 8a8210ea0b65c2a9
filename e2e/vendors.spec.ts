/**
 * The vendor adapters (contract 5) against the vendors' own snippets, as they ship, in a real page: the
 * Google tag's `gtag`/`dataLayer`, the Meta Pixel's `fbq` stub and Google Tag Manager's `dataLayer`.
 * Their loaders are left out (no vendor network), so every call stays where the snippets queue it.
 */
import { expect, flush, load, runPageScript, settle, test, track } from './support/test';
import { dataLayerObjects, fbqEvents, gtagEvents, probe, statusesOf, vendorState } from './support/vendors';

test('gtag, the Meta Pixel and the dataLayer get each event with the event_id the collector got', async ({ page, collector }) => {
  await load(page, '/v-vendors.html');
  await page.click('[data-mc-cta="hero_signup"]');
  await page.click('#newsletter button[type="submit"]'); // focus then submit: form_begin, form_complete
  await expect(page.locator('#thanks')).toBeVisible();
  await track(page, 'pricing_viewed', { plan: 'pro', seats: 3 });
  await flush(page);
  const names = ['cta_click', 'form_begin', 'form_complete', 'pricing_viewed'];
  const delivered = await collector.waitForDelivered(names);
  const events = names.map((name) => delivered.find((event) => event.name === name)!);
  expect(events[0]!.params).toMatchObject({ cta_name: 'hero_signup', link_type: 'button', link_text: 'Sign up' });
  expect(events[2]!.params).toMatchObject({ form_name: 'newsletter', form_id: 'newsletter' });

  // The vendors' adapters deliver at once; wait until every event has reached each of them.
  await expect.poll(async () => fbqEvents(await vendorState(page)).length).toBe(names.length);
  const state = await vendorState(page);

  // The snippets' own calls come first and are untouched.
  expect(state.dataLayer!.slice(0, 2)).toEqual([{ args: ['js', expect.any(Date)] }, { args: ['config', 'G-TEST000000'] }]);
  expect(state.fbq!.slice(0, 2).map((call) => call.args)).toEqual([
    ['init', '000000000000000'],
    ['track', 'PageView'],
  ]);

  // gtag: `gtag('event', name, params)`, which the snippet queues as an `arguments` object, with event_id.
  expect(gtagEvents(state)).toEqual(events.map((event) => [event.name, { event_id: event.event_id, ...event.params }]));
  // GTM: `{ event, event_id, ...params }`.
  expect(dataLayerObjects(state)).toEqual(events.map((event) => ({ event: event.name, event_id: event.event_id, ...event.params })));
  // Meta: trackCustom with { eventID }, and form_complete as the standard Lead (meta: { events: 'standard' }).
  expect(fbqEvents(state)).toEqual(
    events.map((event) =>
      event.name === 'form_complete' ? ['track', 'Lead', event.params, { eventID: event.event_id }] : ['trackCustom', event.name, event.params, { eventID: event.event_id }],
    ),
  );
  // What reached fbq went through the stub as one `arguments` object per call, as fbevents.js expects.
  expect(state.fbq!.every((call) => call.isArguments)).toBe(true);

  const { deliveries } = await probe(page);
  for (const event of events) {
    expect(statusesOf(deliveries, event.event_id)).toEqual({ endpoint: ['queued', 'sent'], gtag: ['queued', 'sent'], meta: ['queued', 'sent'], datalayer: ['queued', 'sent'] });
  }
});

test("GA4's limits are applied to gtag, counted and warned; the endpoint gets the full event", async ({ page, collector }) => {
  const warnings: string[] = [];
  page.on('console', (message) => void (message.type() === 'warning' && message.text().startsWith('[microconv]') && warnings.push(message.text())));
  await load(page, '/v-vendors.html?mc_debug=1');

  // 30 parameters: 25 ordinary ones (one of them 300 characters long) and 5 with GA4's reserved names
  // and prefixes, spread among them so that they must not take a place among the 25.
  const long = 'x'.repeat(300);
  const params: Record<string, string | number> = {};
  const reserved = ['session_id', 'gclid', '_x', 'ga_x', 'firebase_x'];
  for (let i = 1; i <= 25; i++) {
    params[`p${String(i).padStart(2, '0')}`] = i === 3 ? long : i;
    if (i % 5 === 0) params[reserved[i / 5 - 1]!] = 'reserved';
  }
  expect(Object.keys(params)).toHaveLength(30);
  const bigId = await track(page, 'big_event', params);
  const pageViewId = await track(page, 'page_view', { page_type: 'landing' });
  await settle(page, collector);

  // The endpoint: everything, untouched.
  const delivered = collector.delivered();
  expect(delivered.find((event) => event.event_id === bigId)!.params).toEqual(params);
  expect(delivered.find((event) => event.event_id === pageViewId)!.params).toEqual({ page_type: 'landing' });

  const state = await vendorState(page);
  const sent = gtagEvents(state);
  // page_view is GA4's own: not sent through gtag at all.
  expect(sent.map(([name]) => name)).not.toContain('page_view');
  const [, big] = sent.find(([name]) => name === 'big_event')!;
  expect(Object.keys(big)).toHaveLength(25);
  expect(big.event_id).toBe(bigId);
  for (const name of reserved) expect(big).not.toHaveProperty(name);
  expect(big.p03).toBe(long.slice(0, 100));
  // The first 24 ordinary parameters, in order; the 25th has no room left beside event_id.
  expect(Object.keys(big)).toEqual(['event_id', ...Object.keys(params).filter((key) => key.startsWith('p')).slice(0, 24)]);

  const stats = await page.evaluate(() => window.microconv.stats());
  expect(stats.dropped).toEqual({ ga4_param_refused: 5, ga4_param_over_limit: 1, ga4_value_cut: 1, ga4_reserved_name: 1 });
  const { deliveries } = await probe(page);
  expect(deliveries).toContainEqual({ adapter: 'gtag', status: 'failed', event_ids: [pageViewId], reason: 'ga4_reserved_name' });
  // Debug mode warns of each cut.
  for (const name of reserved) expect(warnings).toContainEqual(expect.stringContaining(`big_event: parameter ${name} is reserved`));
  expect(warnings).toContainEqual(expect.stringContaining('big_event: parameter p25 is over'));
  expect(warnings).toContainEqual(expect.stringContaining('big_event: p03 cut to 100 characters'));
});

// Contract 5: GA4's reserved names are refused with a debug warning, as the parameter cuts are.
test('a reserved event name refused by gtag is warned in debug mode', async ({ page, collector }) => {
  const warnings: string[] = [];
  page.on('console', (message) => void (message.type() === 'warning' && message.text().startsWith('[microconv]') && warnings.push(message.text())));
  await load(page, '/v-vendors.html?mc_debug=1');
  await track(page, 'page_view');
  await settle(page, collector);
  expect(warnings).toContainEqual(expect.stringContaining('page_view'));
});

test('without gtag but with a dataLayer, the gtag adapter pushes what gtag would: an arguments object', async ({ page, collector }) => {
  await load(page, '/v-datalayer.html');
  const id = await track(page, 'pricing_viewed', { plan: 'pro' });
  await settle(page, collector);

  const state = await vendorState(page);
  expect(state.gtag).toBe(false); // no gtag was made up on the page's behalf
  // GTM's own push first, then exactly the gtag call, as an `arguments` object (what gtag.js reads).
  expect(state.dataLayer![0]).toEqual({ object: { 'gtm.start': expect.any(Number), event: 'gtm.js' } });
  const pushed = await page.evaluate(() => {
    const entry = (window as unknown as { dataLayer: unknown[] }).dataLayer.find((item) => (item as ArrayLike<unknown>)[1] === 'pricing_viewed') as IArguments;
    // What the snippet's `function gtag(){dataLayer.push(arguments);}` pushes, for comparison.
    const reference = (function (..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    })('event', 'pricing_viewed', {});
    return { type: Object.prototype.toString.call(entry), referenceType: Object.prototype.toString.call(reference), length: entry.length, args: Array.from(entry) };
  });
  expect(pushed).toEqual({ type: '[object Arguments]', referenceType: '[object Arguments]', length: 3, args: ['event', 'pricing_viewed', { event_id: id, plan: 'pro' }] });
  // The sentinel of settle() went the same way: one gtag call per event, nothing else.
  expect(state.dataLayer!.slice(1).map((entry) => ('args' in entry ? entry.args[1] : entry))).toEqual(['pricing_viewed', 'sentinel']);
});

test('blocked vendor scripts: the adapters wait their bounded time, then drop and count; the endpoint and navigation never wait', async ({ page, collector }) => {
  await page.clock.install();
  await load(page, '/v-blocked.html');
  // Time stands still from here: only the test moves it on.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);

  const id = await track(page, 'blocked_probe', { step: 1 });
  // batch.size is 1: the endpoint sends at once, while both vendor adapters are still waiting.
  await collector.waitFor('blocked_probe', () => collector.deliveryCounts().has(id));
  await expect.poll(async () => statusesOf((await probe(page)).deliveries, id)).toEqual({ endpoint: ['queued', 'sent'], gtag: ['queued'], meta: ['queued'] });
  expect(await page.evaluate(() => window.microconv.stats())).toEqual({ dropped: {}, waiting: { endpoint: 0, gtag: 1, meta: 1 } });

  // Just short of the 5 s default, they still wait; past it, they give up, counted.
  await page.clock.runFor(4800);
  expect((await page.evaluate(() => window.microconv.stats())).waiting).toEqual({ endpoint: 0, gtag: 1, meta: 1 });
  await page.clock.runFor(300);
  await expect.poll(() => page.evaluate(() => window.microconv.stats())).toEqual({ dropped: { gtag_missing: 1, fbq_missing: 1 }, waiting: { endpoint: 0, gtag: 0, meta: 0 } });
  const { deliveries } = await probe(page);
  const failed = deliveries.filter((report) => report.status === 'failed');
  expect(failed).toHaveLength(2);
  expect(failed).toEqual(
    expect.arrayContaining([
      { adapter: 'gtag', status: 'failed', event_ids: [id], reason: 'gtag_missing' },
      { adapter: 'meta', status: 'failed', event_ids: [id], reason: 'fbq_missing' },
    ]),
  );

  // A CTA link, while its cta_click waits at both vendor adapters: the page moves on at once (time still
  // stands still in the page, so nothing timed could have let it go), and the endpoint has the click.
  await page.click('#go');
  await page.waitForURL('**/next.html', { timeout: 2000 });
  const [click] = (await collector.waitForDelivered(['cta_click'])).filter((event) => event.name === 'cta_click');
  expect(click!.params).toMatchObject({ cta_name: 'go_next', link_type: 'link' });
});

test('a vendor tag that arrives late, within the wait, gets what waited for it', async ({ page, collector }) => {
  await page.clock.install();
  await load(page, '/v-blocked.html');
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  const id = await track(page, 'late_tag', { step: 1 });
  await collector.waitFor('late_tag', () => collector.deliveryCounts().has(id));

  // Two seconds in, the Meta Pixel's base code runs (a slow tag manager, say); gtag never comes.
  await page.clock.runFor(2000);
  await runPageScript(page, 'v-meta-pixel.js');
  await page.clock.runFor(200);
  await expect.poll(async () => fbqEvents(await vendorState(page))).toEqual([['trackCustom', 'late_tag', { step: 1 }, { eventID: id }]]);
  await page.clock.runFor(3000);
  await expect.poll(() => page.evaluate(() => window.microconv.stats())).toEqual({ dropped: { gtag_missing: 1 }, waiting: { endpoint: 0, gtag: 0, meta: 0 } });
});

// A blocked tag is waited for once, a bounded time; then everything the adapter held is dropped, counted.
test('a blocked vendor drops everything it held once its one bounded wait is over', async ({ page, collector }) => {
  await page.clock.install();
  await load(page, '/v-blocked.html');
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  const ids = [await track(page, 'held_1'), await track(page, 'held_2'), await track(page, 'held_3')];
  await collector.waitFor('the three', () => ids.every((id) => collector.deliveryCounts().has(id)));
  // The collector has them; the page learns so when it reads the answer.
  await expect.poll(async () => (await page.evaluate(() => window.microconv.stats())).waiting).toEqual({ endpoint: 0, gtag: 3, meta: 3 });

  await page.clock.runFor(5100);
  await expect.poll(() => page.evaluate(() => window.microconv.stats())).toEqual({ dropped: { gtag_missing: 3, fbq_missing: 3 }, waiting: { endpoint: 0, gtag: 0, meta: 0 } });
});

/**
 * The TikTok, LinkedIn and X adapters (contract 5) against each vendor's base code as it ships, in a real
 * page: each call lands where the vendor's snippet queues it, with the `event_id` the collector got.
 * Their adapters are lazy parts of the script tag: `microconv-tiktok.js`, `microconv-linkedin.js` and
 * `microconv-x.js` are fetched because `data-adapters` names them.
 */
import { expect, flush, load, test, track } from './support/test';
import { probe, statusesOf } from './support/vendors';

interface AdPixels {
  ttq: unknown[][];
  lintrk: unknown[][];
  twq: { isArguments: boolean; args: unknown[] }[];
}

/** What each snippet queued: TikTok's array, LinkedIn's `lintrk.q`, X's `twq.queue` (of `arguments` objects). */
const queued = (page: import('@playwright/test').Page): Promise<AdPixels> =>
  page.evaluate(() => {
    const w = window as unknown as { ttq: unknown[][]; lintrk: { q: unknown[][] }; twq: { queue: ArrayLike<unknown>[] } };
    return {
      ttq: Array.from(w.ttq, (call) => Array.from(call)),
      lintrk: w.lintrk.q.map((call) => Array.from(call)),
      twq: Array.from(w.twq.queue, (call) => ({ isArguments: Object.prototype.toString.call(call) === '[object Arguments]', args: Array.from(call) })),
    };
  });

test('TikTok, LinkedIn and X get each event their options map, with the event_id the collector got', async ({ page, collector }) => {
  const parts: string[] = [];
  page.on('request', (request) => void (/microconv-[\w-]+\.js$/.test(request.url()) && parts.push(request.url().split('/').pop()!)));
  await load(page, '/v-ad-pixels.html');
  await page.click('[data-mc-cta="hero_signup"]');
  await page.click('#newsletter button[type="submit"]'); // focus then submit: form_begin, form_complete
  await expect(page.locator('#thanks')).toBeVisible();
  await track(page, 'pricing_viewed', { plan: 'pro', seats: 3 });
  await flush(page);
  const names = ['cta_click', 'form_begin', 'form_complete', 'pricing_viewed'];
  const delivered = await collector.waitForDelivered(names);
  const [cta, begin, complete, pricing] = names.map((name) => delivered.find((event) => event.name === name)!);

  // TikTok: every event, `ttq.track(name, params, { event_id })`, form_complete as the standard SubmitForm.
  await expect.poll(async () => (await queued(page)).ttq.filter((call) => call[0] === 'track').length).toBe(names.length);
  const state = await queued(page);
  expect(state.ttq[0]).toEqual(['page']); // the snippet's own call, untouched
  expect(state.ttq.filter((call) => call[0] === 'track')).toEqual(
    [cta, begin, complete, pricing].map((event) => ['track', event!.name === 'form_complete' ? 'SubmitForm' : event!.name, event!.params, { event_id: event!.event_id }]),
  );

  // LinkedIn: only the mapped events, as conversions, `lintrk('track', { conversion_id, event_id })`.
  await expect.poll(async () => (await queued(page)).lintrk.length).toBe(2);
  expect((await queued(page)).lintrk).toEqual([
    ['track', { conversion_id: 1234567, event_id: cta!.event_id }],
    ['track', { conversion_id: 7654321, event_id: complete!.event_id }],
  ]);

  // X: only the mapped events, `twq('event', id, params)` with the event_id as conversion_id.
  await expect.poll(async () => (await queued(page)).twq.filter((call) => call.args[0] === 'event').length).toBe(2);
  const x = (await queued(page)).twq;
  expect(x[0]!.args).toEqual(['config', 'o1b2c']);
  expect(x.filter((call) => call.args[0] === 'event').map((call) => call.args)).toEqual([
    ['event', 'tw-o1b2c-o3d4e', { ...complete!.params, conversion_id: complete!.event_id }],
    ['event', 'tw-o1b2c-o5f6g', { ...pricing!.params, conversion_id: pricing!.event_id }],
  ]);
  expect(x.every((call) => call.isArguments)).toBe(true);

  // What the options do not map is refused by that adapter alone, counted with its reason.
  const { deliveries } = await probe(page);
  expect(statusesOf(deliveries, begin!.event_id)).toEqual({ endpoint: ['queued', 'sent'], tiktok: ['queued', 'sent'], linkedin: ['queued', 'failed'], x: ['queued', 'failed'] });
  const stats = await page.evaluate(() => window.microconv.stats());
  expect(stats.dropped).toEqual({ linkedin_unmapped: 2, x_unmapped: 2 });
  // Each adapter came in its own file, fetched because the options named it; the others never came.
  expect(parts.sort()).toEqual(expect.arrayContaining(['microconv-linkedin.js', 'microconv-tiktok.js', 'microconv-x.js']));
  expect(parts).not.toContain('microconv-gtag.js');
  expect(parts).not.toContain('microconv-meta.js');
});

test('without consent to the ad purposes, nothing reaches TikTok, LinkedIn or X; the endpoint still gets it', async ({ page, collector }) => {
  await load(page, '/v-ad-pixels.html');
  await page.evaluate(() => window.microconv.consent({ ad_storage: 'denied', ad_user_data: 'granted', ad_personalization: 'granted' }));
  const id = await track(page, 'form_complete', { form_name: 'newsletter' });
  await flush(page);
  await collector.waitForDelivered(['form_complete']);
  await expect.poll(async () => statusesOf((await probe(page)).deliveries, id)).toEqual({ endpoint: ['queued', 'sent'], tiktok: ['dropped'], linkedin: ['dropped'], x: ['dropped'] });
  const state = await queued(page);
  expect(state.ttq.filter((call) => call[0] === 'track')).toEqual([]);
  expect(state.lintrk).toEqual([]);
  expect(state.twq.filter((call) => call.args[0] === 'event')).toEqual([]);
});

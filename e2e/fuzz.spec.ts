// Issue 10, "Then prove it": fuzzing, in Chromium, against the built dist/microconv.js loaded by the
// script tag (the bulk runs in happy-dom: test/fuzz/). The page (fuzz.html) patches the built-ins as
// Prototype.js does, pollutes Object.prototype, has half an emoji in its title, queues calls it got partly
// wrong, and has a form whose fields shadow its properties for real (DOM clobbering). After load, a
// seeded fast-check battery of good and hostile track calls runs through both call styles. Checked: no
// error reaches the page (the pageErrors fixture), every bad call is a console error and a counted
// drop, every good event reaches the collector once, as given, and the trackers work on the clobbered form.
import fc from 'fast-check';
import type { MicroconvEvent } from '../src/types';
import { expect, expectDeliveredOnce, load, settle, test } from './support/test';

/** A hostile value, built in the page from its kind (Playwright cannot carry cycles, nodes or Proxies). */
const HOSTILE = ['cycle', 'node', 'deep', 'getter', 'proxy', 'revoked', 'bigint', 'function', 'symbol', 'nan', 'huge', 'proto', 'class', 'badKey'] as const;
type Call = { name: string; params: { kind: 'good'; value: Record<string, unknown> } | { kind: (typeof HOSTILE)[number] } | { kind: 'lone' }; method: boolean };

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
const text = fc.string({ unit: fc.constantFrom('a', 'é', '\u{1f600}', '\u200f', '\u202e', '\u200b', '\ufeff', '\ufffe', '"', '<', '\\', ' '), maxLength: 12 });
const json = fc.dictionary(word.filter((key) => key !== '__proto__'), fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 })), { maxKeys: 4 });
const calls = fc.sample(
  fc.record({
    name: fc.oneof({ weight: 4, arbitrary: word.map((name) => 'fz_' + name) }, fc.constantFrom('', 'Bad Name', 'x'.repeat(41), 'caf\u00e9')),
    params: fc.oneof(
      { weight: 4, arbitrary: json.map((value) => ({ kind: 'good' as const, value })) },
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE).map((kind) => ({ kind })) },
      fc.constant({ kind: 'lone' as const }),
    ),
    method: fc.boolean(),
  }),
  { seed: 1011, numRuns: 40 },
) as Call[];
const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const accepted = (call: Call) => NAME.test(call.name) && (call.params.kind === 'good' || call.params.kind === 'lone');

test('hostile page, queue and calls in Chromium: nothing thrown, every refusal counted, every good event delivered once', async ({ page, collector }) => {
  const errors: string[] = [];
  // The browser's own line for a missing favicon is no script's.
  page.on('console', (message) => void (message.type() === 'error' && !message.text().startsWith('Failed to load resource') && errors.push(message.text())));
  await load(page, '/fuzz.html');

  // The queue: two good events; a cycle and on('constructor') counted; the rest console errors.
  const outcomes = await page.evaluate((battery) => {
    const build = (kind: string): unknown => {
      const revocable = Proxy.revocable({}, {});
      revocable.revoke();
      let deep: unknown = 'bottom';
      for (let level = 0; level < 5000; level++) deep = { deeper: deep };
      const loop: Record<string, unknown> = { label: 'loop' };
      loop.self = loop;
      const kinds: Record<string, () => unknown> = {
        cycle: () => ({ data: loop }),
        node: () => ({ target: document.body }),
        deep: () => ({ deep }),
        getter: () => Object.defineProperty({}, 'total', { get: () => { throw Object.create(null); }, enumerable: true }),
        proxy: () => ({ cart: new Proxy({}, { ownKeys: () => { throw new Error('trap'); } }) }),
        revoked: () => ({ cart: revocable.proxy }),
        bigint: () => ({ amount: BigInt(10) }),
        function: () => ({ callback: () => 1 }),
        symbol: () => ({ id: Symbol('id') }),
        nan: () => ({ value: NaN }),
        huge: () => ({ text: 'x'.repeat(50_000) }),
        proto: () => JSON.parse('{"item": {"__proto__": {"admin": true}}}'),
        class: () => ({ when: new (class Moment { at = 1 })() }),
        badKey: () => ({ ['a\ud83d']: 1 }),
        lone: () => ({ text: 'caf\u00e9 \ud83d', list: ['\udc00x'] }),
      };
      return kinds[kind]!();
    };
    return battery.map(({ name, params, method }) => {
      const value = params.kind === 'good' ? params.value : build(params.kind);
      try {
        return method ? window.microconv.track(name, value) : window.microconv('track', name, value);
      } catch (error) {
        return 'threw ' + String(error);
      }
    });
  }, calls);

  const good = calls.filter(accepted);
  expect(outcomes.filter((outcome) => String(outcome).startsWith('threw')), 'nothing thrown to the page').toEqual([]);
  expect(outcomes.map((outcome, i) => (accepted(calls[i]!) ? /^[0-9a-f-]{36}$/.test(String(outcome)) : outcome === '')), 'good calls return an id, bad ones an empty string').toEqual(calls.map(() => true));

  // The trackers on the clobbered form, an ignored CTA, a CTA removed before its click.
  // force: Playwright's own checks before a click walk the form's parentNode, which a field shadows here.
  await page.click('#form-cta', { force: true });
  await page.click('#ignored');
  await page.evaluate(() => {
    const removed = document.getElementById('removed')!;
    removed.remove();
    removed.click();
  });
  await page.click('#email', { force: true });
  await page.evaluate(() => HTMLFormElement.prototype.requestSubmit.call(document.getElementById('signup-form')));

  await collector.waitForDelivered(['queued_ok', 'queued_after', 'cta_click', 'form_begin', 'form_complete', ...good.map((call) => call.name)]);
  await settle(page, collector);

  const delivered = collector.delivered();
  const named = (name: string) => delivered.filter((event) => event.name === name);
  // Every good event once, as given (Prototype's toJSON turned no array into a string; half an emoji is U+FFFD).
  expectDeliveredOnce(collector, outcomes.filter((_, i) => accepted(calls[i]!)) as string[]);
  for (const [i, call] of calls.entries()) {
    if (!accepted(call)) continue;
    const event = delivered.find((sent) => sent.event_id === outcomes[i])!;
    expect(event.params, call.name).toEqual(call.params.kind === 'good' ? call.params.value : { text: 'caf\u00e9 \ufffd', list: ['\ufffdx'] });
  }
  expect(named('queued_ok')[0]!.params).toEqual({ list: ['a', 'b'], text: 'caf\u00e9 \ufffd' });
  expect(delivered.map((event) => event.page.title), 'the title is well-formed on the wire').toContain('Sale \ufffd');
  for (const event of delivered) expect(Object.keys(event.params), `${event.name}: own keys only`).not.toContain('polluted');
  expect(named('cta_click').map((event) => event.params.cta_name), 'the CTA in the clobbered form counts; the ignored and the removed do not').toEqual(['form_cta']);
  const formEvent = (event: MicroconvEvent) => [event.name, event.params.form_name, event.params.form_id];
  expect([...named('form_begin'), ...named('form_complete')].map(formEvent), 'the clobbered form begins and completes, with its own name and id').toEqual([
    ['form_begin', 'signup', 'signup-form'],
    ['form_complete', 'signup', 'signup-form'],
  ]);

  // Counted: the cycle and on('constructor') of the queue, and every bad call of the battery.
  const refused = 2 + calls.length - good.length;
  expect((await page.evaluate(() => window.microconv.stats())).dropped).toEqual({ invalid: refused });
  // The script tag says a refusal met before microconv-errors.js came in two steps: a short error now,
  // and the full message once the words are here. Each refusal gets its full message once.
  const short = (error: string) => / cannot be used; the details follow in the console$/.test(error);
  await expect.poll(() => errors.filter((error) => !short(error)).length, 'each refusal is a console error; so are the queue entries that are no calls').toBe(refused + 5);
  const ours = errors.filter((error) => error.startsWith('[microconv] '));
  expect(ours.filter(short).length, 'a short error for a refusal, none for anything else').toBeLessThanOrEqual(refused);
  expect(ours.filter(short).length, 'the queue’s refusal, before the words came, in two steps').toBeGreaterThan(0);
  expect(errors, 'every console error is microconv’s').toEqual(ours);
});

/**
 * Fuzzing the options of `init`: every option with good values and with wrong types, hostile nested
 * values (tracker and adapter options), malformed URLs for `endpoint` and `debugSrc`, unknown keys
 * (`constructor`, an own `__proto__`...), getters that throw and Proxies. Checked: the npm API throws only
 * a `microconv:` TypeError, and only when an option is bad, naming it; with `errors: 'log'` (the script
 * tag) nothing is thrown, each bad option is one console error naming it and one counted drop, the good
 * ones still apply, and the instance works: a normal event goes; no unhandled rejection. (The script
 * tag's own build says each error in two steps, a short one and then this full one: test/fuzz/errors.test.ts
 * holds it to the same decisions.)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { init } from '../../src';
import type { Instance } from '../../src/types';
import { define, described, fuzz, oddWellFormedText, poison, recorder, thrown, throwingGetter, turn, watchRejections, timeout } from './hostile';

/** One option: its key, how to make its value (fresh each run), and whether microconv must take it. */
type Entry = { key: string; make(): unknown; good: boolean; what: string };

const make = (good: boolean, key: string, values: [string, () => unknown][]) => fc.constantFrom(...values).map(([what, value]): Entry => ({ key, make: value, good, what: `${key}: ${what}` }));
const goods = (key: string, ...values: [string, () => unknown][]) => make(true, key, values);
const bads = (key: string, ...values: [string, () => unknown][]) => make(false, key, values);
/** Any option given a value of no use to it: a function, a node, a Proxy, a getter that throws inside. */
const hostile = (key: string) =>
  fc.oneof(
    poison.filter(([what]) => !/characters/.test(what)).map(([what, value]): Entry => ({ key, make: value, good: false, what: `${key}: ${what}` })),
    thrown.map(([what, value]): Entry => ({ key, make: () => throwingGetter('size', value), good: false, what: `${key}: an object whose getter throws ${what}` })),
  );
const url = (text: string): [string, () => string] => [JSON.stringify(text), () => text];
const MALFORMED = ['javascript:alert(1)', 'data:text/javascript,alert(1)', 'http://[', 'http://', 'https://exa mple.com', 'ftp://files.example/x', 'mailto:jane@example.com', ''].map(url);

const options = {
  endpoint: [goods('endpoint', ...['/collect', 'https://collector.example/collect', '//collector.example/c', ' /collect '].map(url)), bads('endpoint', ...MALFORMED), hostile('endpoint')],
  trackers: [
    goods(
      'trackers',
      ['all off', () => ({ cta: false, downloads: false, sections: false, scroll: false, forms: false, video: false, spa: false, vitals: false })],
      ['their options', () => ({ cta: { outbound: true, contact: false }, downloads: { extensions: ['pdf', 'epub'] }, sections: { threshold: 0.25, dwellMs: 10 }, scroll: { marks: [10, 100] }, video: { marks: [5, 95] }, spa: { query: true }, forms: {} })],
      ['empty', () => ({})],
    ),
    bads(
      'trackers',
      ['an unknown tracker', () => ({ clicks: false })],
      ['true', () => ({ cta: true })],
      ['null', () => ({ scroll: null })],
      ['marks that are text', () => ({ scroll: { marks: 'abc' } })],
      ['marks of NaN', () => ({ video: { marks: [NaN] } })],
      ['a mark past 100', () => ({ scroll: { marks: [150] } })],
      ['marks null', () => ({ video: { marks: null } })],
      ['a threshold of 5', () => ({ sections: { threshold: 5 } })],
      ['a threshold in words', () => ({ sections: { threshold: 'half' } })],
      ['a negative dwell', () => ({ sections: { dwellMs: -1 } })],
      ['extensions as text', () => ({ downloads: { extensions: 'pdf' } })],
      ['an extension that is a pattern', () => ({ downloads: { extensions: ['(', '.*'] } })],
      ['outbound in words', () => ({ cta: { outbound: 'yes' } })],
      ['query as a number', () => ({ spa: { query: 1 } })],
      ['an unknown tracker option', () => ({ scroll: { markz: [10] } })],
      ['a tracker option whose getter throws', () => ({ scroll: throwingGetter('marks', () => new Error('no')) })],
      ['own __proto__', () => define({}, '__proto__', { cta: false })],
    ),
    hostile('trackers'),
  ],
  batch: [
    goods('batch', ['size 1', () => ({ size: 1 })], ['size 1000', () => ({ size: 1000 })], ['intervalMs 0', () => ({ intervalMs: 0 })], ['empty', () => ({})]),
    bads('batch', ...[0, -1, 1.5, NaN, '10', 1001, Infinity].map((size): [string, () => unknown] => [`size ${String(size)}`, () => ({ size })]), ['intervalMs -1', () => ({ intervalMs: -1 })], ['intervalMs Infinity', () => ({ intervalMs: Infinity })], ['intervalMs "5"', () => ({ intervalMs: '5' })], ['an unknown key', () => ({ sise: 10 })]),
    hostile('batch'),
  ],
  consent: [
    goods('consent', ['granted', () => 'granted'], ['denied', () => 'denied'], ['pending', () => 'pending'], ['ad_storage denied', () => ({ ad_storage: 'denied' })], ['empty', () => ({})]),
    bads('consent', ['yes', () => 'yes'], ['an unknown purpose', () => ({ analytics: 'granted' })], ['maybe', () => ({ ad_storage: 'maybe' })], ['an array', () => ['granted']]),
    hostile('consent'),
  ],
  plan: [
    goods('plan', ['macro', () => ({ macro: ['purchase'] })], ['stages', () => ({ macro: ['purchase'], stages: { engagement: ['cta_click'], intent: ['form_begin'] } })], ['empty', () => ({})]),
    bads('plan', ['macro as text', () => ({ macro: 'purchase' })], ['a bad name', () => ({ macro: ['Bad Name'] })], ['a stage as text', () => ({ stages: { engagement: 'cta_click' } })], ['stages as a number', () => ({ stages: 5 })], ['an unknown stage', () => ({ stages: { awareness: ['cta_click'] } })], ['a misspelt key', () => ({ macros: ['purchase'] })]),
    hostile('plan'),
  ],
  debug: [goods('debug', ['false', () => false]), bads('debug', ['"yes"', () => 'yes'], ['1', () => 1]), hostile('debug')],
  debugSrc: [goods('debugSrc', ...['https://cdn.example/mc/microconv-debug.js', '/microconv-debug.js'].map(url)), bads('debugSrc', ...MALFORMED), hostile('debugSrc')],
  gtag: [
    goods('gtag', ['send_to', () => ({ send_to: 'G-TEST' })], ['names', () => ({ names: { cta_click: 'select_promotion' } })], ['waitMs', () => ({ waitMs: 100 })]),
    bads('gtag', ['waitMs in words', () => ({ waitMs: 'soon' })], ['a negative waitMs', () => ({ waitMs: -1 })], ['names as a number', () => ({ names: 5 })], ['a name that is a number', () => ({ names: { cta_click: 5 } })], ['send_to as a number', () => ({ send_to: 5 })], ['a misspelt key', () => ({ sendTo: 'G-TEST' })]),
    hostile('gtag'),
  ],
  meta: [
    goods('meta', ['standard', () => ({ events: 'standard' })], ['a mapping', () => ({ events: { purchase: 'Purchase', cta_click: () => 'Contact' } })], ['waitMs', () => ({ waitMs: 0 })]),
    bads('meta', ['a misspelt standard', () => ({ events: 'standrd' })], ['a mapping to a number', () => ({ events: { purchase: 5 } })], ['waitMs in words', () => ({ waitMs: 'x' })]),
    hostile('meta'),
  ],
  datalayer: [goods('datalayer', ['dataLayer', () => ({ name: 'dataLayer' })], ['another name', () => ({ name: 'fuzzLayer' })]), bads('datalayer', ['a number', () => ({ name: 5 })], ['empty', () => ({ name: '' })], ['a misspelt key', () => ({ nam: 'x' })]), hostile('datalayer')],
};

const unknownKey = fc.oneof(fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'endpont', 'adapter', 'tracker', 'Debug', '__proto__'), oddWellFormedText.filter((text) => text.length > 0));
const entry: fc.Arbitrary<Entry> = fc.oneof(
  ...Object.values(options).flat(),
  unknownKey.map((key): Entry => ({ key, make: () => 1, good: false, what: `unknown ${JSON.stringify(key)}` })),
  // Any option, given through a getter that throws.
  fc.tuple(fc.constantFrom(...Object.keys(options)), thrown).map(([key, [what, value]]): Entry => ({ key, make: () => GETTER(value), good: false, what: `${key}: a getter that throws ${what}` })),
);
/** Marks an option to be given through a getter that throws what `value` makes (a WeakSet: no trap of a Proxy runs). */
const GETTER = (value: () => unknown) => {
  const mark = { value };
  getters.add(mark);
  return mark;
};
const getters = new WeakSet<object>();

/** The adapters: always the recorder, with good ones, or one bad one beside it, or no array at all. */
const adapters = fc.oneof(
  fc.subarray(['datalayer', 'gtag', 'meta', 'extra']).map((names): Entry => ({ key: 'adapters', good: true, what: `adapters: rec ${names}`, make: () => names.map((name) => (name === 'extra' ? { name: 'extra', send() {}, consent: ['ad_storage'] } : name)) })),
  fc
    .constantFrom<[string, () => unknown]>(
      ['a misspelt name', () => 'gtga'],
      ['a name that is a number', () => ({ name: 1, send() {} })],
      ['no send', () => ({ name: 'x' })],
      ['a bad purpose', () => ({ name: 'y', send() {}, consent: ['bogus'] })],
      ['the recorder twice', () => ({ name: 'rec', send() {} })],
      ['null', () => null],
      ['a Proxy that throws', () => new Proxy({}, { get: () => { throw new Error('trap'); } })],
      ['a name getter that throws', () => throwingGetter('name', () => new Error('no name'))],
    )
    .map(([what, value]): Entry => ({ key: 'adapters', good: false, what: `adapters: rec and ${what}`, make: () => [value()] })),
  hostile('adapters'),
);

/** Entries under unique keys, the adapters among them, as an options object (own data properties). */
const optionsArbitrary = fc.tuple(fc.uniqueArray(entry, { selector: (item) => item.key, maxLength: 6 }), adapters).map(([entries, adapter]) => {
  const all = [...entries.filter((item) => item.key !== 'adapters'), adapter].map(described);
  return described({ entries: all, what: all.map((item) => item.what).join('; ') });
});

const build = (entries: Entry[], rec: unknown, errors?: 'log') => {
  const built: Record<string, unknown> = {};
  for (const { key, make } of entries) {
    const value = make() as { value: () => unknown };
    if (getters.has(value)) Object.defineProperty(built, key, { get: () => { throw value.value(); }, enumerable: true, configurable: true });
    else define(built, key, key === 'adapters' && !revoked(value) && Array.isArray(value) ? [rec, ...value] : value);
  }
  if (errors) built.errors = errors;
  return built;
};

/** What a console error about an option says: its key (an adapter's problem names the adapter). */
const names = (message: string, { key }: Entry) => (key === 'adapters' ? /adapter/.test(message) : message.includes(key === '' ? 'unknown option' : `${key}`));

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => (rejections = watchRejections()));
afterAll(() => rejections.stop());
let errors: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.stubGlobal('fetch', async () => new Response(null, { status: 204 }));
  Object.assign(window, { gtag: () => {}, fbq: () => {} });
});

it('the options of init: good ones apply, each bad one is one clear error, nothing else escapes, and the instance works', async () => {
  await fc.assert(
    fc.asyncProperty(optionsArbitrary, fc.boolean(), async ({ entries }, npm) => {
      localStorage.clear();
      errors.mockClear();
      const rec = recorder();
      const bad = entries.filter((item) => !item.good);
      let instance: Instance<any> | undefined;
      try {
        try {
          instance = init(build(entries, rec, npm ? undefined : 'log') as never);
        } catch (error) {
          expect(npm, `the script-tag path threw ${String(error)}`).toBe(true);
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/^microconv: /);
          expect(bad.length, `no bad option, yet init threw ${(error as Error).message}`).toBeGreaterThan(0);
          expect(bad.some((item) => names((error as Error).message, item)), `the error names a bad option: ${(error as Error).message}`).toBe(true);
          return;
        }
        const messages = errors.mock.calls.map((args: unknown[]) => String(args[0]));
        expect(npm ? bad : [], `init took bad options: ${bad.map((item) => item.what)}`).toEqual([]);
        if (!npm) {
          for (const item of bad) expect(messages.some((message: string) => names(message, item)), `an error names ${item.what}: ${messages}`).toBe(true);
          expect(instance.stats().dropped.invalid || 0, 'each error a counted drop').toBe(messages.length);
          expect(messages.length, 'one error per bad option, no more').toBeLessThanOrEqual(bad.length + 1);
        }
        // The instance works: a normal event goes to the recorder, where the adapters option held it.
        const id = instance.track('after_options', { ok: 1 });
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        await instance.flush();
        if (entries.some((item) => item.key === 'adapters' && (item.good || item.what.startsWith('adapters: rec and')))) expect(rec.received.map((event) => event.event_id)).toContain(id);
        await turn();
        expect(rejections.rejections).toEqual([]);
      } finally {
        await instance?.destroy();
      }
    }),
    fuzz(150),
  );
}, timeout(30));

/** A revoked Proxy throws at Array.isArray: the harness must not trip over what it gives microconv. */
function revoked(value: unknown): boolean {
  try {
    Array.isArray(value);
    return false;
  } catch {
    return true;
  }
}

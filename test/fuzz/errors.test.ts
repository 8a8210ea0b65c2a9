/**
 * The script tag words its refusals in two steps (issue 11): at once a short message naming what was
 * refused, and the full message once `microconv-errors.js` has come; the npm builds bundle the words and
 * say it all at once. The checks are the same code on both paths; this property holds the two paths to
 * the same decisions: the same options and calls refused, counted and left out, and, once the words are
 * here, the very same full messages in the same order. The script-tag path is the core with
 * explain-later.ts in place of explain.ts, as the build makes it, and the words brought as the part's
 * file brings them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { word } from '../../src/core/errors';
import { init as npmInit } from '../../src/core/instance';
import * as builtIns from '../../src/parts';
import type { Instance, Part } from '../../src/types';
import { badName, badParams, described, fuzz, goodName, goodParams, notAnObject, poison, thrown, throwingGetter, timeout, turn, watchRejections } from './hostile';

type Init = typeof npmInit;
const parts = Object.values(builtIns) as Part[];
const SHORT = / cannot be used; the details follow in the console$/;

/** The core as the script tag's build makes it, fresh: no words yet. */
async function scriptTagInit(): Promise<Init> {
  vi.resetModules();
  vi.doMock('../../src/core/explain', () => import('../../src/core/explain-later'));
  try {
    return (await import('../../src/core/instance')).init;
  } finally {
    vi.doUnmock('../../src/core/explain');
  }
}

/** A value for an option: a good one, one of the wrong kind, or one that cannot be read. */
const GOOD: Record<string, unknown[]> = {
  endpoint: ['/collect', 'https://collector.example/c'],
  batch: [{ size: 5 }, {}],
  trackers: [{ scroll: false }, { scroll: { marks: [50] } }],
  consent: ['denied', 'gtag', { ad_storage: 'denied' }],
  plan: [{ macro: ['purchase'] }],
  debug: [false],
  urlParams: [['ref']],
  gtag: [{ waitMs: 10 }],
  meta: [{ events: 'standard' }],
  adapters: [['datalayer'], [{ name: 'own', send() {} }]],
};
const BAD: Record<string, unknown[]> = {
  endpoint: ['javascript:alert(1)', ''],
  batch: [{ size: 0 }, { sise: 1 }, 'often'],
  trackers: [{ clicks: false }, { scroll: { markz: [1] } }, { scroll: { marks: 'abc' } }, { cta: true }],
  consent: ['yes', { analytics: 'granted' }],
  plan: [{ macros: [] }],
  debug: ['yes'],
  urlParams: ['ref'],
  gtag: [{ sendTo: 'G-1' }, 5],
  meta: [{ events: 'standrd' }],
  adapters: [['gtga'], [{ name: 1, send() {} }], [null], 'gtag', [{ name: 'dup', send() {} }, { name: 'dup', send() {} }]],
};
const KEYS = [...Object.keys(GOOD), 'debugSrc', 'errors', 'parts', 'constructor', 'endpont', '__proto__'];
const option = fc.constantFrom(...KEYS).chain((key) =>
  fc
    .oneof(
      fc.constantFrom(...(Object.hasOwn(GOOD, key) ? GOOD[key]! : [1])).map((value) => ({ what: `${key}: good`, make: () => value })),
      fc.constantFrom(...(Object.hasOwn(BAD, key) ? BAD[key]! : ['bad'])).map((value) => ({ what: `${key}: bad`, make: () => value })),
      poison.map(([what, make]) => ({ what: `${key}: ${what}`, make })),
      thrown.map(([what, make]) => ({ what: `${key}: an object whose getter throws ${what}`, make: () => throwingGetter('size', make) })),
    )
    .map((value) => ({ key, ...value })),
);
const options = fc.uniqueArray(option, { selector: (item) => item.key, maxLength: 5 }).map((entries) =>
  described({
    entries,
    what: entries.map((entry) => entry.what).join('; '),
    make: () => Object.fromEntries(entries.map(({ key, make }) => [key, make()])),
  }),
);
const calls = fc.array(
  fc.oneof(
    fc.tuple(goodName, goodParams).map(([name, params]) => ({ what: `${name} with ${params.what}`, name: () => name, params: params.make })),
    fc.tuple(badName, goodParams).map(([name, params]) => ({ what: `a bad name, ${name.what}`, name: name.make, params: params.make })),
    fc.tuple(goodName, fc.oneof(badParams, notAnObject)).map(([name, params]) => ({ what: `${name} with ${params.what}`, name: () => name, params: params.make })),
  ),
  { maxLength: 4 },
);

/** What a path said, in order: each message it threw or logged, its `[microconv] ` or `microconv: ` cut. */
let said: string[] = [];

/** What one path makes of the options and the calls: what it said, what each call returned, what it counted. */
function run(init: Init, { make }: { make(): Record<string, unknown> }, made: { name(): unknown; params(): unknown }[], log: boolean) {
  said = [];
  const threw = (error: unknown) => {
    expect(error).toBeInstanceOf(TypeError);
    said.push('threw ' + (error as Error).message.replace(/^microconv: /, ''));
    return 'threw';
  };
  let instance: Instance<any> | undefined;
  try {
    instance = init({ ...make(), ...(log ? { errors: 'log' } : {}) } as never, parts);
  } catch (error) {
    threw(error);
  }
  const returned = made.map((call) => {
    try {
      return instance?.track(call.name() as string, call.params() as never) ? 'id' : '';
    } catch (error) {
      return threw(error);
    }
  });
  return { instance, said: said.splice(0), returned, dropped: instance?.stats().dropped };
}

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => {
  rejections = watchRejections();
  // The words, as microconv-errors.js brings them: the loader finds them there.
  (window as { microconvParts?: object }).microconvParts = { errors: word };
});
afterAll(() => {
  rejections.stop();
  delete (window as { microconvParts?: object }).microconvParts;
});
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation((message) => void said.push('logged ' + String(message).replace(/^\[microconv\] /, '')));
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.stubGlobal('fetch', async () => new Response(null, { status: 204 }));
});

it('the script tag refuses exactly what the npm build refuses, and in the end says the same', async () => {
  await fc.assert(
    fc.asyncProperty(options, calls, fc.boolean(), async (given, made, log) => {
      localStorage.clear();
      const npm = run(npmInit, given, made, log);
      const tag = run(await scriptTagInit(), given, made, log);
      try {
        // The decisions: the same refusals thrown or logged, the same calls refused, the same drops counted.
        expect(tag.returned).toEqual(npm.returned);
        expect(tag.dropped).toEqual(npm.dropped);
        const how = (message: string) => message.split(' ')[0];
        expect(tag.said.map(how)).toEqual(npm.said.map(how));
        // At once: a short message naming what was refused, where the npm build says it all; a message
        // the core words itself (an event too large) is the same on both paths.
        const text = (message: string) => message.replace(/^(threw|logged) /, '');
        const owed = npm.said.map(text).filter((full, i) => text(tag.said[i]!) !== full);
        for (const [i, message] of tag.said.map(text).entries()) {
          if (message === text(npm.said[i]!)) continue;
          expect(message, 'a short message').toMatch(SHORT);
          for (const part of message.replace(SHORT, '').split(' ')) expect(text(npm.said[i]!), `"${message}" names what the full message says`).toContain(part);
        }
        // Then, once the words are here: the npm build's full messages, in the same order, in the console.
        await vi.waitFor(() => expect(said.length).toBe(owed.length));
        expect(said.map(text)).toEqual(owed);
      } finally {
        await npm.instance?.destroy();
        await tag.instance?.destroy();
      }
      await turn();
      expect(rejections.rejections).toEqual([]);
    }),
    fuzz(60),
  );
}, timeout(60));

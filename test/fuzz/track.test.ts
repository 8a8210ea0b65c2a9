/**
 * Fuzzing `track(name, params)` (issue 10, "Then prove it": fuzzing). Each run makes an instance with
 * four adapters (a recorder, GTM's dataLayer, gtag and the Meta Pixel, the last two stubbed), tracks a
 * random mix of good and hostile calls, through the npm API or as the script tag does (`errors: 'log'`),
 * and checks: no exception but a `microconv:` TypeError reaches the caller (none from the script tag);
 * what must be refused is refused, with a message that names the problem, and what must be taken is
 * taken and handed on as JSON would carry it; every refusal is counted (`invalid`) or thrown; every
 * event settles at every adapter, drops counted with a reason; a normal event still goes afterwards; no
 * unhandled rejection.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { init } from '../../src';
import { badName, described, badParams, call, expectNothingLostSilently, fuzz, goodName, goodParams, isWellFormed, notAnObject, quiet, recorder, turn, watch, watchRejections, timeout } from './hostile';

type Globals = { dataLayer?: Record<string, unknown>[]; gtag?: unknown; fbq?: unknown };
const page = window as unknown as Globals;

/** A call of track(): how to make its arguments, and what must become of it. */
type TrackCall = { name(): unknown; params(): unknown; expected?: unknown; refusal?: RegExp; what: string };

const named = (name: string) => () => name;
/** What a refusal of each kind of bad params must say: a cycle is called one, and nothing else is. */
const refusalOf = (what: string) =>
  what.startsWith('a cycle')
    ? /circular/
    : /nesting/.test(what)
      ? /nested deeper than/
      : /characters/.test(what)
        ? /bytes, over the/
        : /^(?!.*circular)(?=.*(cannot be sent|cannot be read|not valid Unicode|__proto__))/s;

const trackCall: fc.Arbitrary<TrackCall> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(goodName, goodParams).map(([name, params]) => ({ name: named(name), params: params.make, expected: params.expected, what: `${name} with good params` })) },
  { weight: 1, arbitrary: goodName.map((name) => ({ name: named(name), params: () => undefined, expected: {}, what: `${name} without params` })) },
  { weight: 3, arbitrary: fc.tuple(goodName, badParams).map(([name, params]) => ({ name: named(name), params: params.make, what: params.what, refusal: refusalOf(params.what) })) },
  {
    weight: 1,
    arbitrary: fc.tuple(goodName, notAnObject).map(([name, params]) => ({ name: named(name), params: params.make, what: `params that are ${params.what}`, refusal: /^(?!.*circular).*(params must be a plain object|bytes, over the|params cannot be read|cannot be sent|not valid Unicode|nested deeper)/s })),
  },
  { weight: 2, arbitrary: fc.tuple(badName, goodParams).map(([name, params]) => ({ name: name.make, params: params.make, what: `a name that is ${name.what}`, refusal: /invalid event name/ })) },
).map(described);

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => (rejections = watchRejections()));
afterAll(() => rejections.stop());
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

it('takes what JSON carries, refuses the rest with a clear error, throws nothing else, and loses nothing silently', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(trackCall, { minLength: 1, maxLength: 8 }), fc.boolean(), async (calls, npm) => {
      localStorage.clear();
      const gtagCalls: unknown[][] = [];
      const fbqCalls: unknown[][] = [];
      page.dataLayer = [];
      page.gtag = (...args: unknown[]) => void gtagCalls.push(args);
      page.fbq = (...args: unknown[]) => void fbqCalls.push(args);
      const rec = recorder();
      const instance = init({ ...quiet, adapters: [rec, 'datalayer', 'gtag', 'meta'], ...(npm ? {} : { errors: 'log' }) });
      const ledger = watch(instance);
      let refusals = 0;
      try {
        for (const { name: makeName, params: makeParams, expected, refusal, what } of calls) {
          const name = makeName();
          const params = makeParams();
          const errorsBefore = ledger.logs.filter((entry) => entry.level === 'error').length;
          const thrownBefore = ledger.thrown.length;
          const id = call(ledger, () => instance.track(name as string, params as never), npm);
          const message = npm ? ledger.thrown[thrownBefore]?.message : ledger.logs.filter((entry) => entry.level === 'error')[errorsBefore]?.message;
          if (refusal) {
            refusals++;
            expect(id || undefined, `${what} is refused`).toBeUndefined();
            expect(message, `the refusal of ${what} says why`).toMatch(refusal);
            if (npm) expect(ledger.thrown).toHaveLength(thrownBefore + 1);
            continue;
          }
          expect(ledger.thrown.length, `${what} is taken (${message})`).toBe(thrownBefore);
          expect(id).toMatch(/^[0-9a-f-]{36}$/);
          const event = ledger.emitted.find((emitted) => emitted.event_id === id)!;
          expect(event.params, `${what} is handed on as JSON carries it`).toEqual(expected);
        }
        // After all that, a normal event still goes.
        const after = call(ledger, () => instance.track('after_hostile', { ok: 1 }), npm);
        await instance.flush();
        await turn();
        expect(rec.received.map((event) => event.event_id)).toContain(after);
        expect(JSON.stringify(rec.received.map((event) => event.params)), 'every string handed on is well-formed Unicode').toSatisfy(isWellFormed);
        expect(gtagCalls.every(([, name]) => typeof name === 'string') && fbqCalls.every(([, name]) => typeof name === 'string'), 'vendors get event names').toBe(true);
        expectNothingLostSilently(
          ledger,
          [
            { name: 'rec', handed: () => rec.received.map((event) => event.event_id) },
            { name: 'datalayer', handed: () => page.dataLayer!.map((entry) => entry.event_id as string) },
            { name: 'gtag', handed: () => gtagCalls.map(([, , params]) => (params as { event_id: string }).event_id) },
            { name: 'meta', handed: () => fbqCalls.map(([, , , options]) => (options as { eventID: string }).eventID) },
          ],
          npm ? 0 : refusals,
        );
        expect(rejections.rejections, 'unhandled rejections').toEqual([]);
      } finally {
        await instance.destroy();
      }
    }),
    fuzz(120),
  );
}, timeout(60));

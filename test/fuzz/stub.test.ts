/**
 * Fuzzing the script-tag way in (contract 1.2): the stub's queue (`window.microconv.q`) with arbitrary
 * calls (unknown methods, wrong arities, hostile arguments, entries that are not calls, options that
 * cannot be read), a queue that is not an array or throws when read, hostile `data-*` attributes, then
 * the same kind of calls after load through `microconv(…)` and `microconv.method(…)`. Checked: nothing
 * throws into the page; every console line is microconv's; every bad track, consent or on() is a
 * counted drop; every event emitted is delivered; a normal event still goes; no unhandled rejection.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { bootScriptTag } from '../../src/core/bootstrap';
import * as builtIns from '../../src/parts';
import type { Part } from '../../src/types';

/** Every built-in part, as the script tag registers them. */
const PARTS = Object.values(builtIns) as Part[];
import type { MicroconvEvent } from '../../src/types';
import { badName, badParams, described, fuzz, goodName, goodParams, oddText, recorder, throwingGetter, timeout, turn, watchRejections } from './hostile';

type Api = ((...call: unknown[]) => unknown) & Record<string, any>;
const page = window as unknown as { microconv?: Api };

/** A call: how to make its arguments (fresh each run), and what it must cost. */
type Call = { what: string; make(): unknown; invalid?: number };

const args = (...list: unknown[]) => list;
/** What the standard stub queues: its `arguments` object. */
function asArgumentsObject(list: unknown[]): IArguments {
  return (function (..._: unknown[]) {
    // eslint-disable-next-line prefer-rest-params
    return arguments;
  })(...list);
}
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(goodName, goodParams).map(([name, params]): Call => ({ what: `track ${name}`, make: () => args('track', name, params.make()) })),
  fc.tuple(goodName, badParams).map(([name, params]): Call => ({ what: `track ${name} with ${params.what}`, make: () => args('track', name, params.make()), invalid: 1 })),
  badName.map((name): Call => ({ what: `track a name that is ${name.what}`, make: () => args('track', name.make()), invalid: 1 })),
  fc.constantFrom<Call>(
    { what: 'track without a name', make: () => args('track'), invalid: 1 },
    { what: 'consent granted', make: () => args('consent', 'granted') },
    { what: 'consent maybe', make: () => args('consent', 'maybe'), invalid: 1 },
    { what: 'consent without an update', make: () => args('consent'), invalid: 1 },
    { what: 'consent a Proxy', make: () => args('consent', new Proxy({}, { ownKeys: () => { throw new Error('trap'); } })), invalid: 1 },
    { what: 'on constructor', make: () => args('on', 'constructor', () => {}), invalid: 1 },
    { what: 'on event without a listener', make: () => args('on', 'event'), invalid: 1 },
    { what: 'flush', make: () => args('flush') },
    { what: 'stats', make: () => args('stats') },
    { what: 'debug off', make: () => args('debug', false) },
    { what: 'init with three arguments', make: () => args('init', { batch: { size: 1000 } }, 'extra', 42) },
    { what: 'init with unreadable options', make: () => args('init', new Proxy({}, { ownKeys: () => { throw new Error('trap'); } })) },
    { what: 'init with a getter that throws', make: () => args('init', throwingGetter('plan', () => new Error('no plan'))) },
    { what: 'init with a string', make: () => args('init', 'endpoint') },
  ),
  fc.oneof(oddText, fc.constantFrom('constructor', '__proto__', 'toString', 'q', 'loaded', 'hasOwnProperty')).map((method): Call => ({ what: `unknown method ${JSON.stringify(method)}`, make: () => args(method, 'x') })),
  fc.constantFrom<[string, () => unknown]>(['a symbol', () => Symbol('m')], ['null', () => null], ['a number', () => 42], ['an object', () => ({})], ['a Proxy', () => new Proxy({}, { get: () => { throw new Error('trap'); } })]).map(([what, method]): Call => ({ what: `a method that is ${what}`, make: () => args(method()) })),
).map(described);

/** An entry of the queue: a call, as the stub's `arguments` or an array, or something that is no call. */
const entry = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(call, fc.boolean()).map(([item, asArguments]) => ({ ...item, entry: () => (asArguments ? asArgumentsObject(item.make() as unknown[]) : item.make()) })) },
  fc.constantFrom<[string, () => unknown]>(['null', () => null], ['a number', () => 5], ['a string', () => 'track'], ['undefined', () => undefined]).map(([what, make]) => ({ what: `an entry that is ${what}`, make, entry: make })),
);

/** The queue as the page left it: normally an array; sometimes not, or unreadable. */
const queueKind = fc.constantFrom('array', 'array', 'array', 'string', 'object', 'a getter that throws', 'an index getter that throws');

const attributes = fc.record({
  'data-endpoint': fc.option(fc.constantFrom('/collect', 'javascript:alert(1)', 'http://[', ''), { nil: undefined }),
  'data-adapters': fc.option(fc.constantFrom('endpoint', 'endpoint, gtga', ' , ,', 'constructor'), { nil: undefined }),
  'data-consent': fc.option(fc.constantFrom('granted', 'maybe', 'pending', '__proto__'), { nil: undefined }),
});

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => (rejections = watchRejections()));
afterAll(() => rejections.stop());
let errors: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.stubGlobal('fetch', async () => new Response(null, { status: 204 }));
});

it('the stub queue and the script tag: nothing thrown into the page, bad calls logged and counted, events delivered', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { maxLength: 10 }), queueKind, attributes, fc.array(fc.tuple(call, fc.boolean()), { maxLength: 6 }), async (entries, kind, attrs, later) => {
      localStorage.clear();
      errors.mockClear();
      delete page.microconv;
      document.head.querySelectorAll('script').forEach((script) => script.remove());
      const script = document.createElement('script');
      script.setAttribute('type', 'text/x-not-run'); // happy-dom would fetch it
      script.setAttribute('src', 'https://cdn.example/mc/microconv.js');
      for (const [name, value] of Object.entries(attrs)) if (value !== undefined) script.setAttribute(name, value);
      document.head.append(script);

      const rec = recorder();
      const emitted: MicroconvEvent[] = [];
      // The page's own first calls: an init with the recorder, listeners that see every event.
      const first = [args('init', { adapters: [rec], batch: { size: 1000, intervalMs: 3_600_000 } }), args('on', 'event', (event: MicroconvEvent) => void emitted.push(event))];
      const queue = [...first, ...entries.map((item) => item.entry())];
      const stub = Object.assign(function () {}, {}) as unknown as Api;
      if (kind === 'array') stub.q = queue;
      else if (kind === 'string') stub.q = 'init';
      else if (kind === 'object') stub.q = { ...queue, length: queue.length };
      else if (kind === 'a getter that throws') Object.defineProperty(stub, 'q', { get: () => { throw new Error('no queue'); } });
      else stub.q = Object.defineProperty([...queue], 1, { get: () => { throw new Error('no entry'); } });
      page.microconv = stub;

      expect(() => bootScriptTag(PARTS), 'loading throws nothing').not.toThrow();
      const api = page.microconv!;
      // Where the queue was lost, the page's first calls come again after load, as a page that sees no events would.
      const queued = kind === 'array';
      if (!queued) for (const item of first) api(...item);
      let invalid = queued ? entries.reduce((sum, item) => sum + ('invalid' in item ? item.invalid || 0 : 0), 0) : 0;
      for (const [item, asMethod] of later) {
        const made = item.make() as unknown[];
        invalid += item.invalid || 0;
        expect(() => (asMethod && typeof made[0] === 'string' && typeof api[made[0]] === 'function' ? api[made[0]](...made.slice(1)) : api(...made)), `${item.what} throws nothing`).not.toThrow();
      }
      const id = api('track', 'after_stub', { ok: 1 });
      await api.flush();
      await turn();
      expect(rec.received.map((event) => event.event_id), 'a normal event still goes').toContain(id);
      expect(rec.received.map((event) => event.event_id).sort(), 'every event emitted is delivered').toEqual(emitted.map((event) => event.event_id).sort());
      const messages = errors.mock.calls.map((line: unknown[]) => String(line[0]));
      for (const message of messages) expect(message, 'console lines are microconv’s').toMatch(/^\[microconv\] /);
      const { dropped } = api.stats();
      expect(dropped.invalid || 0, 'each bad track, consent and on() counted').toBeGreaterThanOrEqual(invalid);
      expect(messages.length, 'each counted drop has its console error').toBeGreaterThanOrEqual(dropped.invalid || 0);
      expect(rejections.rejections).toEqual([]);
      await api.destroy();
    }),
    fuzz(80),
  );
}, timeout(60));

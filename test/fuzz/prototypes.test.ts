/**
 * Fuzzing pages that patch the built-ins, as old libraries do: Prototype.js (`toJSON` on Array, String,
 * Number and Date; `Array.from = $A`, which ignores a map function), MooTools and pre-ES5 polyfills
 * (enumerable methods on Array.prototype, and their own map/filter/forEach/some/every/indexOf), scripts
 * that add enumerable members to Object.prototype, monitoring tools that wrap JSON.stringify, and zone.js
 * style Promise replacements. A random set of them is applied, then the script tag loads with a queue,
 * tracks, a CTA is clicked, a form begun and submitted, and everything is flushed. Checked: params reach
 * the adapters, the wire and the dataLayer as they were given (own keys, arrays as arrays), tracker events
 * carry their own keys only, nothing is logged as an error or dropped, no unhandled rejection.
 * Left out: `Object.prototype.then` (it makes every object a thenable, which breaks any promise code,
 * the page's own first; no library ships it).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { bootScriptTag } from '../../src/core/bootstrap';
import * as builtIns from '../../src/parts';
import type { Part } from '../../src/types';

/** Every built-in part, as the script tag registers them. */
const PARTS = Object.values(builtIns) as Part[];
import type { MicroconvEvent } from '../../src/types';
import { described, fuzz, goodName, goodParams, recorder, timeout, turn, watchRejections } from './hostile';

type Undo = () => void;
/** Sets `key` of `target` by assignment (enumerable, as old libraries made their additions), undoably. */
function assign(target: any, key: string, value: unknown): Undo {
  const before = Object.getOwnPropertyDescriptor(target, key);
  target[key] = value;
  return () => (before ? Object.defineProperty(target, key, before) : delete target[key]);
}

/** What old libraries and polyfills do to the built-ins, each with its undo. */
const PATCHES: Record<string, () => Undo[]> = {
  'Prototype.js toJSON': () => [
    assign(Array.prototype, 'toJSON', function (this: unknown[]) {
      return '[' + Array.prototype.map.call(this, (item) => JSON.stringify(item)).join(', ') + ']';
    }),
    assign(String.prototype, 'toJSON', function (this: string) {
      return '"' + this + '"';
    }),
    assign(Number.prototype, 'toJSON', function () {
      return 'number';
    }),
  ],
  'Prototype.js Array.from = $A': () => [
    assign(Array, 'from', function (iterable: ArrayLike<unknown>) {
      if (!iterable) return [];
      const length = iterable.length || 0;
      const results = new Array(length);
      for (let i = 0; i < length; i++) results[i] = iterable[i];
      return results;
    }),
  ],
  'enumerable Object.prototype additions': () => [assign(Object.prototype, 'polluted', 'from the page'), assign(Object.prototype, 'extend', function () {})],
  'enumerable Array.prototype additions': () => [assign(Array.prototype, 'each', function () {}), assign(Array.prototype, 'include', function () {})],
  'MooTools-style Array methods': () =>
    ['map', 'filter', 'forEach', 'some', 'every', 'indexOf', 'includes'].map((method) =>
      assign(Array.prototype, method, function (this: unknown[], fn: any, bind?: unknown) {
        // ES3 loops, holes and all; enumerable, as Array.implement made them.
        const results: unknown[] = [];
        for (let i = 0, l = this.length; i < l; i++) {
          if (method === 'indexOf' || method === 'includes') {
            if (this[i] === fn) return method === 'includes' ? true : i;
            continue;
          }
          const value = fn.call(bind, this[i], i, this);
          if (method === 'map') results.push(value);
          else if (method === 'filter' && value) results.push(this[i]);
          else if (method === 'some' && value) return true;
          else if (method === 'every' && !value) return false;
        }
        return method === 'indexOf' ? -1 : method === 'includes' || method === 'some' ? false : method === 'every' ? true : method === 'forEach' ? undefined : results;
      }),
    ),
  'a wrapped JSON.stringify': () => {
    const original = JSON.stringify;
    return [assign(JSON, 'stringify', function (this: unknown, ...args: Parameters<typeof JSON.stringify>) {
      return original.apply(this, args);
    })];
  },
  'Object.prototype.toJSON': () => {
    Object.defineProperty(Object.prototype, 'toJSON', { value: () => 'object', configurable: true, writable: true });
    return [() => void delete (Object.prototype as { toJSON?: unknown }).toJSON];
  },
  'a zone.js-style Promise': () => [assign(window, 'Promise', class ZoneAwarePromise<T> extends Promise<T> {})],
};

const scenario = fc.record({
  patches: fc.subarray(Object.keys(PATCHES), { minLength: 1 }),
  tracks: fc.array(fc.tuple(goodName, goodParams), { minLength: 1, maxLength: 4 }),
});

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => (rejections = watchRejections()));
afterAll(() => rejections.stop());
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

type Api = ((...call: unknown[]) => any) & Record<string, any>;

it("patched built-ins change nothing microconv sends, and break nothing", async () => {
  await fc.assert(
    fc.asyncProperty(scenario.map((item) => described({ ...item, what: item.patches.join(', ') })), async ({ patches, tracks }) => {
      localStorage.clear();
      history.replaceState(null, '', '/');
      const page = window as unknown as { microconv?: Api; dataLayer?: Record<string, unknown>[]; gtag?: unknown };
      delete page.microconv;
      page.dataLayer = [];
      const gtagCalls: unknown[][] = [];
      page.gtag = (...args: unknown[]) => void gtagCalls.push(args);
      const bodies: string[] = [];
      vi.stubGlobal('fetch', async (_: string, init: RequestInit) => (bodies.push(String(init.body)), new Response(null, { status: 204 })));
      document.body.innerHTML = '<button data-mc-cta="hero">Start now</button><form data-mc-form="signup"><input name="email"><button>Send</button></form>';
      const rec = recorder();
      const emitted: MicroconvEvent[] = [];
      const logs: { level: string; message: string }[] = [];
      const undo: Undo[] = [];
      let api: Api | undefined;
      const params = tracks.map(([, built]) => built);
      try {
        for (const name of patches) undo.push(...PATCHES[name]!());
        // The standard stub, its queue, and the script tag loading.
        const stub = function (...args: unknown[]) {
          // eslint-disable-next-line prefer-rest-params
          (stub.q = stub.q || []).push(arguments);
          void args;
        } as Api;
        page.microconv = stub;
        stub('init', { endpoint: '/collect', adapters: ['endpoint', rec, 'datalayer', 'gtag'], batch: { size: 1000, intervalMs: 3_600_000 } });
        stub('on', 'event', (event: MicroconvEvent) => void emitted.push(event));
        stub('on', 'log', (entry: { level: string; message: string }) => void logs.push(entry));
        for (const [name, built] of tracks) stub('track', name, built.make());
        bootScriptTag(PARTS);
        api = page.microconv!;
        await vi.waitFor(() => {
          document.querySelector<HTMLElement>('[data-mc-cta]')!.click();
          expect(emitted.some((event) => event.name === 'cta_click')).toBe(true);
        });
        document.querySelector('[name=email]')!.dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
        document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
        await api.flush();
        await turn();
      } finally {
        for (const step of undo.reverse()) step();
      }
      try {
        const tracked = emitted.slice(0, tracks.length);
        expect(tracked.map((event) => event.params), 'params as given, to the listeners').toEqual(params.map((built) => built.expected));
        const byId = new Map(rec.received.map((event) => [event.event_id, event]));
        expect(tracked.map((event) => byId.get(event.event_id)?.params), 'params as given, to an adapter').toEqual(params.map((built) => built.expected));
        const wire = bodies.flatMap((body) => JSON.parse(body).events as MicroconvEvent[]);
        expect(tracked.map((event) => wire.find((sent) => sent.event_id === event.event_id)?.params), 'params as given, on the wire').toEqual(params.map((built) => built.expected));
        expect(wire.map((event) => event.event_id).sort(), 'every event on the wire').toEqual(emitted.map((event) => event.event_id).sort());
        const own = { cta_click: ['cta_name', 'link_text', 'link_type'], form_begin: ['form_name'], form_complete: ['form_name'] } as Record<string, string[]>;
        for (const event of emitted.slice(tracks.length)) expect(Object.keys(event.params).sort(), `${event.name} carries its own keys only`).toEqual(own[event.name]);
        for (const entry of page.dataLayer!) expect(Object.keys(entry), 'no prototype member in the dataLayer').not.toContain('polluted');
        expect(gtagCalls.length + (api!.stats().dropped.ga4_reserved_name || 0), 'gtag got every event but those GA4 reserves, counted').toBe(emitted.length);
        expect(logs.filter((entry) => entry.level === 'error'), 'nothing logged as an error').toEqual([]);
        // GA4's own rules may refuse a parameter name (counted as ga4_*); nothing else may go.
        expect(Object.keys(api!.stats().dropped).filter((reason) => !reason.startsWith('ga4_')), 'nothing dropped').toEqual([]);
        expect(rejections.rejections).toEqual([]);
      } finally {
        await api?.destroy();
      }
    }),
    fuzz(40),
  );
}, timeout(60));

// The options of init against hostile values. Found by fuzzing (test/fuzz/options.test.ts): each of these
// threw something other than a microconv refusal, or was taken without a word and then misbehaved.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { init } from '../src';
import type { Instance, MicroconvEvent } from '../src/types';

const throwing = (key: string, thrown: unknown = new Error('not ready'), into: object = {}) => Object.defineProperty(into, key, { get: () => { throw thrown; }, enumerable: true });
const trap = () => new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } });

let instances: Instance<any>[] = [];
const start = (options: unknown) => {
  const instance = init(options as never);
  instances.push(instance);
  return instance;
};
beforeEach(() => localStorage.clear());
afterEach(async () => {
  await Promise.all(instances.map((instance) => instance.destroy()));
  instances = [];
});

describe('options that cannot be read', () => {
  it('are a microconv TypeError naming the option, from the npm API', () => {
    expect(() => start(throwing('batch'))).toThrow('microconv: option batch cannot be read: not ready');
    expect(() => start(throwing('trackers', Object.create(null)))).toThrow('microconv: option trackers cannot be read');
    expect(() => start({ batch: throwing('size') })).toThrow('microconv: option batch cannot be read: not ready');
    expect(() => start(trap())).toThrow('microconv: options cannot be read: trap');
    expect(() => start(throwing('errors'))).toThrow('microconv: option errors cannot be read');
    expect(() => start({ adapters: trap() })).toThrow(/^microconv: option adapters/);
    expect(() => start({ adapters: [trap()] })).toThrow('microconv: an adapter cannot be read: trap');
    expect(() => start({ adapters: [throwing('name')] })).toThrow('microconv: an adapter cannot be read: not ready');
  });

  it("with errors: 'log', are each logged and counted, and the rest applies", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const sent: MicroconvEvent[] = [];
    const options = throwing('trackers', new Error('not ready'), { adapters: [trap(), { name: 'rec', send: (events: MicroconvEvent[]) => void sent.push(...events) }], batch: { size: 1 }, errors: 'log' });
    const mc = start(options);
    mc.track('after');
    await vi.waitFor(() => expect(sent.map((event) => event.name)).toEqual(['after']));
    expect(mc.stats().dropped).toEqual({ invalid: 2 });
    expect(error.mock.calls.map(String)).toEqual([expect.stringContaining('option trackers cannot be read'), expect.stringContaining('an adapter cannot be read')]);
  });

  it('a refused adapters option is one error, not one per item it holds', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(start({ adapters: new Uint8Array(4), errors: 'log' }).stats().dropped).toEqual({ invalid: 1 });
  });
});

describe('keys and nested options', () => {
  it('refuses keys of Object.prototype as unknown options', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) expect(() => start({ [key]: 1 })).toThrow(`microconv: unknown option ${key}`);
  });

  it.each([
    [{ trackers: { scroll: { marks: 'abc' } } }, 'option trackers.scroll.marks cannot be "abc"'],
    [{ trackers: { video: { marks: [NaN] } } }, 'option trackers.video.marks cannot be Array'],
    [{ trackers: { sections: { threshold: 5 } } }, 'option trackers.sections.threshold cannot be 5'],
    [{ trackers: { sections: { dwellMs: -1 } } }, 'option trackers.sections.dwellMs cannot be -1'],
    [{ trackers: { downloads: { extensions: ['('] } } }, 'option trackers.downloads.extensions cannot be Array'],
    [{ trackers: { cta: { outbound: 'yes' } } }, 'option trackers.cta.outbound cannot be "yes"'],
    [{ trackers: { scroll: { markz: [10] } } }, 'unknown option trackers.scroll.markz (known: marks)'],
    [{ gtag: { waitMs: 'soon' } }, 'option gtag.waitMs cannot be "soon"'],
    [{ gtag: { names: { cta_click: 5 } } }, 'option gtag.names cannot be Object'],
    [{ gtag: { sendTo: 'G-1' } }, 'unknown option gtag.sendTo'],
    [{ meta: { events: 'standrd' } }, 'option meta.events cannot be "standrd"'],
    [{ datalayer: { name: 5 } }, 'option datalayer.name cannot be 5'],
    [{ plan: { macros: ['purchase'] } }, 'option plan must be'],
    [{ debugSrc: 'javascript:alert(1)' }, 'option debugSrc must be an http(s) URL'],
    [{ debugSrc: 'data:text/javascript,alert(1)' }, 'option debugSrc must be an http(s) URL'],
    [{ debugSrc: 'http://[' }, 'option debugSrc must be an http(s) URL'],
    [{ debugSrc: '' }, 'option debugSrc must be an http(s) URL'],
    [{ endpoint: ' ' }, 'option endpoint must be an http(s) URL'],
    [{ plan: { stages: 5 } }, 'option plan must be'],
    [{ plan: { stages: { awareness: ['cta_click'] } } }, 'option plan must be'],
  ])('refuses %j by its path', (options, message) => {
    expect(() => start(options)).toThrow('microconv: ' + message);
  });

  it('takes the nested options the README lists', () => {
    expect(() =>
      start({
        trackers: { cta: { outbound: true, contact: false }, downloads: { extensions: ['pdf', 'epub'] }, sections: { threshold: 0.25, dwellMs: 10 }, scroll: { marks: [10, 100] }, video: { marks: [5, 95] }, spa: { query: true }, forms: {}, vitals: false },
        gtag: { send_to: 'G-TEST', names: { cta_click: 'select_promotion' }, waitMs: 100 },
        meta: { events: { purchase: 'Purchase', cta_click: () => 'Contact' }, waitMs: 0 },
        datalayer: { name: 'dataLayer' },
        plan: { macro: ['purchase'], stages: { engagement: ['cta_click'], conversion: ['form_complete'] } },
      }),
    ).not.toThrow();
  });
});

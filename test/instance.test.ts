import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { init } from '../src';
import type { Adapter, DeliveryReport, MicroconvEvent } from '../src/types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function recorder(extra: Partial<Adapter> = {}) {
  const batches: MicroconvEvent[][] = [];
  const adapter: Adapter = { name: 'rec', send: (events) => void batches.push(events), ...extra };
  return { adapter, batches, events: () => batches.flat() };
}

beforeEach(() => {
  localStorage.clear();
  history.replaceState(null, '', '/pricing?utm_source=news&utm_medium=email&gclid=G1&email=a@b.co');
});
afterEach(() => vi.useRealTimers());

describe('the envelope', () => {
  it('has every field of contract 5, with a UUID v4, the session and the attribution', async () => {
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter] });
    const id = mc.track('cta_click', { cta_name: 'hero' });
    await mc.flush();
    const [event] = events();
    expect(event).toEqual({
      event_id: id,
      name: 'cta_click',
      ts: expect.any(Number),
      session_id: expect.stringMatching(UUID),
      anonymous_id: expect.stringMatching(UUID),
      page: { url: expect.stringContaining('/pricing?'), path: '/pricing', title: expect.any(String), referrer: '' },
      params: { cta_name: 'hero' },
      attribution: {
        utm_source: 'news',
        utm_medium: 'email',
        utm_campaign: null,
        utm_term: null,
        utm_content: null,
        gclid: 'G1',
        gbraid: null,
        wbraid: null,
        fbclid: null,
        landing_page: expect.stringContaining('/pricing?'),
        referrer: '',
      },
      consent: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
      ids: {},
    });
    expect(id).toMatch(UUID);
    // The page URL is redacted of the click id and the address.
    expect(event!.page.url).toContain('gclid=[redacted]');
    expect(event!.page.url).not.toContain('a@b.co');
    await mc.destroy();
  });

  it('keeps the session for 30 minutes of inactivity, then starts a new one with new attribution', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter] });
    mc.track('a');
    vi.advanceTimersByTime(29 * 60_000);
    mc.track('b');
    history.replaceState(null, '', '/later?utm_source=ads');
    vi.advanceTimersByTime(31 * 60_000);
    mc.track('c');
    await mc.flush();
    const [a, b, c] = events();
    expect(b!.session_id).toBe(a!.session_id);
    expect(c!.session_id).not.toBe(b!.session_id);
    expect(c!.attribution.utm_source).toBe('ads');
    expect(b!.attribution.utm_source).toBe('news');
    expect(c!.anonymous_id).toBe(a!.anonymous_id);
    await mc.destroy();
  });

  it('keeps no identifier and writes nothing to storage without analytics_storage consent', async () => {
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter], consent: { analytics_storage: 'denied' } });
    mc.track('a');
    await mc.flush();
    expect(events()[0]!.anonymous_id).toBeNull();
    expect(localStorage.length).toBe(0);
    mc.consent({ analytics_storage: 'granted' });
    mc.track('b');
    await mc.flush();
    expect(events()[1]!.anonymous_id).toMatch(UUID);
    expect(localStorage.length).toBe(2);
    mc.consent({ analytics_storage: 'denied' });
    expect(localStorage.length).toBe(0);
    await mc.destroy();
  });
});

describe('bad input', () => {
  it('throws a clear TypeError to the npm caller', () => {
    const mc = init({});
    expect(() => mc.track('Bad Name')).toThrow(/microconv: track\("Bad Name"\): invalid event name/);
    expect(() => mc.track('ok', { el: document.body } as never)).toThrow(/parameter el cannot be sent: HTMLBodyElement/);
    expect(() => mc.consent('maybe' as never)).toThrow(/consent must be/);
    expect(() => init({ batch: { size: 0 } })).toThrow(/option batch must be/);
    expect(() => init({ endpont: '/x' } as never)).toThrow(/unknown option endpont/);
    expect(() => init({ adapters: ['gtga'] })).toThrow(/unknown adapter "gtga"/);
    expect(() => init({ adapters: ['endpoint'] })).toThrow(/needs the endpoint option/);
    expect(() => init('x' as never)).toThrow(/options must be an object/);
    expect(() => init({ urlParams: 'page' } as never)).toThrow(/option urlParams must be an array of query parameter names/);
    expect(() => init({ urlParams: ['page', 7] } as never)).toThrow(/option urlParams must be/);
    expect(() => init({ debugSrc: 'javascript:alert(1)' })).toThrow(/option debugSrc must be an http\(s\) URL/);
  });

  it('keeps in URLs the values of the query parameters named by urlParams, and no others', async () => {
    history.replaceState(null, '', '/list?Page=2&plan=pro&color=red&utm_source=news');
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter], urlParams: ['page', 'PLAN'] });
    mc.track('a');
    await mc.flush();
    expect(events()[0]!.page.url).toBe(`${location.origin}/list?Page=2&plan=pro&color=[redacted]&utm_source=news`);
    expect(events()[0]!.attribution.landing_page).toBe(events()[0]!.page.url);
    await mc.destroy();
  });

  it("with errors: 'log', logs, counts a drop and carries on", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter], errors: 'log', batch: { size: -1 } } as never);
    expect(mc.track('Bad')).toBe('');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    mc.track('ok', cyclic as never);
    mc.track('fine');
    await mc.flush();
    expect(events().map((e) => e.name)).toEqual(['fine']);
    expect(mc.stats().dropped).toEqual({ invalid: 3 });
    expect(error).toHaveBeenCalledTimes(3);
    await mc.destroy();
  });
});

describe('adapters', () => {
  it('isolates an adapter that throws or hangs from the others', async () => {
    const good = recorder();
    const mc = init({
      adapters: [
        { name: 'throws', send: () => { throw new Error('boom'); } },
        { name: 'hangs', send: () => new Promise(() => {}) },
        good.adapter,
      ],
      batch: { size: 1 },
    });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    mc.track('a');
    // Well within the 10 s after which the hung send counts as failed.
    await vi.waitFor(() => expect(good.events()).toHaveLength(1), { timeout: 1000 });
    expect(mc.stats().waiting).toMatchObject({ rec: 0, hangs: 1 });
  });

  it('reports each delivery to on("delivery"), and unsubscribes', async () => {
    const { adapter } = recorder();
    const mc = init({ adapters: [adapter] });
    const reports: DeliveryReport[] = [];
    const off = mc.on('delivery', (report) => reports.push(report));
    const id = mc.track('a');
    await mc.flush();
    expect(reports).toEqual([
      { adapter: 'rec', status: 'queued', event_ids: [id], reason: undefined },
      { adapter: 'rec', status: 'sent', event_ids: [id], reason: undefined },
    ]);
    off();
    mc.track('b');
    await mc.flush();
    expect(reports).toHaveLength(2);
  });

  it('holds events for pending consent, sends them when granted, drops them when denied', async () => {
    const vendor = recorder({ consent: ['ad_storage'] });
    const mc = init({ adapters: [vendor.adapter], consent: 'pending' });
    mc.track('a');
    await mc.flush();
    expect(vendor.events()).toHaveLength(0);
    mc.consent({ ad_storage: 'granted' });
    await mc.flush();
    expect(vendor.events().map((e) => e.name)).toEqual(['a']);
    mc.consent({ ad_storage: 'denied' });
    mc.track('b');
    await mc.flush();
    expect(vendor.events()).toHaveLength(1);
    expect(mc.stats().dropped).toEqual({ consent_denied: 1 });
  });

  it('denies the ad purposes under Global Privacy Control', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    try {
      const vendor = recorder({ consent: ['ad_storage', 'ad_user_data'] });
      const mc = init({ adapters: [vendor.adapter] });
      mc.consent('granted');
      mc.track('a');
      await mc.flush();
      expect(vendor.events()).toHaveLength(0);
      expect(mc.stats().dropped).toEqual({ consent_denied: 1 });
    } finally {
      delete (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
    }
  });
});

describe('destroy', () => {
  it('removes every listener and timer it added, and flushes what is queued', async () => {
    const added: string[] = [];
    const removed: string[] = [];
    for (const target of [window, document]) {
      const add = target.addEventListener.bind(target);
      const remove = target.removeEventListener.bind(target);
      vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => (added.push(type), add(type, listener, options)));
      vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => (removed.push(type), remove(type, listener, options)));
    }
    const timers = new Set<unknown>();
    const setTimer = globalThis.setTimeout;
    const clearTimer = globalThis.clearTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const id = setTimer(() => (timers.delete(id), fn()), ms);
      timers.add(id);
      return id;
    }) as typeof setTimeout);
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation((id) => (timers.delete(id), clearTimer(id)));

    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter], batch: { intervalMs: 60_000 } });
    mc.track('a');
    expect(timers.size).toBeGreaterThan(0); // the batch timer, and idle tasks where requestIdleCallback is missing
    await mc.destroy();
    expect(events().map((e) => e.name)).toEqual(['a']);
    expect(added.length).toBeGreaterThan(0);
    // Every listener added is removed (removing one never added, such as a `once` one, is harmless).
    for (const type of added) expect(removed.filter((t) => t === type).length).toBeGreaterThanOrEqual(added.filter((t) => t === type).length);
    expect(timers.size).toBe(0);
    expect(() => mc.track('b')).toThrow(/after destroy/);
  });
});

// Found by fuzzing (test/fuzz/track.test.ts): each of these threw something other than a microconv
// refusal into the caller (and, from the script tag, went uncounted).
describe('hostile calls', () => {
  const trap = () => new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } });

  it('refuses them with a microconv TypeError from the npm API', () => {
    const mc = init({});
    expect(() => mc.track(trap() as never)).toThrow(/^microconv: track\(.*\): invalid event name/);
    expect(() => mc.track('ok', { get total() { throw Object.create(null); } } as never)).toThrow(/^microconv: track\("ok"\): params cannot be read/);
    expect(() => mc.consent(trap() as never)).toThrow(/^microconv: consent must be/);
    for (const type of ['constructor', '__proto__', 'toString', trap()]) expect(() => mc.on(type as never, () => {})).toThrow(/^microconv: on\(\) takes a type/);
  });

  it("with errors: 'log', counts each and throws nothing", () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const mc = init({ errors: 'log' });
    expect(mc.track(trap() as never)).toBe('');
    mc.consent(trap() as never);
    const off = mc.on('constructor' as never, () => {});
    off();
    expect(mc.stats().dropped).toEqual({ invalid: 3 });
  });
});

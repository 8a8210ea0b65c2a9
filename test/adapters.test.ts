import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataLayerAdapter } from '../src/adapters/datalayer';
import { endpointAdapter } from '../src/adapters/endpoint';
import { GA4_MAX_PARAMS, ga4Params, gtagAdapter } from '../src/adapters/gtag';
import { META_STANDARD_EVENTS, metaAdapter } from '../src/adapters/meta';
import { init } from '../src';
import type { MicroconvEvent } from '../src/types';

type W = Record<string, any>;
const w = window as unknown as W;

const event = (name: string, params: Record<string, unknown> = {}): MicroconvEvent => ({
  event_id: '3f1c1c52-1c5e-4a4b-9a59-0e6f2d2c8a11',
  name,
  ts: 1,
  session_id: 's',
  anonymous_id: null,
  page: { url: '', path: '/', title: '', referrer: '' },
  params: params as MicroconvEvent['params'],
  attribution: {} as MicroconvEvent['attribution'],
});
const context = () => ({ leaving: false, note: vi.fn() });

beforeEach(() => {
  for (const key of ['gtag', 'dataLayer', 'fbq', 'customLayer']) delete w[key];
});
afterEach(() => vi.useRealTimers());

describe('GA4 rules', () => {
  it('keeps event_id and at most 25 parameters, refuses reserved names, cuts long strings', () => {
    const params: Record<string, unknown> = { session_id: 'x', gclid: 'y', _private: 1, ga_thing: 2, ['n'.repeat(41)]: 3, long: 'z'.repeat(300) };
    for (let i = 0; i < 30; i++) params['p' + i] = i;
    const note = vi.fn();
    const out = ga4Params(event('cta_click', params), note);
    expect(Object.keys(out)).toHaveLength(GA4_MAX_PARAMS);
    expect(out.event_id).toBe('3f1c1c52-1c5e-4a4b-9a59-0e6f2d2c8a11');
    expect(out.long).toBe('z'.repeat(100));
    for (const key of ['session_id', 'gclid', '_private', 'ga_thing', 'n'.repeat(41)]) expect(out).not.toHaveProperty(key);
    expect(note.mock.calls.map((call) => call[0])).toEqual([
      ...Array(5).fill('ga4_param_refused'),
      'ga4_value_cut',
      ...Array(7).fill('ga4_param_over_limit'),
    ]);
  });
});

describe('gtag adapter', () => {
  it("calls gtag('event', name, params) with event_id, send_to and renamed events", () => {
    w.gtag = vi.fn();
    const adapter = gtagAdapter({ send_to: 'G-TEST', names: { cta_click: 'select_content' } });
    adapter.send([event('cta_click', { cta_name: 'hero' })], context());
    expect(w.gtag).toHaveBeenCalledWith('event', 'select_content', { event_id: expect.any(String), cta_name: 'hero', send_to: 'G-TEST' });
  });

  it('pushes an arguments object to dataLayer where gtag is missing, as gtag itself would', () => {
    w.dataLayer = [];
    gtagAdapter().send([event('form_step', { step_index: 1 })], context());
    const pushed = w.dataLayer[0];
    expect(Object.prototype.toString.call(pushed)).toBe('[object Arguments]');
    expect([...pushed]).toEqual(['event', 'form_step', { event_id: expect.any(String), step_index: 1 }]);
  });

  it.each(['page_view', 'scroll', 'click', 'form_start', 'video_progress'])('refuses the reserved event name %s', (name) => {
    w.gtag = vi.fn();
    expect(() => gtagAdapter().send([event(name)], context())).toThrow('ga4_reserved_name');
    expect(w.gtag).not.toHaveBeenCalled();
  });

  it('waits a bounded time for gtag, then refuses, counted by the core', async () => {
    vi.useFakeTimers();
    const sent = gtagAdapter({ waitMs: 1000 }).send([event('cta_click')], context()) as Promise<void>;
    const outcome = sent.then(() => 'sent', (error) => error.reason);
    await vi.advanceTimersByTimeAsync(500);
    w.gtag = vi.fn();
    await vi.advanceTimersByTimeAsync(100);
    expect(await outcome).toBe('sent');
    delete w.gtag;
    const missing = (gtagAdapter({ waitMs: 1000 }).send([event('cta_click')], context()) as Promise<void>).catch((error) => error.reason);
    await vi.advanceTimersByTimeAsync(1100);
    expect(await missing).toBe('gtag_missing');
  });
});

describe('meta adapter', () => {
  it("sends trackCustom with eventID, or a standard event through the mapping", () => {
    w.fbq = vi.fn();
    const adapter = metaAdapter({ events: 'standard' });
    adapter.send([event('section_view', { section_name: 'pricing' })], context());
    adapter.send([event('form_complete', { form_name: 'demo' })], context());
    adapter.send([event('cta_click', { link_type: 'tel' })], context());
    adapter.send([event('cta_click', { link_type: 'link' })], context());
    expect(w.fbq.mock.calls).toEqual([
      ['trackCustom', 'section_view', { section_name: 'pricing' }, { eventID: expect.any(String) }],
      ['track', 'Lead', { form_name: 'demo' }, { eventID: expect.any(String) }],
      ['track', 'Contact', { link_type: 'tel' }, { eventID: expect.any(String) }],
      ['trackCustom', 'cta_click', { link_type: 'link' }, { eventID: expect.any(String) }],
    ]);
    expect(META_STANDARD_EVENTS.form_complete).toBe('Lead');
  });
});

describe('datalayer adapter', () => {
  it('pushes { event, event_id, ...params }, creating the array if GTM has not yet', () => {
    dataLayerAdapter().send([event('scroll_depth', { percent_scrolled: 50, event: 'not me' })], context());
    expect(w.dataLayer).toEqual([{ event: 'scroll_depth', event_id: expect.any(String), percent_scrolled: 50 }]);
    dataLayerAdapter({ name: 'customLayer' }).send([event('a')], context());
    expect(w.customLayer).toHaveLength(1);
  });
});

describe('endpoint adapter', () => {
  const answer = (status: number, body?: string) => vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(body ?? null, { status }));
  const send = () => endpointAdapter('https://collector.example/collect').send([event('cta_click')], context());

  it('reads the events a 2xx names as rejected, for the core to count and not resend', async () => {
    const rejected = [{ event_id: 'e1', problems: ['params.value: not a number'] }];
    answer(200, JSON.stringify({ stored: 0, rejected, later_field: true }));
    expect(await send()).toMatchObject({ rejected });
  });

  it.each([
    ['204 without a body', 204, undefined],
    ['200 with other fields', 200, '{"stored":1}'],
    ['200 with a body that is not JSON', 200, 'ok'],
  ])('takes %s as everything stored', async (_, status, body) => {
    answer(status, body);
    const result = (await send()) as { rejected?: unknown } | undefined;
    expect(result?.rejected).toBeUndefined();
  });
});

describe('through the core', () => {
  it('shares one event_id across every destination', async () => {
    w.gtag = vi.fn();
    w.fbq = vi.fn();
    const endpoint = vi.fn();
    const mc = init({ adapters: ['gtag', 'meta', 'datalayer', { name: 'first_party', send: endpoint }] });
    const id = mc.track('cta_click', { cta_name: 'hero' });
    await mc.flush();
    expect(w.gtag.mock.calls[0][2].event_id).toBe(id);
    expect(w.fbq.mock.calls[0][3].eventID).toBe(id);
    expect(w.dataLayer[0].event_id).toBe(id);
    expect(endpoint.mock.calls[0][0][0].event_id).toBe(id);
  });

  it('counts what GA4 rules cut, and drops what they refuse', async () => {
    w.gtag = vi.fn();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const mc = init({ adapters: ['gtag'] });
    mc.track('cta_click', { gclid: 'x', text: 'y'.repeat(150) } as never);
    mc.track('page_view');
    await mc.flush();
    expect(w.gtag).toHaveBeenCalledTimes(1);
    expect(mc.stats().dropped).toEqual({ ga4_param_refused: 1, ga4_value_cut: 1, ga4_reserved_name: 1 });
  });

  it('holds meta events for the ad purposes while consent is pending', async () => {
    w.fbq = vi.fn();
    w.gtag = vi.fn();
    const mc = init({ adapters: ['gtag', 'meta'], consent: { analytics_storage: 'granted', ad_storage: 'pending', ad_user_data: 'pending', ad_personalization: 'pending' } });
    mc.track('cta_click');
    await mc.flush();
    expect(w.gtag).toHaveBeenCalledTimes(1);
    expect(w.fbq).not.toHaveBeenCalled();
    mc.consent({ ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' });
    await mc.flush();
    expect(w.fbq).toHaveBeenCalledTimes(1);
  });
});

// Found by fuzzing (test/fuzz/track.test.ts): `constructor` is a valid event name, and a mapping looked up
// without an own-key check found Object.prototype's constructor: Meta got fbq('track', <the event
// object>, ...), GA4 refused the event as a reserved name.
describe('an event named like a member of Object.prototype', () => {
  it('goes to Meta and GA4 under its own name', () => {
    w.fbq = vi.fn();
    w.gtag = vi.fn();
    void metaAdapter({ events: 'standard' }).send([event('constructor')], context());
    void gtagAdapter().send([event('constructor')], context());
    expect(w.fbq).toHaveBeenCalledWith('trackCustom', 'constructor', {}, { eventID: event('x').event_id });
    expect(w.gtag).toHaveBeenCalledWith('event', 'constructor', { event_id: event('x').event_id });
  });
});

// Found by fuzzing (test/fuzz/track.test.ts): a parameter named event_id replaced the event's own id in
// what GA4 got, so the deduplication key no longer matched the other destinations'.
it("a parameter named event_id never replaces the event's id at GA4, and its refusal is counted", () => {
  const note = vi.fn();
  const out = ga4Params(event('purchase', { event_id: 'mine', value: 1 }), note);
  expect(out).toEqual({ event_id: event('x').event_id, value: 1 });
  expect(note).toHaveBeenCalledWith('ga4_param_refused', expect.stringContaining('event_id'));
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bootScriptTag, ownScript, readAttributes } from '../src/core/bootstrap';
import * as builtIns from '../src/parts';
import type { Part } from '../src/types';

/** What the script tag registers: every built-in part. */
const PARTS = Object.values(builtIns) as Part[];
import type { MicroconvEvent } from '../src/types';

type Global = { microconv?: ((...args: unknown[]) => unknown) & Record<string, any> };
const w = window as unknown as Global;

/** The standard stub of contract 1.2, as a page would paste it. */
function stub() {
  w.microconv = function (...args: unknown[]) {
    (w.microconv!.q = w.microconv!.q || []).push(args);
  } as Global['microconv'];
  return w.microconv!;
}

function scriptTag(attributes: Record<string, string>) {
  const script = document.createElement('script');
  script.setAttribute('type', 'text/x-not-run'); // happy-dom would try to fetch it otherwise
  script.setAttribute('src', 'https://cdn.example/mc/microconv.js');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  document.head.append(script);
}

/** A custom adapter that records, so tests see what the instance sends. */
function recording() {
  const sent: MicroconvEvent[] = [];
  return { sent, adapter: { name: 'rec', send: (events: MicroconvEvent[]) => void sent.push(...events) } };
}

beforeEach(() => {
  delete w.microconv;
  document.head.innerHTML = '';
  localStorage.clear();
});
afterEach(async () => {
  await (w.microconv?.destroy as (() => Promise<void>) | undefined)?.();
});

describe('script attributes', () => {
  it('reads endpoint, adapters, consent and debug, and finds the overlay next to the script', () => {
    const script = document.createElement('script');
    script.src = 'https://cdn.example/mc/microconv.js';
    Object.assign(script.dataset, { endpoint: '/collect', adapters: 'endpoint, gtag', consent: 'pending', debug: '' });
    expect(readAttributes(script)).toEqual({
      endpoint: '/collect',
      adapters: ['endpoint', 'gtag'],
      consent: 'pending',
      debug: true,
      debugSrc: 'https://cdn.example/mc/microconv-debug.js',
    });
  });
});

describe('the stub queue', () => {
  it('replays queued calls in order, after merging queued inits into one instance', async () => {
    const { sent, adapter } = recording();
    const mc = stub();
    mc('init', { adapters: [adapter], consent: 'pending' });
    mc('track', 'first', { n: 1 });
    mc('consent', 'granted');
    mc('track', 'second');
    mc('init', { batch: { size: 50 } });
    bootScriptTag(PARTS);
    w.microconv!('track', 'third');
    w.microconv!.track('fourth');
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['first', 'second', 'third', 'fourth']);
    expect(sent[0]!.params).toEqual({ n: 1 });
  });

  it('starts from the attributes alone, and a later init joins the same instance', async () => {
    scriptTag({ 'data-adapters': 'endpoint', 'data-endpoint': '/collect' });
    const fetch = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetch);
    bootScriptTag(PARTS);
    const { sent, adapter } = recording();
    w.microconv!('init', { adapters: ['endpoint', adapter] });
    w.microconv!('track', 'a');
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['a']);
    expect(fetch).toHaveBeenCalledOnce();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    w.microconv!('init', {});
    expect(error).toHaveBeenCalledWith(expect.stringContaining('init was called twice'));
  });

  it('starts by itself once the page is idle, not while its script runs; a later init then joins it', async () => {
    scriptTag({ 'data-endpoint': '/collect', 'data-consent': 'maybe' });
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    bootScriptTag(PARTS);
    expect(error, 'nothing read or started while the script runs').not.toHaveBeenCalled();
    await vi.waitFor(() => expect(error).toHaveBeenCalledWith(expect.stringContaining('consent')));
    const { sent, adapter } = recording();
    w.microconv!('init', { adapters: ['endpoint', adapter], consent: 'granted' });
    w.microconv!('track', 'a');
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['a']);
  });

  it('starts at once when the page calls it before then, and serves that call', () => {
    scriptTag({ 'data-endpoint': '/collect', 'data-consent': 'maybe' });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    bootScriptTag(PARTS);
    expect(w.microconv!.stats()).toEqual({ dropped: { invalid: 1 }, waiting: expect.any(Object) });
    expect(error).toHaveBeenCalledWith(expect.stringContaining('consent'));
  });

  it('starts at once when the stub queued calls to serve, not only an init', () => {
    const mc = stub();
    mc('init', { consent: 'maybe' });
    mc('track', 'before_load');
    scriptTag({ 'data-endpoint': '/collect' });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    bootScriptTag(PARTS);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('consent'));
  });

  it('starts at once on a page whose idle callbacks throw', () => {
    scriptTag({ 'data-endpoint': '/collect', 'data-consent': 'maybe' });
    vi.stubGlobal('requestIdleCallback', () => {
      throw new Error('patched by the page');
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(() => bootScriptTag(PARTS)).not.toThrow();
      expect(error).toHaveBeenCalledWith(expect.stringContaining('consent'));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('waits for an init before serving calls made without one', async () => {
    const { sent, adapter } = recording();
    bootScriptTag(PARTS);
    w.microconv!('track', 'early');
    w.microconv!('init', { adapters: [adapter] });
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['early']);
  });

  it('never throws into the page: bad calls are console errors and counted drops', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { sent, adapter } = recording();
    const mc = stub();
    mc('init', { adapters: [adapter], batch: 'often' });
    mc('track', 'Not Valid');
    mc('track', 'ok', { node: document.body });
    mc('explode');
    mc('track', 'fine');
    expect(() => bootScriptTag(PARTS)).not.toThrow();
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['fine']);
    expect(w.microconv!.stats().dropped).toEqual({ invalid: 3 });
    expect(error.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringContaining('option batch must be'),
      expect.stringContaining('invalid event name'),
      expect.stringContaining('parameter node cannot be sent'),
      expect.stringContaining('unknown method explode'),
    ]);
  });

  it('loaded twice, keeps the first copy', () => {
    bootScriptTag(PARTS);
    const first = w.microconv;
    bootScriptTag(PARTS);
    expect(w.microconv).toBe(first);
  });
});

// Found by fuzzing (test/fuzz/stub.test.ts): a queue the page got wrong lost every call in it, init
// included, and every call the page made later waited for an init that never came, without a word.
describe('a hostile stub queue', () => {
  it('skips what is not a call, and replays the rest', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { sent, adapter } = recording();
    const mc = stub();
    mc('init', { adapters: [adapter] });
    mc.q!.push(null, 42, 'track');
    mc('track', 'after_junk');
    expect(() => bootScriptTag(PARTS)).not.toThrow();
    w.microconv!('track', 'later');
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['after_junk', 'later']);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('[microconv] queued call null is not a call'));
  });

  it.each([
    ['a string', () => 'init'],
    ['an object', () => ({ length: 1e9 })],
    ['a getter that throws', () => Object.defineProperty([], 0, { get: () => { throw new Error('no'); } })],
  ])('takes a queue that is %s as an error, and works on', async (_, queue) => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    w.microconv = Object.assign(() => {}, { q: queue() }) as unknown as Global['microconv'];
    expect(() => bootScriptTag(PARTS)).not.toThrow();
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/^\[microconv\] the calls queued before load/));
    const { sent, adapter } = recording();
    w.microconv!('init', { adapters: [adapter] });
    w.microconv!('track', 'works');
    await w.microconv!.flush();
    expect(sent.map((e) => e.name)).toEqual(['works']);
  });

  it('starts from the attributes when a queued init cannot be read, and replays the other calls', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const fetch = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetch);
    scriptTag({ 'data-endpoint': '/collect' });
    const mc = stub();
    mc('init', new Proxy({}, { ownKeys() { throw new Error('trap'); } }));
    mc('track', 'queued');
    expect(() => bootScriptTag(PARTS)).not.toThrow();
    await w.microconv!.flush();
    expect(fetch).toHaveBeenCalledOnce();
    expect(error).toHaveBeenCalledWith('[microconv] init: options cannot be read: trap');
  });
});

describe('DOM clobbering', () => {
  afterEach(() => {
    delete (document as { currentScript?: unknown }).currentScript;
    delete (document as { querySelector?: unknown }).querySelector;
    document.body.innerHTML = '';
  });

  /** User content as a page may hold it: an image whose name shadows `document.currentScript`. */
  function clobber() {
    document.body.innerHTML = '<img name="currentScript" src="https://evil.example/x/pixel.png" data-endpoint="https://evil.example/collect" data-debug>';
    // Chromium resolves `document.currentScript` to that image (HTMLDocument's named properties win
    // over its own); happy-dom does not implement named properties, so the shadowing is made by hand.
    Object.defineProperty(document, 'currentScript', { value: document.body.firstChild, configurable: true });
  }

  it('takes only a real script element for its own: not an image named currentScript', async () => {
    clobber();
    scriptTag({ 'data-endpoint': '/collect' });
    const own = document.head.querySelector('script');
    expect(ownScript()).toBe(own);
    expect(readAttributes(ownScript())).toEqual({ endpoint: '/collect', debugSrc: 'https://cdn.example/mc/microconv-debug.js' });
  });

  it('with no script of its own, starts nothing: no endpoint, no overlay from the image’s host', async () => {
    clobber();
    const fetch = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetch);
    bootScriptTag(PARTS);
    expect(w.microconv!.stats()).toBeUndefined(); // no instance: calls wait for an init
    expect(document.querySelectorAll('script').length).toBe(0);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('in the querySelector fallback too, an SVG script or a clobbered querySelector is no script of its own', () => {
    document.body.innerHTML = '<svg><script src="https://evil.example/microconv.js" data-endpoint="https://evil.example/collect"></script></svg><img name="querySelector">';
    Object.defineProperty(document, 'currentScript', { value: null, configurable: true });
    Object.defineProperty(document, 'querySelector', { value: document.body.lastChild, configurable: true });
    expect(ownScript()).toBeNull();
    scriptTag({ 'data-endpoint': '/collect' });
    expect(ownScript()).toBe(document.head.querySelector('script'));
  });
});

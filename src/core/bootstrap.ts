/**
 * The script-tag way in (contract 1.2): options from the script element's own `data-*` attributes, the
 * calls the page queued through the stub before the script loaded replayed in order, then
 * `microconv('track', …)` and `microconv.track(…)` alike. Bad input is a console error and a counted
 * drop, never an exception in the page.
 */
import { init } from './instance';
import { whenIdle } from './dom';
import { partsFrom } from './loader';
import { describe } from '../lib/safe';
import { show } from '../lib/validate';
import type { Instance, Options, Part } from '../types';

const METHODS = ['init', 'track', 'consent', 'identify', 'flush', 'debug', 'on', 'stats', 'destroy'];

/**
 * microconv's own script element, or null. Only a real `HTMLScriptElement` counts: user content can
 * shadow properties of `document` by name (DOM clobbering: `<img name="currentScript">` is then what
 * `document.currentScript` returns), so both `currentScript` and `querySelectorAll` are read through
 * `Document.prototype`, and an element of another kind (an image, an SVG `<script>`) is refused.
 */
export function ownScript(): HTMLScriptElement | null {
  const proto = Document.prototype;
  const current = Reflect.get(proto, 'currentScript', document) as Element | null;
  // Where no script is running (the file evaluated by other means), the first one whose src names us.
  const candidates = current ? [current] : Array.from(proto.querySelectorAll.call(document, 'script[src*="microconv"]'));
  return candidates.find((element): element is HTMLScriptElement => element instanceof HTMLScriptElement) || null;
}

/**
 * The options a script element carries: `data-endpoint`, `data-adapters`, `data-debug`, `data-consent`.
 * `search`: the page's query string (`?mc_debug=1`) as the script found it.
 */
export function readAttributes(script: HTMLScriptElement | null, search = location.search): Options {
  const { endpoint, adapters, consent, debug } = script?.dataset || {};
  const options: Options = {};
  if (endpoint) options.endpoint = endpoint;
  if (adapters) options.adapters = adapters.split(',').map((name) => name.trim());
  if (consent) options.consent = consent as Options['consent'];
  if (debug !== undefined || /[?&]mc_debug=1\b/.test(search)) options.debug = true;
  // The overlay is served from the folder this file came from: only ever the origin of a real script.
  if (script?.src) options.debugSrc = new URL('microconv-debug.js', script.src).href;
  return options;
}

type Api = ((...call: unknown[]) => unknown) & { q?: ArrayLike<unknown>[]; loaded?: boolean } & Record<string, unknown>;

/**
 * Installs `window.microconv` in place of the stub; `parts`: those it registers. The instance starts,
 * with the stub's queue replayed, once the page has loaded and is idle: its setup (options, storage, the
 * destinations) is no part of loading the page, and its trackers wait for that moment anyway. A queue
 * with calls beyond `init`, or a call to `microconv` before then, starts it at once, so every call is
 * served, in order, as it is made.
 */
export function bootScriptTag(parts: Part[]): void {
  const w = window as unknown as { microconv?: Api };
  const stub = w.microconv;
  if (stub?.loaded) return; // loaded twice: the first copy serves, so the page has one instance
  // Read while this file runs: `currentScript` is ours only now, and an SPA may rewrite the URL before idle.
  const script = ownScript();
  const search = location.search;
  // The lazy parts are next to this file: only ever the folder of a real script.
  if (script?.src) partsFrom(script.src);
  let instance: Instance<any> | undefined;
  let byAttributes = false;
  let attributes: Options = {};
  const waiting: unknown[][] = []; // calls made before there is an instance

  const run = (call: unknown[]): unknown => {
    const [method, ...args] = call;
    try {
      if (!METHODS.includes(method as string)) throw `unknown method ${String(method)} (known: ${METHODS})`;
      if (method === 'init') {
        if (instance && !byAttributes) throw 'init was called twice; the second call is ignored';
        // Attributes that started an instance before the page's init came make one with it.
        void instance?.destroy();
        instance = init(merge(args), parts);
        byAttributes = false;
        waiting.splice(0).forEach(run);
      } else if (!instance) waiting.push(call);
      else return (instance as any)[method as string](...args);
    } catch (error) {
      console.error('[microconv] ' + describe(error));
    }
  };
  /** The attributes, then each options object given: one that cannot be read is an error, and the rest make the instance. */
  const merge = (given: unknown[]): Options => {
    let options: Options = attributes;
    for (const each of given) {
      try {
        options = { ...options, ...(each as Options) };
      } catch (error) {
        console.error('[microconv] init: options cannot be read: ' + describe(error));
      }
    }
    return { ...options, errors: 'log' };
  };

  // Queued inits merge with the attributes into one instance; the other calls replay in order. So do
  // the page's calls made before the start.
  const queued = queuedCalls(stub);
  let started = false;
  let cancel: (() => void) | undefined;
  const start = () => {
    if (started) return;
    started = true;
    cancel?.();
    attributes = readAttributes(script, search);
    const inits = queued.filter((call) => call[0] === 'init');
    if (inits.length || attributes.endpoint || attributes.adapters) {
      run(['init', ...inits.map((call) => call[1])]);
      byAttributes = !inits.length;
    }
    for (const call of queued) if (call[0] !== 'init') run(call);
  };
  const api = ((...args: unknown[]) => (!started && args[0] === 'init' ? void (queued.push(args), start()) : (start(), run(args)))) as Api;
  for (const method of METHODS) api[method] = (...args: unknown[]) => api(method, ...args);
  api.loaded = true;
  w.microconv = api;
  // Calls the page queued to be served (a track, consent) start it now: a visitor who leaves before
  // the idle moment must not take them along. So does a page whose idle callbacks throw.
  try {
    if (queued.some((call) => call[0] !== 'init')) start();
    else cancel = whenIdle(start);
  } catch {
    start();
  }
}

/**
 * The calls the stub queued, each as an array. The page owns the queue: what is not a call is a console
 * error and left out, and a queue that cannot be read loses what is left of it, never the page's later
 * calls (they still wait for an init).
 */
function queuedCalls(stub: Api | undefined): unknown[][] {
  const calls: unknown[][] = [];
  try {
    const queue = stub?.q;
    if (queue !== undefined && !Array.isArray(queue)) throw `not a list but ${show(queue)}`;
    for (const call of queue || []) {
      // A call is the stub's `arguments`: a method and at most three arguments are of use.
      if (call && typeof call === 'object') calls.push(Array.prototype.slice.call(call, 0, 4));
      else console.error(`[microconv] queued call ${show(call)} is not a call`);
    }
  } catch (error) {
    console.error('[microconv] the calls queued before load cannot be read: ' + describe(error));
  }
  return calls;
}

import type { Log } from '../lib/safe';
import { caught, safe } from '../lib/safe';

/** Contract 2: nothing from an element with this attribute, or from inside it. */
export const IGNORED = '[data-mc-ignore]';

/** What a tracker gets from the core. */
export interface TrackerContext {
  /** Emits a micro-conversion. */
  emit(name: string, params: Record<string, unknown>): void;
  /**
   * Listens through one capture-phase listener per event type on `document` (or `window`), shared by
   * all trackers: no listener per element, and elements added later are covered for free.
   */
  listen(type: string, handler: (event: Event) => void, onWindow?: boolean): void;
  /** Calls `found` for every element matching `selector`, now (`late` false) and whenever one is added. */
  watch(selector: string, found: (element: Element, late: boolean) => void): void;
  /** Runs when the page is hidden or left, or before an SPA route change: the last moment of a page view. */
  onLeave(hook: () => void): void;
  /** Runs when an SPA route change starts a new page view. */
  onPage(hook: () => void): void;
  /** A URL read from the page, as the site's URL policy lets it leave (`redactUrl` with `urlParams`). */
  redactUrl(url: string): string;
}

/** A tracker: one function per file, the same shape for all; returns its teardown. */
export type Tracker<Options = Record<string, unknown>> = (context: TrackerContext, options: Options) => (() => void) | void;

/**
 * The DOM plumbing behind a `TrackerContext`: delegated listeners and one MutationObserver. Returns the
 * context's `listen` and `watch`, and a teardown that removes every listener and observer they added.
 */
export function createDom(log: Log) {
  const delegated = new Map<string, Set<(event: Event) => void>>();
  const watchers: [string, (element: Element, late: boolean) => void, WeakSet<Element>][] = [];
  let observer: MutationObserver | undefined;
  const idle: number[] = [];
  let loaded = document.readyState === 'complete';
  const onLoad = () => ((loaded = true), waiting.splice(0).forEach(later));
  const waiting: (() => void)[] = [];
  /**
   * Runs `task` once the page has loaded and the main thread is idle (within a second): off the page's
   * load and off its input.
   */
  const later = (task: () => void) => {
    if (!loaded) return waiting.push(task) === 1 && addEventListener('load', onLoad, { once: true });
    const run = () => safe(log, 'idle task', task);
    idle.push('requestIdleCallback' in window ? requestIdleCallback(run, { timeout: 1000 }) : (setTimeout(run, 50) as unknown as number));
  };

  // Runs for every click, scroll, keystroke and media update of the page: no closure per handler.
  const dispatch = (event: Event) => {
    for (const handler of delegated.get((event.currentTarget === window ? 'w:' : 'd:') + event.type)!) {
      try {
        handler(event);
      } catch (error) {
        caught(log, event.type + ' handler', error);
      }
    }
  };

  const visit = (root: Element, late: boolean) => {
    for (const [selector, found, seen] of watchers) {
      const hits = root.matches(selector) ? [root] : [];
      hits.push(...root.querySelectorAll(selector));
      // Nothing from inside `data-mc-ignore` (contract 2): sections, form steps and embeds there are not watched.
      for (const element of hits) if (!seen.has(element) && !element.closest(IGNORED)) seen.add(element), safe(log, 'watch ' + selector, () => found(element, late));
    }
  };

  return {
    listen(type: string, handler: (event: Event) => void, onWindow?: boolean) {
      const key = (onWindow ? 'w:' : 'd:') + type;
      if (!delegated.has(key)) delegated.set(key, new Set()), (onWindow ? window : document).addEventListener(type, dispatch, true);
      delegated.get(key)!.add(handler);
    },
    watch(selector: string, found: (element: Element, late: boolean) => void) {
      watchers.push([selector, found, new WeakSet()]);
      visit(document.documentElement, false);
      // One observer for every tracker; it only reads the nodes that were added.
      observer ||= new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) visit(node as Element, true);
      });
      observer.observe(document.documentElement, { childList: true, subtree: true });
    },
    later,
    stop() {
      removeEventListener('load', onLoad);
      waiting.length = 0;
      for (const handle of idle) ('cancelIdleCallback' in window ? cancelIdleCallback : clearTimeout)(handle);
      observer?.disconnect();
      for (const key of delegated.keys()) (key[0] === 'w' ? window : document).removeEventListener(key.slice(2), dispatch, true);
      delegated.clear();
    },
  };
}

/**
 * Watches SPA route changes (contract 3): `pushState`/`replaceState` to another path, `popstate`, or a
 * `hashchange` to a hash route (`#/pricing`, `#!/pricing`). An in-page anchor, or a query string change
 * alone (unless `query` is set), is not a new page view. Calls `changed(previousUrl)` after the fact.
 */
export function watchRoutes(changed: (from: string) => void, query?: boolean): () => void {
  const route = () => location.pathname + (query ? location.search : '') + (/^#!?\//.test(location.hash) ? location.hash.replace(/\?.*/, '') : '');
  let current = route();
  let href = location.href;
  const check = () => {
    const from = href;
    href = location.href;
    if (route() !== current) (current = route()), changed(from);
  };
  // The History API fires no event; wrapping its two methods is how a library learns of navigations.
  const restore = (['pushState', 'replaceState'] as const).map((method) => {
    const original = history[method];
    const wrapped = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      check();
    };
    history[method] = wrapped;
    // Put it back only if nobody wrapped it after us.
    return () => history[method] === wrapped && (history[method] = original);
  });
  addEventListener('popstate', check, true);
  addEventListener('hashchange', check, true);
  return () => {
    restore.forEach((undo) => undo());
    removeEventListener('popstate', check, true);
    removeEventListener('hashchange', check, true);
  };
}

import type { Log } from '../lib/safe';
import { caught, safe } from '../lib/safe';

/** Contract 2: nothing from an element with this attribute, or from inside it. */
export const IGNORED = '[data-mc-ignore]';

/**
 * The DOM plumbing behind a `TrackerContext` (see types.ts): delegated listeners and one MutationObserver.
 * Returns the context's `listen` and `watch`, `later` for work that waits for an idle moment, and a
 * teardown that removes every listener and observer they added.
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
    /** Adds `handler` to the one listener of its type; returns how to take it off again. */
    listen(type: string, handler: (event: Event) => void, onWindow?: boolean) {
      const key = (onWindow ? 'w:' : 'd:') + type;
      if (!delegated.has(key)) delegated.set(key, new Set()), (onWindow ? window : document).addEventListener(type, dispatch, true);
      delegated.get(key)!.add(handler);
      return () => void delegated.get(key)?.delete(handler);
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

import type { Log } from '../lib/safe';
import { caught, safe } from '../lib/safe';

/** Contract 2: nothing from an element with this attribute, or from inside it. */
export const IGNORED = '[data-mc-ignore]';

type Watcher = [selector: string, found: (element: Element, late: boolean) => void, seen: WeakSet<Element>];

/**
 * Runs `task` once the page has loaded and the main thread is idle (within a second): off the page's load
 * and off its input. Returns how to call it off.
 */
export function whenIdle(task: () => void): () => void {
  let handle: number | undefined;
  const idle = () => (handle = 'requestIdleCallback' in window ? requestIdleCallback(task, { timeout: 1000 }) : (setTimeout(task, 50) as unknown as number));
  if (document.readyState === 'complete') idle();
  else addEventListener('load', idle, { once: true });
  return () => (removeEventListener('load', idle), handle !== undefined && ('cancelIdleCallback' in window ? cancelIdleCallback : clearTimeout)(handle));
}

/**
 * The DOM plumbing behind a `TrackerContext` (see types.ts): delegated listeners and one MutationObserver.
 * Returns the context's `listen` and `watch`, `later` for work that waits for an idle moment, and a
 * teardown that removes every listener and observer they added.
 */
export function createDom(log: Log) {
  const delegated = new Map<string, Set<(event: Event) => void>>();
  const removers: (() => void)[] = [];
  const watchers: Watcher[] = [];
  let observer: MutationObserver | undefined;
  /** `whenIdle`, called off by `stop()`. */
  const later = (task: () => void) => void removers.push(whenIdle(() => safe(log, 'idle task', task)));

  /** Hands `watcher` the elements of `root` (itself included) it has not had yet, outside `data-mc-ignore` (contract 2). */
  const visit = (root: Element, late: boolean, [selector, found, seen]: Watcher) => {
    const check = (element: Element) => seen.has(element) || element.closest(IGNORED) || (seen.add(element), safe(log, 'watch ' + selector, () => found(element, late)));
    const inside = root.querySelectorAll(selector);
    if (root.matches(selector)) check(root);
    inside.forEach(check);
  };

  return {
    /** Adds `handler` to the one listener of its type; returns how to take it off again. */
    listen(type: string, handler: (event: Event) => void, onWindow?: boolean) {
      const key = (onWindow ? 'w:' : 'd:') + type;
      let handlers = delegated.get(key)!;
      if (!handlers) {
        const target = onWindow ? window : document;
        const all = (handlers = new Set());
        // Runs for every click, scroll, keystroke and media update of the page: its own handlers at hand,
        // nothing to look up.
        const dispatch = (event: Event) => {
          for (const handler of all) {
            try {
              handler(event);
            } catch (error) {
              caught(log, type + ' handler', error);
            }
          }
        };
        delegated.set(key, all);
        target.addEventListener(type, dispatch, true);
        removers.push(() => target.removeEventListener(type, dispatch, true));
      }
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
    watch(selector: string, found: (element: Element, late: boolean) => void) {
      const watcher: Watcher = [selector, found, new WeakSet()];
      watchers.push(watcher);
      // What the page has now, for this watcher alone: the others have had it.
      visit(document.documentElement, false, watcher);
      // One observer for every tracker; it only reads the nodes that were added.
      observer ||= new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) if (node.nodeType === 1) for (const each of watchers) visit(node as Element, true, each);
      });
      observer.observe(document.documentElement, { childList: true, subtree: true });
    },
    later,
    stop() {
      observer?.disconnect();
      removers.splice(0).forEach((remove) => remove());
      delegated.clear();
    },
  };
}

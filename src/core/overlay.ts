import type { DebugHandle, DebugRecord } from '../types';
import { safe, type Log } from '../lib/safe';
import { loadScript } from './loader';

/** The most records kept for an overlay that is still loading: it shows the page from its start. */
const MAX_HISTORY = 500;

/**
 * The debug overlay of an instance (contract 1.3): fetched, only once debugging is on, from the folder
 * `microconv.js` came from (or `debugSrc`), and told what happened before it came. `handle` gives what
 * the overlay reads: the instance's listeners and counters, the plan and the adapters.
 */
export function createOverlay(src: string | undefined, handle: () => Omit<DebugHandle, 'history'>, log: Log) {
  let history: DebugRecord[] | undefined;
  let requested = false;
  return {
    /** Keeps `record` for the overlay, once debugging has been on. */
    _record(record: DebugRecord) {
      if (history && history.push(record) > MAX_HISTORY) history.shift();
    },
    _open() {
      history ||= [];
      if (requested || !src) return;
      requested = true;
      const mount = () => (window as { microconvOverlay?: { mount(handle: DebugHandle): void } }).microconvOverlay?.mount({ ...handle(), history: history! });
      safe(log, 'overlay', () => loadScript(src, () => safe(log, 'overlay', mount)));
    },
  };
}

/**
 * The `microconv/vitals` entry: one `web_vitals` event per page view with LCP, INP and CLS, so that
 * micro-conversion rates can be read against page experience. Built on web-vitals, in its own file so
 * the core bundle does not grow for those who do not use it.
 */
import { onCLS, onINP, onLCP, type Metric } from 'web-vitals';

/** Anything that can track (and flush): an instance, or the script tag's `window.microconv`. */
export interface Tracks {
  track(name: string, params?: Record<string, number>): unknown;
  flush?(): unknown;
}

/**
 * Sends one `web_vitals` event (`lcp` and `inp` in ms, `cls` unitless) when the page is first hidden or
 * left. Returns the teardown of its own listeners (web-vitals keeps its observers for the page's life).
 *
 * @example
 * import { init } from 'microconv';
 * import { trackVitals } from 'microconv/vitals';
 * trackVitals(init({ endpoint: '/collect' }));
 */
export function trackVitals(instance: Tracks): () => void {
  const values: Record<string, number> = {};
  const keep = (key: string, digits: number) => (metric: Metric) => (values[key] = +metric.value.toFixed(digits));
  // Every change, so that the values are current at any moment: leaving a page, Chromium fires pagehide
  // before visibilitychange, and web-vitals reports its final values only at the latter.
  const always = { reportAllChanges: true };
  onLCP(keep('lcp', 0), always);
  onINP(keep('inp', 0), always);
  onCLS(keep('cls', 3), always);
  // A tab hidden: in the bubble phase, after web-vitals' capture listeners have reported every value
  // (INP's last interaction is worked out only then), and sent at once, for a hidden tab may never be
  // shown, or left, again. A page left: at pagehide, which comes first, so that the core's beacons of
  // that pagehide or of the visibilitychange after it carry the event.
  const listeners: [string, boolean][] = [
    ['visibilitychange', false],
    ['pagehide', true],
  ];
  const listen = (method: 'addEventListener' | 'removeEventListener') => listeners.forEach(([type, capture]) => window[method](type, hidden, capture));
  const hidden = (event: Event) => {
    if ((event.type !== 'pagehide' && document.visibilityState !== 'hidden') || !Object.keys(values).length) return;
    listen('removeEventListener');
    instance.track('web_vitals', { ...values });
    if (event.type !== 'pagehide') instance.flush?.();
  };
  listen('addEventListener');
  return () => listen('removeEventListener');
}

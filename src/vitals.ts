/**
 * The `microconv/vitals` entry: one `web_vitals` event per page view with LCP, INP and CLS, so that
 * micro-conversion rates can be read against page experience. Built on web-vitals, in its own file so
 * the core bundle does not grow for those who do not use it.
 */
import { onCLS, onINP, onLCP, type Metric } from 'web-vitals';

/** Anything that can track: an instance, or the script tag's `window.microconv`. */
export interface Tracks {
  track(name: string, params?: Record<string, number>): unknown;
}

/**
 * Sends one `web_vitals` event (`lcp` and `inp` in ms, `cls` unitless) when the page is first hidden.
 * Returns the teardown of its own listener (web-vitals keeps its observers for the page's life).
 *
 * @example
 * import { init } from 'microconv';
 * import { trackVitals } from 'microconv/vitals';
 * trackVitals(init({ endpoint: '/collect' }));
 */
export function trackVitals(instance: Tracks): () => void {
  const values: Record<string, number> = {};
  const keep = (key: string, digits: number) => (metric: Metric) => (values[key] = +metric.value.toFixed(digits));
  onLCP(keep('lcp', 0));
  onINP(keep('inp', 0));
  onCLS(keep('cls', 3));
  // web-vitals reports from capture-phase listeners on window; this one listens in the bubble phase,
  // so it runs after them, with every value of this hide in hand. The core's pagehide beacon carries it.
  const hidden = () => {
    if (document.visibilityState !== 'hidden' || !Object.keys(values).length) return;
    removeEventListener('visibilitychange', hidden);
    instance.track('web_vitals', { ...values });
  };
  addEventListener('visibilitychange', hidden);
  return () => removeEventListener('visibilitychange', hidden);
}

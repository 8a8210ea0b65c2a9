import type { Adapter, MicroconvEvent } from '../types';
import { deliveryError, isRetryableStatus, parseRetryAfter } from '../core/backoff';

/** The wire format's version (contract 5). */
export const WIRE_VERSION = 1;

/** The wire payload: what `POST` carries, as `text/plain` JSON. */
export const payload = (events: MicroconvEvent[]) =>
  JSON.stringify({ v: WIRE_VERSION, sent_at: new Date().toISOString(), events });

/**
 * The first-party collector. `text/plain` keeps the request simple (no CORS preflight). While the page
 * lives, `fetch` with `keepalive` (so a request outlives a page that closes meanwhile), reading the
 * status for the retry rules; when the page is hidden or left, `sendBeacon`, and keepalive `fetch` where
 * the beacon is missing or refused (over its quota).
 *
 * @example init({ adapters: [endpointAdapter('https://example.com/collect')] })
 */
export function endpointAdapter(url: string): Adapter {
  return {
    name: 'endpoint',
    consent: ['analytics_storage'],
    persistKey: 'endpoint:' + url,
    send(events, { leaving }) {
      const body = payload(events);
      if (leaving && navigator.sendBeacon?.(url, body)) return;
      return fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', mode: 'cors' }).then(
        (response) => {
          if (response.ok) return;
          const status = response.status;
          throw deliveryError('http_' + status, isRetryableStatus(status), parseRetryAfter(response.headers.get('Retry-After')));
        },
        // No answer at all: offline, DNS, a blocker, the keepalive quota.
        () => {
          throw deliveryError('network', true);
        },
      );
    },
  };
}

import type { Adapter, AdapterPart, MicroconvEvent, SendResult } from '../types';
import { deliveryError, isRetryableStatus, parseRetryAfter } from '../core/backoff';
import { toJson } from '../lib/json';
import { hashed, withIdentity } from '../lib/ids';

/** The wire format's version (contract 5). */
export const WIRE_VERSION = 1;

/** The wire payload: what `POST` carries, as `text/plain` JSON. */
export const payload = (events: MicroconvEvent[]) => toJson({ v: WIRE_VERSION, sent_at: new Date().toISOString(), events: events.map(withIdentity) });

/**
 * The first-party collector. `text/plain` keeps the request simple (no CORS preflight). While the page
 * lives: `fetch` with `keepalive` (so a request outlives a page that closes meanwhile), reading the
 * status for the retry rules, and the body of a 2xx for the events the collector refused for good
 * (`{ "rejected": [...] }`, contract 4; the outbox ignores any other answer). When the page is hidden or left: `sendBeacon`; where it is missing or
 * refuses, `fetch` with `keepalive`. Neither answer can be read then, so either counts as sent; the
 * outbox hands over only what fits the browser's budget for such requests, and keeps the rest.
 *
 * @example init({ adapters: [endpointAdapter('https://example.com/collect')] })
 */
export function endpointAdapter(url: string): Adapter {
  // The page's URL goes in the payload, redacted; as a Referer header it would go whole (a GET form's
  // typed values with it), so only the origin is sent there ('no-referrer' would make the Origin null).
  const post = () => ({ method: 'POST', keepalive: true, credentials: 'omit', mode: 'cors', referrerPolicy: 'strict-origin' }) as const;
  return {
    name: 'endpoint',
    consent: ['analytics_storage'],
    persistKey: 'endpoint:' + url,
    send(events, { leaving }) {
      if (leaving) {
        const body = payload(events);
        if (!navigator.sendBeacon?.(url, body)) fetch(url, { ...post(), body }).catch(() => {});
        return;
      }
      // While the page lives, the hashes of identify() are waited for (a few ms): the raw values go only where hashing is impossible.
      return hashed(events).then(() => fetch(url, { ...post(), body: payload(events) })).then(
        (response): Promise<SendResult | undefined> => {
          const status = response.status;
          if (!response.ok) throw deliveryError('http_' + status, isRetryableStatus(status), parseRetryAfter(response.headers.get('Retry-After')));
          // A 204, an empty body or one that is not JSON: everything was stored.
          return response.json().catch(() => undefined);
        },
        // No answer at all: offline, DNS, a blocker, the keepalive quota.
        () => {
          throw deliveryError('network', true);
        },
      );
    },
  };
}

/** The endpoint as a part: `adapters: ['endpoint']`, to the URL of the `endpoint` option. */
export const endpointPart: AdapterPart<{}> = {
  kind: 'adapter',
  name: 'endpoint',
  options: {},
  create(_, endpoint) {
    if (!endpoint) throw 'the endpoint adapter needs the endpoint option (the collector URL)';
    return endpointAdapter(endpoint);
  },
};

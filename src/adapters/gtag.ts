import type { Adapter, AdapterPart, GtagOptions, MicroconvEvent } from '../types';
import { deliveryError } from '../core/backoff';
import { cut } from '../lib/cut';
import { mapOf, ms, own, text } from '../lib/validate';
import { VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

/** What the registry knows of the gtag adapter before its code comes: its options, consent and delivery. */
export const gtagDescriptor = {
  kind: 'adapter',
  name: 'gtag',
  options: { send_to: text, names: mapOf(text), waitMs: ms, consentMode: (mode) => mode === 'basic' || mode === 'advanced' },
  // Advanced consent mode: gtag itself holds what consent forbids (cookieless pings), so nothing waits here.
  consent: ({ consentMode }: GtagOptions) => (consentMode === 'advanced' ? [] : ['analytics_storage']),
  immediate: true,
} satisfies AdapterPart<GtagOptions>;

/** GA4's reserved web event names: GA4 refuses them, so they are not sent. */
export const GA4_RESERVED_EVENTS = /* @__PURE__ */ (
  'ad_impression app_remove app_store_refund app_store_subscription_cancel app_store_subscription_renew click error ' +
  'file_download first_open first_visit form_start form_submit in_app_purchase page_view scroll session_start ' +
  'user_engagement view_complete video_complete video_progress video_start view_search_results'
).split(' ');
/** GA4's reserved parameter names and prefixes. */
export const GA4_RESERVED_PARAMS = ['engagement_time_msec', 'gclid', 'session_id', 'session_number'];
const RESERVED_PREFIX = /^(_|firebase_|ga_|google_|gtag\.)/;
export const GA4_MAX_PARAMS = 25;
const MAX_NAME = 40;
const MAX_VALUE = 100;

/**
 * The parameters GA4 will take: `event_id` first (for deduplication), then the event's own, without
 * reserved or over-long names, at most 25 in all, string values cut to 100 characters (on a character boundary). `note` is told
 * of every cut.
 */
export function ga4Params(event: MicroconvEvent, note: (reason: string, detail: string) => void): Record<string, unknown> {
  const params: Record<string, unknown> = { event_id: event.event_id };
  let count = 1;
  for (const [key, value] of Object.entries(event.params)) {
    // `event_id` is the event's own, the key that deduplicates it across destinations.
    if (key === 'event_id' || GA4_RESERVED_PARAMS.includes(key) || RESERVED_PREFIX.test(key) || key.length > MAX_NAME) note('ga4_param_refused', `${event.name}: parameter ${key} is reserved or over ${MAX_NAME} characters`);
    else if (count >= GA4_MAX_PARAMS) note('ga4_param_over_limit', `${event.name}: parameter ${key} is over GA4's ${GA4_MAX_PARAMS}`);
    else {
      count++;
      const long = typeof value === 'string' && value.length > MAX_VALUE;
      if (long) note('ga4_value_cut', `${event.name}: ${key} cut to ${MAX_VALUE} characters`);
      params[key] = long ? cut(value, MAX_VALUE) : value;
    }
  }
  return params;
}

/**
 * Google Analytics 4 through `gtag('event', name, params)`, with `event_id` among the params and GA4's
 * rules applied first. Where `gtag` is missing but `dataLayer` exists, it pushes what gtag would: an
 * `arguments` object, which is what gtag.js reads from the dataLayer.
 *
 * @example init({ adapters: ['endpoint', 'gtag'], gtag: { send_to: 'G-XXXXXXX' } })
 */
export function gtagAdapter({ send_to, names = {}, waitMs = VENDOR_WAIT_MS, consentMode }: GtagOptions = {}): Adapter {
  const gtagOrDataLayer = vendorGlobal(
    () => {
      const { gtag, dataLayer } = globals();
      return typeof gtag === 'function'
        ? gtag
        : dataLayer?.push &&
            function () {
              // eslint-disable-next-line prefer-rest-params
              dataLayer.push(arguments);
            };
    },
    waitMs,
    'gtag_missing',
  );
  return {
    name: gtagDescriptor.name,
    consent: gtagDescriptor.consent({ consentMode }),
    immediate: true,
    send([event], { note }) {
      const name = (own(names, event!.name) && names[event!.name]) || event!.name;
      if (GA4_RESERVED_EVENTS.includes(name) || RESERVED_PREFIX.test(name) || !/^[a-zA-Z]\w{0,39}$/.test(name)) throw deliveryError('ga4_reserved_name', false);
      const params = ga4Params(event!, note);
      if (send_to) params.send_to = send_to;
      const call = (gtag: (...args: unknown[]) => void) => void gtag('event', name, params);
      const gtag = gtagOrDataLayer();
      return typeof gtag === 'function' ? call(gtag) : gtag.then(call);
    },
  };
}

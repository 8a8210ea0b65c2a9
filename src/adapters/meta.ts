import type { Adapter, MicroconvEvent } from '../types';
import { own } from '../lib/validate';
import { VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

/** An event's Meta standard event, by name or by a function of the event (undefined: send it as custom). */
export type MetaMapping = Record<string, string | ((event: MicroconvEvent) => string | undefined)>;

export interface MetaOptions {
  /** Sends these as Meta standard events; `'standard'` uses `META_STANDARD_EVENTS`. */
  events?: MetaMapping | 'standard';
  /** How long to wait for `fbq` to exist, in ms. Default 5000. */
  waitMs?: number;
}

/** A sensible mapping of the canonical micro-conversions to Meta standard events. */
export const META_STANDARD_EVENTS: MetaMapping = {
  form_complete: 'Lead',
  generate_lead: 'Lead',
  purchase: 'Purchase',
  sign_up: 'CompleteRegistration',
  cta_click: (event) => (/^(tel|mailto)$/.test(String(event.params.link_type)) ? 'Contact' : undefined),
};

/**
 * The Meta Pixel through `fbq('trackCustom', name, params, { eventID })`, or `fbq('track', Standard, …)`
 * for mapped events, always with the event's id as `eventID`, so that Conversions API events sent with
 * the same id deduplicate against these.
 *
 * @example init({ adapters: ['endpoint', 'meta'], meta: { events: 'standard' } })
 */
export function metaAdapter({ events, waitMs = VENDOR_WAIT_MS }: MetaOptions = {}): Adapter {
  const mapping = events === 'standard' ? META_STANDARD_EVENTS : events || {};
  const pixel = vendorGlobal(() => (typeof globals().fbq === 'function' ? globals().fbq : undefined), waitMs, 'fbq_missing');
  return {
    name: 'meta',
    consent: ['ad_storage', 'ad_user_data', 'ad_personalization'],
    immediate: true,
    send([event]) {
      // Own keys only: `constructor` is a valid event name, and Object.prototype has one.
      const rule = own(mapping, event!.name) ? mapping[event!.name] : undefined;
      const standard = typeof rule === 'function' ? rule(event!) : rule;
      const call = (fbq: (...args: unknown[]) => void) =>
        void fbq(standard ? 'track' : 'trackCustom', standard || event!.name, { ...event!.params }, { eventID: event!.event_id });
      const fbq = pixel();
      return typeof fbq === 'function' ? call(fbq) : fbq.then(call);
    },
  };
}

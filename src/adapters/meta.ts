import type { Adapter, AdapterPart, MetaMapping, MetaOptions } from '../types';
import { mapOf, ms, own, text } from '../lib/validate';
import { AD_PURPOSES, VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

export type { MetaMapping, MetaOptions };

/** What the registry knows of the Meta adapter before its code comes: its options, consent and delivery. */
export const metaDescriptor = {
  kind: 'adapter',
  name: 'meta',
  options: { events: (events) => events === 'standard' || mapOf((mapped) => text(mapped) || typeof mapped === 'function')(events), waitMs: ms },
  consent: AD_PURPOSES,
  immediate: true,
} satisfies AdapterPart<MetaOptions>;

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
    name: metaDescriptor.name,
    consent: AD_PURPOSES,
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

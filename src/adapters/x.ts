import type { Adapter, AdapterPart, XOptions } from '../types';
import { deliveryError } from '../core/backoff';
import { mapOf, ms } from '../lib/validate';
import { AD_PURPOSES, VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

/** What the registry knows of the X adapter before its code comes: its options, consent and delivery. */
export const xDescriptor = {
  kind: 'adapter',
  name: 'x',
  options: { events: mapOf((id) => typeof id === 'string' && /^tw-\w+-\w+$/.test(id)), waitMs: ms },
  consent: AD_PURPOSES,
  immediate: true,
} satisfies AdapterPart<XOptions>;

type Twq = (command: 'event', id: string, params: object) => void;

/**
 * The X (Twitter) pixel through `twq('event', id, params)`: `id` is the event set up in X Ads Manager
 * (`tw-xxxxx-yyyyy`) that the `events` option names for the event, and the event's `event_id` goes as
 * the `conversion_id` parameter, which X uses to deduplicate a Conversions API copy. An event without an
 * X event id is refused (`x_unmapped`).
 *
 * @example init({ adapters: ['endpoint', 'x'], x: { events: { form_complete: 'tw-o1b2c-o3d4e' } } })
 */
export function xAdapter({ events = {}, waitMs = VENDOR_WAIT_MS }: XOptions = {}): Adapter {
  const pixel = vendorGlobal<Twq>(() => (typeof globals().twq === 'function' ? globals().twq : undefined), waitMs, 'twq_missing');
  return {
    name: xDescriptor.name,
    consent: AD_PURPOSES,
    immediate: true,
    send([event]) {
      const id = events[event!.name];
      if (!id) throw deliveryError('x_unmapped', false);
      // conversion_id last, so that no parameter can overwrite it.
      const call = (twq: Twq) => twq('event', id, { ...event!.params, conversion_id: event!.event_id });
      const twq = pixel();
      return twq instanceof Promise ? twq.then(call) : call(twq);
    },
  };
}

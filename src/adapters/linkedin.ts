import type { Adapter, AdapterPart, LinkedinOptions } from '../types';
import { deliveryError } from '../core/backoff';
import { mapOf, ms } from '../lib/validate';
import { AD_PURPOSES, VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

/** What the registry knows of the LinkedIn adapter before its code comes: its options, consent and delivery. */
export const linkedinDescriptor = {
  kind: 'adapter',
  name: 'linkedin',
  options: { conversions: mapOf((id) => (typeof id === 'number' && id > 0) || (typeof id === 'string' && /^\d+$/.test(id))), waitMs: ms },
  consent: AD_PURPOSES,
  immediate: true,
} satisfies AdapterPart<LinkedinOptions>;

type Lintrk = (command: 'track', data: { conversion_id: number; event_id: string }) => void;

/**
 * The LinkedIn Insight Tag through `lintrk('track', { conversion_id, event_id })`. LinkedIn counts
 * conversions set up in Campaign Manager, not free-form events: the `conversions` option names the
 * conversion of each event to send, and an event without one is refused (`linkedin_unmapped`). The
 * `event_id` lets the Conversions API deduplicate a server-side copy against it.
 *
 * @example init({ adapters: ['endpoint', 'linkedin'], linkedin: { conversions: { form_complete: 1234567 } } })
 */
export function linkedinAdapter({ conversions = {}, waitMs = VENDOR_WAIT_MS }: LinkedinOptions = {}): Adapter {
  const tag = vendorGlobal<Lintrk>(() => (typeof globals().lintrk === 'function' ? globals().lintrk : undefined), waitMs, 'lintrk_missing');
  return {
    name: linkedinDescriptor.name,
    consent: AD_PURPOSES,
    immediate: true,
    send([event]) {
      const conversion = conversions[event!.name];
      if (conversion === undefined) throw deliveryError('linkedin_unmapped', false);
      const call = (lintrk: Lintrk) => lintrk('track', { conversion_id: Number(conversion), event_id: event!.event_id });
      const lintrk = tag();
      return lintrk instanceof Promise ? lintrk.then(call) : call(lintrk);
    },
  };
}

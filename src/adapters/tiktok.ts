import type { Adapter, AdapterPart, TiktokOptions } from '../types';
import { mapOf, ms, text } from '../lib/validate';
import { AD_PURPOSES, VENDOR_WAIT_MS, globals, vendorGlobal } from './vendor';

/** What the registry knows of the TikTok adapter before its code comes: its options, consent and delivery. */
export const tiktokDescriptor = {
  kind: 'adapter',
  name: 'tiktok',
  options: { events: mapOf(text), waitMs: ms },
  consent: AD_PURPOSES,
  immediate: true,
} satisfies AdapterPart<TiktokOptions>;

type Ttq = { track(event: string, params: object, options: { event_id: string }): void };

/**
 * The TikTok Pixel through `ttq.track(event, params, { event_id })`: by the event's own name, or as the
 * TikTok standard event the `events` option maps it to. The `event_id` is the one the collector gets, so
 * that the Events API deduplicates a server-side copy against it.
 *
 * @example init({ adapters: ['endpoint', 'tiktok'], tiktok: { events: { form_complete: 'SubmitForm' } } })
 */
export function tiktokAdapter({ events = {}, waitMs = VENDOR_WAIT_MS }: TiktokOptions = {}): Adapter {
  // The base code makes `ttq` an array whose methods queue their calls until the pixel loads.
  const pixel = vendorGlobal<Ttq>(() => (typeof globals().ttq?.track === 'function' ? globals().ttq : undefined), waitMs, 'ttq_missing');
  return {
    name: tiktokDescriptor.name,
    consent: AD_PURPOSES,
    immediate: true,
    send([event]) {
      const call = (ttq: Ttq) => ttq.track(events[event!.name] || event!.name, { ...event!.params }, { event_id: event!.event_id });
      const ttq = pixel();
      return ttq instanceof Promise ? ttq.then(call) : call(ttq);
    },
  };
}

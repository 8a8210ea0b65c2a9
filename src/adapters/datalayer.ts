import type { Adapter, AdapterPart, DataLayerOptions } from '../types';
import { text } from '../lib/validate';
import { globals } from './vendor';

/** What the registry knows of the dataLayer adapter before its code comes: its options, consent and delivery. */
export const dataLayerDescriptor = {
  kind: 'adapter',
  name: 'datalayer',
  options: { name: text },
  consent: ['analytics_storage'],
  immediate: true,
} satisfies AdapterPart<DataLayerOptions>;

/**
 * Google Tag Manager: `dataLayer.push({ event, event_id, ...params })`. The array is created if the
 * container has not loaded yet, exactly as GTM's own snippet does; GTM reads it when it arrives.
 *
 * @example init({ adapters: ['endpoint', 'datalayer'] })
 */
export function dataLayerAdapter({ name = 'dataLayer' }: DataLayerOptions = {}): Adapter {
  return {
    name: dataLayerDescriptor.name,
    consent: dataLayerDescriptor.consent,
    immediate: true,
    send([event]) {
      // `event` and `event_id` last, so that no parameter can overwrite them.
      (globals()[name] ||= []).push({ ...event!.params, event: event!.name, event_id: event!.event_id });
    },
  };
}

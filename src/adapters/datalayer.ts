import type { Adapter } from '../types';
import { globals } from './vendor';

export interface DataLayerOptions {
  /** The name of the data layer array. Default `dataLayer`. */
  name?: string;
}

/**
 * Google Tag Manager: `dataLayer.push({ event, event_id, ...params })`. The array is created if the
 * container has not loaded yet, exactly as GTM's own snippet does; GTM reads it when it arrives.
 *
 * @example init({ adapters: ['endpoint', 'datalayer'] })
 */
export function dataLayerAdapter({ name = 'dataLayer' }: DataLayerOptions = {}): Adapter {
  return {
    name: 'datalayer',
    consent: ['analytics_storage'],
    immediate: true,
    send([event]) {
      // `event` and `event_id` last, so that no parameter can overwrite them.
      (globals()[name] ||= []).push({ ...event!.params, event: event!.name, event_id: event!.event_id });
    },
  };
}

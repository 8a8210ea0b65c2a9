/**
 * The `microconv/debug` entry: what an instance emits and where it went, as it happens. The core never
 * imports this file; it is loaded only when debugging is on.
 */
import type { Instance } from './types';

/**
 * Logs every event and every delivery result of `instance` to the console; returns the teardown.
 *
 * @example
 * import { logDeliveries } from 'microconv/debug';
 * const stop = logDeliveries(instance);
 */
export function logDeliveries(instance: Instance<any>): () => void {
  const stops = [
    instance.on('event', (event) => console.log(`[microconv] ${event.name}`, event.params)),
    instance.on('delivery', (report) =>
      console.log(`[microconv] ${report.adapter}: ${report.status}${report.reason ? ` (${report.reason})` : ''}`, report.event_ids),
    ),
  ];
  return () => stops.forEach((stop) => stop());
}

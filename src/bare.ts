/**
 * `microconv/core`: the core alone, with no part registered. An app names the parts it uses in the
 * `parts` option, and its bundler leaves out every other one.
 *
 * @example
 * import { init, endpointPart, clicksPart } from 'microconv/core';
 * const mc = init({ endpoint: '/collect', parts: [endpointPart, clicksPart] });
 */
import type { CanonicalEvents, EventMap, Instance, Options } from './types';
import { init as start } from './core/instance';

/** Starts microconv with the parts of the `parts` option only; see `init` of `microconv`. */
export function init<Custom extends EventMap = {}>(options?: Options): Instance<CanonicalEvents & Custom> {
  return start<Custom>(options);
}

export * from './parts';
export { endpointAdapter } from './adapters/endpoint';
export { gtagAdapter, GA4_RESERVED_EVENTS, GA4_RESERVED_PARAMS } from './adapters/gtag';
export { metaAdapter, META_STANDARD_EVENTS } from './adapters/meta';
export { dataLayerAdapter } from './adapters/datalayer';
export { deliveryError, isRetryableStatus, parseRetryAfter, backoffDelay } from './core/backoff';
export type * from './types';

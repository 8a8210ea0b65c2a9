/**
 * `microconv`: the core with every built-in part registered, so that `adapters: ['gtag']` and every
 * tracker work by name. `microconv/core` is the same core with none: an app registers what it uses.
 */
import type { CanonicalEvents, EventMap, Instance, Options, Part } from './types';
import { init as start } from './core/instance';
import { followGtagConsent } from './consent/consent-mode';
import { followTcfConsent } from './consent/tcf';
import * as builtIns from './parts';

// An app's bundle holds the consent sources anyway: they follow from init on, not a tick later. (A
// later part of the same name replaces the lazy one.)
const parts = [
  ...(Object.values(builtIns) as Part[]),
  { kind: 'consent', name: 'gtag', follow: followGtagConsent },
  { kind: 'consent', name: 'tcf', follow: followTcfConsent },
] satisfies Part[];

/**
 * Starts microconv and returns its instance. Every option is optional; a bad one throws a `TypeError`
 * that says what is wrong (with `errors: 'log'`, it is logged, counted and left out).
 *
 * @example
 * const mc = init({ endpoint: '/collect', adapters: ['endpoint', 'gtag'] });
 * mc.track('purchase', { value: 49, currency: 'EUR' });
 */
export function init<Custom extends EventMap = {}>(options?: Options): Instance<CanonicalEvents & Custom> {
  return start<Custom>(options, parts);
}

export * from './parts';
export { endpointAdapter } from './adapters/endpoint';
export { gtagAdapter, GA4_RESERVED_EVENTS, GA4_RESERVED_PARAMS } from './adapters/gtag';
export { metaAdapter, META_STANDARD_EVENTS } from './adapters/meta';
export { dataLayerAdapter } from './adapters/datalayer';
export { deliveryError, isRetryableStatus, parseRetryAfter, backoffDelay } from './core/backoff';
export type * from './types';

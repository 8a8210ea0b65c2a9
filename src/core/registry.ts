/**
 * The registry: the parts (trackers and adapters) an instance may use, as its entry registered them
 * (`microconv` and the script tag: every built-in one; `microconv/core`: none) and its `parts` option
 * added. The core knows parts only through here: their names, their option tests, and how to start or
 * build each. See the README, "Parts: how microconv is put together".
 */
import type { Adapter, AdapterPart, ConsentPart, OptionTests, Part, TrackerPart } from '../types';
import { describe } from '../lib/safe';
import { deliveryError } from './backoff';

export interface Registry {
  /** Adapter parts by name. */
  adapters: Record<string, AdapterPart>;
  /** Tracker parts, in the order they were registered. */
  trackers: TrackerPart[];
  /** Every key of `options.trackers` a part reads, with the tests of its options. */
  trackerKeys: Record<string, OptionTests>;
  /** The site's consent tools that `consent: 'name'` can follow, by name. */
  consents: Record<string, ConsentPart>;
}

/** The parts by kind; a later part of the same name replaces an earlier one (a site's own `gtag`, say). */
export function createRegistry(parts: Part[]): Registry {
  const registry: Registry = { adapters: {}, trackers: [], trackerKeys: {}, consents: {} };
  for (const part of parts) {
    if (part.kind === 'adapter') registry.adapters[part.name] = part;
    else if (part.kind === 'consent') registry.consents[part.name] = part;
    else registry.trackers.push(part), Object.assign(registry.trackerKeys, part.keys);
  }
  return registry;
}

/** Whether `value` is a part: an adapter or consent part with a name, or a tracker part with keys; and a way to start or build it. */
export const isPart = (value: any): value is Part =>
  !!value &&
  (value.kind === 'adapter' || value.kind === 'consent' ? typeof value.name === 'string' : value.kind === 'tracker' && !!value.keys && typeof value.keys === 'object') &&
  typeof (value.start || value.create || value.follow || value.load) === 'function';

/**
 * The adapter of `part`. One that must be fetched first is a stand-in with the part's name, consent and
 * delivery mode, so that its queue exists, and holds events in order, from the start: its sends wait for
 * the code (bounded by the queue's send timeout); if the code cannot come (a 404, a blocker, the CSP),
 * each event fails for good, counted as `part_unavailable`.
 */
export function adapterOf(part: AdapterPart, options: unknown, endpoint: string | undefined, onError: (message: string) => void): Adapter {
  if (part.create) return part.create(options, endpoint);
  let adapter: Adapter | undefined;
  const ready = part.load!()
    .then((create) => void (adapter = create(options)))
    .catch((error) => {
      onError(`the ${part.name} adapter is unavailable (${describe(error)}): its events are dropped`);
      throw deliveryError('part_unavailable', false);
    });
  ready.catch(() => {}); // the sends hear of it
  return {
    name: part.name,
    consent: typeof part.consent === 'function' ? part.consent(options || {}) : part.consent,
    immediate: part.immediate,
    send: (events, context) => (adapter ? adapter.send(events, context) : ready.then(() => adapter!.send(events, context))),
    destroy: () => adapter?.destroy?.(),
  };
}

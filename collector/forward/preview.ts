import type { Purpose } from '../../src/types';
import type { ReportPlan } from '../plan';
import { EVENT_NAME } from '../validate';
import type { Destination } from './destination';
import type { GateDecision } from './gate';
import type { DestinationName } from './types';

/** The names the overlay shows: short, as a list of places an event goes. */
export const SHORT_LABEL: Record<DestinationName, string> = { meta: 'Meta', google_ads: 'Google Ads', ga4: 'GA4' };

/** The most names one `GET /forwarding` may ask about: an overlay asks for the few a page tracks. */
export const MAX_PREVIEW_NAMES = 100;

/**
 * The answer of `GET /forwarding`: what the gate decides now, per event name and destination, with
 * the reason. Consent is not in it: that is decided per event, by the consent it was tracked under,
 * and `destinations[].consent` says what each destination needs.
 */
export interface ForwardingPreview {
  forwarding: true;
  destinations: Array<{ destination: DestinationName; label: string; mode: 'live' | 'test' | 'file' | 'dry_run'; consent: Purpose[] }>;
  events: Record<string, Array<{ destination: DestinationName; forwarded: boolean; why: string }>>;
  /** Printed, not sent (`forward.dryRun`). */
  dryRun: boolean;
  /** Some destination is in its platform's test mode (validated there, not recorded). */
  testMode: boolean;
  /** When the gate last read the report's verdicts (ISO 8601). */
  gateReadAt: string;
}

/**
 * The event names one request asks about (`?name=a&name=b` or `?name=a,b`), kept to event names and
 * to `MAX_PREVIEW_NAMES`: the rest are ignored, so a stray query costs nothing.
 */
export function askedNames(search: URLSearchParams): string[] {
  const names = search.getAll('name').flatMap((value) => value.split(','));
  return [...new Set(names.filter((name) => EVENT_NAME.test(name)))].slice(0, MAX_PREVIEW_NAMES);
}

/**
 * The preview from the forwarder's own decisions (the functions `enqueue` uses, not a copy of the
 * rule) for every name the collector knows (the plan, the report's signals, the send lists) and the
 * names asked about.
 */
export function forwardingPreview(
  destinations: ReadonlyMap<DestinationName, Destination>,
  decisions: ReadonlyMap<DestinationName, (name: string) => GateDecision>,
  known: { plan: ReportPlan; signals: readonly string[]; asked: readonly string[] },
  context: { dryRun: boolean; readAt: number },
): ForwardingPreview {
  const sendLists = [...destinations.values()].flatMap((destination) => (Array.isArray(destination.send) ? destination.send : []));
  const names = new Set([...known.plan.macro, ...known.plan.stages.flatMap((stage) => stage.events), ...known.signals, ...sendLists, ...known.asked]);
  const modes = [...destinations.values()].map((destination) => destination.mode);
  return {
    forwarding: true,
    destinations: [...destinations.values()].map((destination) => ({
      destination: destination.name,
      label: SHORT_LABEL[destination.name],
      mode: context.dryRun ? 'dry_run' : destination.mode,
      consent: [...destination.purposes],
    })),
    events: Object.fromEntries([...names].map((name) => [name, [...destinations.keys()].map((destination) => ({ destination, ...decisions.get(destination)!(name) }))])),
    dryRun: context.dryRun,
    testMode: modes.includes('test'),
    gateReadAt: new Date(context.readAt).toISOString(),
  };
}

import type { Purpose } from '../../src/types';
import type { Report } from '../report';
import type { DestinationName, ForwardableEvent, SendRule } from './types';

/** Whether one event name goes to one destination, and why: the report page shows these words. */
export interface GateDecision {
  forwarded: boolean;
  why: string;
}

/** What a destination cannot take, whatever the gate says (no conversion action, a reserved name): the reason, or null. */
export type Unsupported = (name: string) => string | null;

/** The verdict of "associated with more conversion" (stats.ts `VerdictKind`): the only one that opens the gate. */
const MORE = 'more';

/**
 * The gate (issue 12, deliverable 3): which event names a destination gets, decided by the plan's
 * macro conversions and the report's verdicts.
 * - `'validated'` (the default): the macro conversions, and the micro-conversions whose verdict is
 *   "associated with more conversion". A signal the data cannot yet judge, or that goes with *less*
 *   conversion, would teach the bidding the wrong thing: it waits.
 * - `'all'`: every event name; a list: exactly those names.
 * A destination's own limits come first: no gate can send what it cannot take.
 */
export function gate(report: Pick<Report, 'macro' | 'signals'>, rule: SendRule = 'validated', unsupported: Unsupported = () => null): (name: string) => GateDecision {
  const verdicts = new Map(report.signals.map((signal) => [signal.signal, signal]));
  const macro = new Set(report.macro);
  return (name) => {
    const limit = unsupported(name);
    if (limit) return { forwarded: false, why: limit };
    if (rule === 'all') return { forwarded: true, why: 'send: all' };
    if (Array.isArray(rule)) return rule.includes(name) ? { forwarded: true, why: 'in the send list' } : { forwarded: false, why: 'not in the send list' };
    if (macro.has(name)) return { forwarded: true, why: 'macro conversion' };
    const signal = verdicts.get(name);
    if (!signal) return { forwarded: false, why: 'no verdict yet: not in the report' };
    if (signal.verdict === MORE) return { forwarded: true, why: 'associated with more conversion' };
    if (signal.verdict === 'less') return { forwarded: false, why: 'associated with less conversion' };
    return { forwarded: false, why: 'not enough data yet to tell' };
  };
}

/**
 * The consent purposes each destination needs, granted in the consent the event was tracked under:
 * - Meta: the three ad purposes, as the browser's Meta Pixel adapter (contract 5);
 * - Google Ads: `ad_storage` (the click id was kept on the device for ads) and `ad_user_data`
 *   (user data sent to Google for advertising), the purpose Google checks on uploads;
 * - GA4: `analytics_storage`, as the gtag adapter.
 */
export const DESTINATION_PURPOSES: Record<DestinationName, Purpose[]> = {
  meta: ['ad_storage', 'ad_user_data', 'ad_personalization'],
  google_ads: ['ad_storage', 'ad_user_data'],
  ga4: ['analytics_storage'],
};

/**
 * Why the event's consent does not allow the destination, or null when it does. An event without a
 * consent record came from a client that did not send one: it reached the collector through the
 * endpoint adapter, which needs `analytics_storage`, so that purpose is implied; nothing else is.
 */
export function consentGap(event: ForwardableEvent, purposes: readonly Purpose[]): string | null {
  const recorded = event.consent && typeof event.consent === 'object' ? event.consent : null;
  for (const purpose of purposes) {
    const state = recorded?.[purpose] ?? (purpose === 'analytics_storage' ? 'granted' : undefined);
    if (state !== 'granted') return `consent: ${purpose} ${state ?? 'not recorded'}`;
  }
  return null;
}

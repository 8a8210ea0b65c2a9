/**
 * An instance whose adapters show its consent: one recording adapter per Consent Mode purpose, each
 * needing that purpose alone, so an event tracked now is sent (granted), held (pending) or dropped
 * (denied) by each.
 */
import { init } from '../../src';
import type { ConsentState, ConsentValue, DeliveryReport, Options, Purpose } from '../../src/types';

export const PURPOSES: Purpose[] = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'];

/** All four purposes at one value. */
export const all = (value: ConsentValue): ConsentState => ({ analytics_storage: value, ad_storage: value, ad_user_data: value, ad_personalization: value });

const WORDS: Record<string, ConsentValue> = { sent: 'granted', held: 'pending', dropped: 'denied' };

export function purposeProbe(options: Options = {}) {
  const sent: Partial<Record<Purpose, string[]>> = {};
  const adapters = PURPOSES.map((purpose) => ({ name: purpose, consent: [purpose], send: (events: { name: string }[]) => void (sent[purpose] ||= []).push(...events.map((event) => event.name)) }));
  const mc = init({ adapters, ...options });
  const reports: DeliveryReport[] = [];
  mc.on('delivery', (report) => reports.push(report));
  /** The consent each purpose has now, read from what the adapters do with an event tracked now. */
  const state = async (): Promise<ConsentState> => {
    const id = mc.track('probe');
    await mc.flush();
    const last = (purpose: Purpose) => reports.filter((report) => report.adapter === purpose && report.event_ids.includes(id)).at(-1)?.status;
    return Object.fromEntries(PURPOSES.map((purpose) => [purpose, WORDS[last(purpose)!] || last(purpose)])) as ConsentState;
  };
  return { mc, state, sent, reports };
}

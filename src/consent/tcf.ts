import type { ConsentState, ConsentValue } from '../types';
import type { ConsentSource } from '../types';
import { safe } from '../lib/safe';

/** How long to look for a CMP, and to wait for its first answer, before a warning (consent stays pending). */
const WAIT_MS = 10_000;

/** Google's id in the IAB Global Vendor List ("Google Advertising Products"). */
export const GOOGLE_VENDOR_ID = 755;

/** What microconv reads of the TC data a CMP hands its listeners (IAB TCF v2.2 CMP API, `TCData`). */
export interface TcData {
  gdprApplies?: boolean;
  /** `tcloaded`, `cmpuishown` or `useractioncomplete`. */
  eventStatus?: string;
  listenerId?: number;
  purpose?: { consents?: Record<number, boolean>; legitimateInterests?: Record<number, boolean> };
  vendor?: { consents?: Record<number, boolean>; legitimateInterests?: Record<number, boolean> };
}

type TcfApi = (command: string, version: number, callback: (data: TcData | undefined, success: boolean) => void, parameter?: unknown) => void;

/**
 * The Consent Mode purposes a person's TCF choices give (the README's table, and why). After Google's
 * own mapping for its tags: purpose 1 (store and/or access information on a device) for ad_storage and
 * ad_user_data, purposes 3 and 4 (personalised advertising profiles, and their use) for
 * ad_personalization, purpose 7 (measure advertising performance) for ad_user_data; plus Google's
 * vendor consent for ad_user_data (data sent to Google), and purpose 1 for analytics_storage, whose
 * identifier microconv keeps on the device. Legitimate interest counts only where TCF v2.2 allows it
 * (purpose 7 here); purposes 1, 3 and 4 need consent.
 */
export function tcfConsent({ gdprApplies, purpose = {}, vendor = {} }: TcData): ConsentState {
  const consents = purpose.consents || {};
  const word = (...needs: unknown[]): ConsentValue => (gdprApplies === false || needs.every(Boolean) ? 'granted' : 'denied');
  return {
    analytics_storage: word(consents[1]),
    ad_storage: word(consents[1]),
    ad_user_data: word(consents[1], consents[7] || purpose.legitimateInterests?.[7], vendor.consents?.[GOOGLE_VENDOR_ID]),
    ad_personalization: word(consents[3], consents[4]),
  };
}

/**
 * Follows an IAB TCF v2.2 CMP through `__tcfapi('addEventListener', 2, …)`. A CMP that is not there yet
 * (its stub queues calls until it loads; without a stub, `__tcfapi` appears when it loads) is looked
 * for every 250 ms for 10 s. Its answers apply when they hold the person's choice (`tcloaded`: one made
 * before; `useractioncomplete`: one made now), or when GDPR does not apply; while the CMP asks
 * (`cmpuishown`), what stood stands. Until a first choice, consent is pending: events wait, bounded by
 * the queue (the oldest dropped, counted, when it is full). Silence after 10 s (no CMP, or no answer) is
 * worth a warning, not a guess: consent stays pending, and a late answer still applies.
 */
export const followTcfConsent: ConsentSource = (apply, log) => {
  // Always the `__tcfapi` of now: a loaded CMP replaces its stub, which would queue a call for good.
  const cmp = () => (window as { __tcfapi?: TcfApi }).__tcfapi;
  let found = false;
  let listenerId: number | undefined;
  let answered = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = Date.now();

  const listener = (data: TcData | undefined, success: boolean) =>
    safe(log, 'tcf', () => {
      if (stopped || !success || !data) return;
      answered = true;
      listenerId = data.listenerId;
      if (data.gdprApplies === false || data.eventStatus === 'tcloaded' || data.eventStatus === 'useractioncomplete') apply(tcfConsent(data));
    });

  const look = () => {
    const api = cmp();
    if (!found && typeof api === 'function') safe(log, 'tcf', () => ((found = true), api('addEventListener', 2, listener)));
    if (answered) return;
    if (Date.now() - started < WAIT_MS) timer = setTimeout(look, 250);
    else log('warn', `tcf: no answer from a CMP (__tcfapi) after ${WAIT_MS / 1000} s; consent stays pending`);
  };
  look();

  return () => {
    stopped = true;
    clearTimeout(timer);
    if (listenerId !== undefined) safe(log, 'tcf', () => cmp()?.('removeEventListener', 2, () => {}, listenerId));
  };
};

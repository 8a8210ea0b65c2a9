import type { ConsentState, ConsentUpdate, ConsentValue, Purpose } from '../types';
import { PURPOSES, own } from '../lib/validate';

/**
 * The consent state after `update`. Global Privacy Control is a person's standing refusal of sale and
 * sharing, so with it the ad purposes stay denied whatever the update says. A purpose the update does
 * not hold itself keeps its state, whatever the page added to `Object.prototype`.
 */
export function applyConsent(state: ConsentState | undefined, update: ConsentUpdate, gpc: boolean): ConsentState {
  const next = { ...state } as ConsentState;
  for (const purpose of PURPOSES) {
    next[purpose] = (typeof update === 'string' ? update : own(update, purpose) ? update[purpose] : undefined) || next[purpose] || 'granted';
    if (gpc && purpose !== 'analytics_storage') next[purpose] = 'denied';
  }
  return next;
}

/** What the purposes an adapter needs add up to: denied if any is, else pending if any is, else granted. */
export function gate(state: ConsentState, needs: Purpose[] = []): ConsentValue {
  const values = needs.map((purpose) => state[purpose]);
  return (['denied', 'pending'] as const).find((value) => values.includes(value)) || 'granted';
}

export const globalPrivacyControl = (): boolean => (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

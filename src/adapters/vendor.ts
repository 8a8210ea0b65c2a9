import type { Purpose } from '../types';
import { deliveryError } from '../core/backoff';

/** The consent purposes every ad destination needs (contract 5). */
export const AD_PURPOSES: Purpose[] = ['ad_storage', 'ad_user_data', 'ad_personalization'];

/** How long a vendor adapter waits for the vendor's global (a tag slow to load, or never). Default. */
export const VENDOR_WAIT_MS = 5000;

type Global = Record<string, any>;
export const globals = () => window as unknown as Global;

/**
 * A vendor's function, waited for once: `wait()` gives it now, or once it appears within `waitMs` of the
 * first call; after that one wait, a refusal at once, which the outbox counts as a drop (`reason`), until
 * the function appears. So a blocked tag (an ad blocker, a failed load) holds what it was given for one
 * bounded wait in all, not one per event, and costs the other adapters nothing: each adapter waits in its
 * own queue, and nothing here holds up a navigation.
 */
export function vendorGlobal<T>(find: () => T | undefined, waitMs: number, reason: string): () => T | Promise<T> {
  let deadline = 0;
  return () => {
    const found = find();
    if (found) return found;
    deadline ||= Date.now() + waitMs;
    return new Promise((resolve, reject) => {
      const check = () => {
        const later = find();
        if (later) return resolve(later);
        if (Date.now() >= deadline) return reject(deliveryError(reason, false));
        setTimeout(check, 100);
      };
      check();
    });
  };
}

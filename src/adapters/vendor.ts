import { deliveryError } from '../core/backoff';

/** How long a vendor adapter waits for the vendor's global (a tag slow to load, or never). Default. */
export const VENDOR_WAIT_MS = 5000;

type Global = Record<string, any>;
export const globals = () => window as unknown as Global;

/**
 * The vendor's function, now, or once it appears within `waitMs`; past that, a refusal that the outbox
 * counts as a drop (`reason`). A blocked tag (an ad blocker, a failed load) costs the other adapters
 * nothing: each adapter waits in its own queue, and nothing here holds up a navigation.
 */
export function whenPresent<T>(find: () => T | undefined, waitMs: number, reason: string): T | Promise<T> {
  const found = find();
  if (found) return found;
  const since = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const later = find();
      if (later || Date.now() - since >= waitMs) {
        clearInterval(timer);
        later ? resolve(later) : reject(deliveryError(reason, false));
      }
    }, 100);
  });
}

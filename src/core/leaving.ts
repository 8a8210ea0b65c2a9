/**
 * The leaving-page budget: what a page that is hidden or closing sends on its way out (by beacon or
 * keepalive, within the 64 KiB Chromium lets a page have in flight), and what it frees for the next page.
 */
import { ENVELOPE_BYTES, MAX_REQUEST_BYTES, batches, requestBytes, type Queue } from './send';
import type { Entry } from './journal';

/**
 * Of `ready`, what may leave now, with `inFlight` already on its way. Nobody reads the answer to what
 * leaves now. So with storage (`durable`), never a suspect (stored events wait for a page that can read
 * the answer), and only what fits the 64 KiB that Chromium lets a page have in flight by beacon and
 * keepalive, ours in flight included: what is refused now would be lost. The rest is freed, and the next
 * page load sends it at once. Without storage this is the last chance, and everything is tried.
 */
export function leavingNow(ready: Entry[], inFlight: Entry[], durable: boolean): Entry[] {
  let room = MAX_REQUEST_BYTES - ENVELOPE_BYTES;
  for (const entry of inFlight) room -= requestBytes(entry);
  return ready.filter((entry) => !durable || (!entry.suspect && (room -= requestBytes(entry)) >= 0));
}

/**
 * The page is hidden (`final` false) or left (`pagehide`): what can go goes, through `attempt`, and the
 * rest is freed for the next page; a page that closes says which (see GONE_KEY).
 */
export function leavePage(queue: Queue, attempt: (list: Entry[], leaving: true) => unknown, final?: boolean): void {
  const { _entries: entries, _store: store } = queue;
  const now = Date.now();
  const durable = store._durable();
  // Only events on a live lease are surely still ours.
  const ready = queue._waiting().filter((entry) => !durable || entry.leaseUntil > now);
  // It goes only while the destination is not failing (nobody would read the refusal).
  const go = navigator.onLine !== false && now >= queue._notBefore && !(durable && queue._failing);
  const inFlight = [...entries.values()].filter((entry) => entry._busy);
  for (const batch of batches(go ? leavingNow(ready, inFlight, durable) : [], queue._adapter.immediate)) attempt(batch, true);
  const rest = ready.filter((entry) => entries.has(entry._id) && !entry._busy);
  store._release(rest);
  for (const entry of rest) entry.leaseUntil = 0;
  if (final) store._leave(rest);
}

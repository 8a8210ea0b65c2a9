/**
 * The send round of an outbox: what waits goes to the adapter in batches that fit one request, each
 * attempt bounded by a timeout; the answer settles a batch (taken, less the events it names as
 * `rejected`) or leaves it for a retry with backoff.
 *
 * An event that can never be delivered must not hold up the others, and a destination that is down
 * must cost no event anything (contract 4). Telling the two apart: an event that failed is a suspect
 * from then on, and never again shares a request with a fresh event (one that has not failed), so that
 * fresh events keep showing whether the destination works. In a round where the destination took
 * something, it works, and what failed failed on its own account: a failed batch is split in halves
 * for the next round, and an event that failed alone gets a strike; at MAX_STRIKES it is dropped,
 * counted as `undeliverable`. In a round where nothing was taken, nothing is split or struck, and the
 * round stops at its second failure in a row: the destination is failing, and the backoff waits.
 * One case gives no such evidence: everything that waits went out in one request, and it failed. A
 * poison event among fresh ones looks the same as a destination that is down, and no other request
 * ever tells them apart. So after LONE_FAILURES such rounds in a row the batch is split in halves as
 * a probe: if the destination works, one half goes, and the usual rule takes the other from there;
 * if it is down, it costs one request more per round, and no event.
 */
import type { Adapter, ConsentValue, DeliveryError, DeliveryStatus, MicroconvEvent, SendContext, SendResult } from '../types';
import { toJson } from '../lib/json';
import { describe, type Log } from '../lib/safe';
import { backoffDelay } from './backoff';
import type { Entry, QueueStore } from './journal';

/** The most one request may carry: Chromium's budget for sendBeacon and keepalive fetch. */
export const MAX_REQUEST_BYTES = 65536;
/** Room for the wire envelope around the events: `{"v":1,"sent_at":"…","events":[…]}`. */
export const ENVELOPE_BYTES = 80;
/** A send that has not settled by then has failed, so a hung adapter holds up nothing. */
export const SEND_TIMEOUT_MS = 10_000;
/** Failures that do not say whether to retry (a throwing adapter) get this many attempts in all. */
const UNFLAGGED_ATTEMPTS = 3;
/**
 * An event's retry budget: how often it may fail on its own while the destination takes other events
 * (see `send`) before it is dropped, counted as `undeliverable`. Large enough that a destination that
 * fails at random (one request in two, say) almost never costs an event all of it (0.5⁸ ≈ 0.4 %).
 */
export const MAX_STRIKES = 8;
/** Rounds in a row whose one request held everything waiting and failed, before that batch is split as a probe: a blip of a destination (a restart) often spans two, and a probe costs requests. */
export const LONE_FAILURES = 3;
/** So many failed batches, and never a delivery, and the console hears of it (once). */
const FAILURES_TO_REPORT = 3;

/** The UTF-8 size of `value` as JSON, counted in place: a Blob or a TextEncoder per event costs far more. */
export function byteSize(value: unknown): number {
  const text = toJson(value);
  let bytes = text.length;
  // Most events are ASCII through and through: one native scan says so, and there is nothing to add.
  if (!/[^\0-\x7f]/.test(text)) return bytes;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Two bytes up to U+07FF, three above; each half of a surrogate pair adds one (four for the pair).
    if (code > 127) bytes += code < 2048 || (code & 0xf800) === 0xd800 ? 1 : 2;
  }
  return bytes;
}

/** `byteSize` of an event, worked out once however many queues it goes to, and however often it is batched. */
const sizes = new WeakMap<MicroconvEvent, number>();
export const sizeOf = (event: MicroconvEvent): number => {
  let size = sizes.get(event);
  if (size === undefined) sizes.set(event, (size = byteSize(event)));
  return size;
};

/** What an entry takes of a request: the event, and a comma. */
export const requestBytes = (entry: Entry) => sizeOf(entry.event) + 1;

export const idsOf = (list: Entry[]) => list.map((entry) => entry._id);

/**
 * The requests for `list`: by bytes, so that none is over the limit; fresh events first, then suspects,
 * those with the fewest strikes first; never fresh and suspect together, and never more together than a
 * suspect's cap. An adapter of the moment (`immediate`) takes one event at a time, so that refusing one
 * refuses only that one.
 */
export const batches = (list: Entry[], immediate?: boolean): Entry[][] => {
  const strikes = (entry: Entry) => entry.strikes || 0;
  const out: Entry[][] = [];
  let batch: Entry[] = [];
  let bytes = 0;
  let cap = 0;
  for (const entry of [...list.filter((entry) => !entry.suspect), ...list.filter((entry) => entry.suspect).sort((a, b) => strikes(a) - strikes(b))]) {
    const limit = Math.min(cap, entry._cap || Infinity);
    if (immediate || batch.length >= limit || bytes + requestBytes(entry) > MAX_REQUEST_BYTES || !batch[0]!.suspect !== !entry.suspect) {
      out.push((batch = []));
      bytes = ENVELOPE_BYTES;
      cap = entry._cap || Infinity;
    } else cap = limit;
    batch.push(entry);
    bytes += requestBytes(entry);
  }
  return out;
};

/** What the parts of one outbox share: its queue in memory, and the state the send round and the page's leaving read. */
export interface Queue {
  _adapter: Adapter;
  _note: SendContext['note'];
  _store: QueueStore;
  /** The queued events, by id, oldest first. */
  _entries: Map<string, Entry>;
  /** The consent the adapter has now. */
  _verdict: ConsentValue;
  /** pagehide has fired: the page is going away. */
  _unloading: boolean;
  /** The last round's fresh events failed and nothing went: new events wait for the backoff. */
  _failing: boolean;
  /** A server's Retry-After: no request before then. */
  _notBefore: number;
  /** The queued events not in flight. */
  _waiting(): Entry[];
  /** Done with `list`: out of the queue and the journal, and reported. */
  _settle(list: Entry[], status: DeliveryStatus, reason?: string): void;
  _report(status: DeliveryStatus, ids: string[], reason?: string): void;
  /** Runs a round after `delay`, unless one is due sooner. */
  _schedule(delay: number): void;
  /** Logs, the adapter's name first. */
  _say(level: Parameters<Log>[0], message: string): void;
}

/** The send round of `queue`: `_attempt` sends one batch, `_send` all that waits. */
export function createSendRound(queue: Queue) {
  const { _adapter: adapter, _entries: entries, _store: store, _settle: settle, _say: say } = queue;
  let failures = 0; // rounds in a row with a failure: the backoff
  let delivered = false; // ever, by this instance
  let failedBatches = 0; // before the first delivery
  let loneFailures = 0; // rounds in a row whose one request held everything waiting, and failed
  const sentBefore = new WeakSet<Entry[]>(); // batches whose request left before the page began to unload

  /** A batch the destination took; the events its answer names as refused for good are dropped, counted, and not resent. */
  const taken = (list: Entry[], answer: void | SendResult): true => {
    delivered = true;
    const rejected = answer?.rejected;
    const refused = new Map((Array.isArray(rejected) ? rejected : []).map((item) => [item?.event_id, item?.problems]));
    const gone = list.filter((entry) => refused.has(entry._id));
    if (gone.length) say('warn', `rejected ${gone.map((entry) => entry.event.name + ' ' + refused.get(entry._id))}`);
    settle(gone, 'dropped', 'rejected');
    settle(list.filter((entry) => !refused.has(entry._id)), 'sent');
    return true;
  };

  /** Settles what failed for good; returns false when the rest waits for a retry (as suspects), undefined when nothing does. */
  const failed = (list: Entry[], error: DeliveryError | undefined): false | void => {
    const reason = error?.reason || describe(error);
    // Consent withdrawn while these were on their way: they are not tried again.
    if (queue._verdict === 'denied') return settle(list, 'dropped', 'consent_denied');
    // A page that is unloading sees the keepalive requests it had already made fail, though the browser
    // carries them on to the server: that is what keepalive is for. They count as handed over, as a beacon
    // does; taking them for unsent would have the next page send them a second time.
    if (queue._unloading && sentBefore.has(list) && reason === 'network') return settle(list, 'sent');
    // Warnings are for debug mode; an adapter that has never delivered anything is worth one error.
    if (!delivered && ++failedBatches === FAILURES_TO_REPORT) say('error', `every delivery has failed so far (${reason})`);
    const final = list.filter((entry) => error?.retry === false || (!error?.retry && ++entry._tries >= UNFLAGGED_ATTEMPTS));
    settle(final, 'failed', reason);
    if (final.length) say('warn', `${final.map((entry) => entry.event.name).join(', ')} not delivered (${reason})`);
    const again = list.filter((entry) => !final.includes(entry));
    if (!again.length) return;
    for (const entry of again) (entry._busy = false), (entry.suspect = true);
    // Left in flight as the page went, they counted as handed over (see leave); refused, they are the
    // next page's to send after all.
    if (queue._unloading) store._freeLate(again);
    if (error?.retryAfterMs) store._wait((queue._notBefore = Date.now() + error.retryAfterMs));
    queue._report('retrying', idsOf(again), reason);
    say('warn', `delivery failed (${reason}), retrying`);
    queue._schedule(Math.max(backoffDelay(failures + 1), queue._notBefore - Date.now()));
    return false;
  };

  /** An event failed on its own while the destination took others: a strike; at MAX_STRIKES it goes, counted. */
  const strike = (entry: Entry) => {
    // Stored at once: a reload must not renew the budget.
    if ((entry.strikes = (entry.strikes || 0) + 1) < MAX_STRIKES) return void store._put([entry]);
    settle([entry], 'dropped', 'undeliverable');
    say('warn', `${entry.event.name} dropped, undeliverable`);
  };

  /**
   * One attempt at one batch; resolves to true when it was delivered, false when it waits for a retry,
   * and undefined when it was settled otherwise (refused for good). The adapter is called at once, so
   * that a page that is leaving learns within its last task whether the batch went: a synchronous return
   * is a delivery, a throw a refusal, and only a promise is left to settle later.
   */
  const attempt = (list: Entry[], leaving: boolean): Promise<boolean | void> => {
    let result: ReturnType<Adapter['send']>;
    try {
      result = adapter.send(
        list.map((entry) => entry.event),
        { leaving, note: queue._note },
      );
    } catch (error) {
      return Promise.resolve(failed(list, error as DeliveryError));
    }
    if (!result || typeof (result as Promise<unknown>).then !== 'function') return Promise.resolve(taken(list, result as SendResult | void));
    let timeout: ReturnType<typeof setTimeout> | undefined;
    for (const entry of list) entry._busy = true;
    if (!queue._unloading) sentBefore.add(list);
    return Promise.race([result, new Promise<never>((_, reject) => (timeout = setTimeout(reject, SEND_TIMEOUT_MS, { reason: 'timeout' })))])
      .then(
        (answer) => taken(list, answer),
        (error) => failed(list, error),
      )
      .finally(() => clearTimeout(timeout));
  };

  /**
   * Sends what waits, batch by batch, telling a culprit from a failing destination: in a round where the
   * destination took something, it works, and what failed failed on its own account (split, or struck);
   * in a round where nothing was taken, nothing is split or struck, and the round stops at its second
   * failure in a row.
   */
  const send = async () => {
    let took = false; // the destination took something this round: it works
    let failedLast = false;
    let freshFailed = false;
    let tried = 0;
    const retried: Entry[][] = [];
    for (const planned of batches(queue._waiting(), adapter.immediate)) {
      // A page that is going away starts no request: what had not left is freed for the next page (leave).
      if (queue._unloading) break;
      // What left meanwhile (by beacon, as the tab was hidden) is not sent again.
      const batch = planned.filter((entry) => entries.get(entry._id) === entry && !entry._busy);
      if (!batch.length) continue;
      tried++;
      const fresh = !batch[0]!.suspect;
      const outcome = await attempt(batch, false);
      if (outcome !== false) {
        took ||= !!outcome;
        failedLast = false;
        continue;
      }
      retried.push(batch);
      freshFailed ||= fresh;
      // Two failures in a row, or a server that asked for a pause: the backoff takes the rest.
      if (failedLast || Date.now() < queue._notBefore) break;
      failedLast = true;
    }
    failures = retried.length ? failures + 1 : 0;
    queue._failing = !took && freshFailed;
    const lone = !took && tried === 1 && retried.length === 1 && retried[0]!.length > 1 ? retried[0]! : undefined;
    loneFailures = lone ? loneFailures + 1 : 0;
    if (lone && loneFailures >= LONE_FAILURES) {
      // No other request can say whether the destination works: probe it with half the batch.
      for (const entry of lone) entry._cap = Math.ceil(lone.length / 2);
      loneFailures = 0;
    }
    if (!took) return;
    // The destination works: what failed this round failed on its own account.
    for (const batch of retried) {
      for (const entry of batch) {
        if (entries.get(entry._id) !== entry) continue;
        if (batch.length > 1) entry._cap = Math.ceil(batch.length / 2);
        else strike(entry);
      }
    }
  };

  return { _attempt: attempt, _send: send };
}

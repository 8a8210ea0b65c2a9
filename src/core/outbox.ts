import type { Adapter, ConsentValue, DeliveryError, DeliveryStatus, MicroconvEvent, SendResult } from '../types';
import { toJson } from '../lib/json';
import { describe, type Log } from '../lib/safe';
import { backoffDelay } from './backoff';
import { GONE_KEY, LEASE_MS, type Journal, type StoredEvent } from './journal';
import type { OwnerLocks } from './locks';
import { goneInstances, storage } from './session';

/** The most one request may carry: Chromium's budget for sendBeacon and keepalive fetch. */
export const MAX_REQUEST_BYTES = 65536;
/** Room for the wire envelope around the events: `{"v":1,"sent_at":"…","events":[…]}`. */
const ENVELOPE_BYTES = 80;
/** The bounds of a queue; past them the oldest events go first, counted. */
export const MAX_QUEUED_EVENTS = 1000;
export const MAX_QUEUED_BYTES = 1 << 20;
/** A send that has not settled by then has failed, so a hung adapter holds up nothing. */
export const SEND_TIMEOUT_MS = 10_000;
/** Failures that do not say whether to retry (a throwing adapter) get this many attempts in all. */
const UNFLAGGED_ATTEMPTS = 3;
/**
 * An event's retry budget: how often it may fail on its own while the destination takes other events
 * (see `round`) before it is dropped, counted as `undeliverable`. Large enough that a destination that
 * fails at random (one request in two, say) almost never costs an event all of it (0.5⁸ ≈ 0.4 %).
 */
export const MAX_STRIKES = 8;
/** So many failed batches, and never a delivery, and the console hears of it (once). */
const FAILURES_TO_REPORT = 3;
/**
 * How long after another instance's lock is freed this page claims its events: long enough for what that
 * page said as it closed (its `GONE_KEY` mark, in localStorage, which reaches other tabs asynchronously)
 * to arrive, so that what it sent by beacon is not sent again.
 */
export const HANDOVER_MS = 1000;

/** Where a server's Retry-After is kept for the pages that come after, per queue. */
const WAIT_KEY = 'microconv:wait:';

/** A queued event, with its size in bytes and its failed attempts. */
interface Entry extends StoredEvent {
  b: number;
  n: number;
  /** The most events it may share a request with: halved each time its batch fails while others go. */
  cap?: number;
}

export interface OutboxOptions {
  adapter: Adapter;
  /** This instance's id: the owner of its events in the journal. */
  owner: string;
  /** The consent the adapter has now; events are held while it is pending. */
  consent(): ConsentValue;
  /** The journal to keep events in, or undefined to keep them in memory only. */
  journal(): Journal | undefined;
  /** IndexedDB failed: the caller stops using it, and the outbox carries on in memory. */
  journalFailed(error: unknown): void;
  batch: { size: number; intervalMs: number };
  report(status: DeliveryStatus, ids: string[], reason?: string): void;
  /** Web Locks on the claims of instances, where the browser has them. */
  locks?: OwnerLocks;
  /** Something cut or refused on the way: counted under `reason`, and a debug warning. */
  note(reason: string, detail: string): void;
  log: Log;
}

export type Outbox = ReturnType<typeof createOutbox>;

/** The UTF-8 size of `value` as JSON, counted in place: a Blob or a TextEncoder per event costs far more. */
export function byteSize(value: unknown): number {
  const text = toJson(value);
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Two bytes up to U+07FF, three above; each half of a surrogate pair adds one (four for the pair).
    if (code > 127) bytes += code < 2048 || (code & 0xf800) === 0xd800 ? 1 : 2;
  }
  return bytes;
}

/** `byteSize` of an event, worked out once however many queues it goes to. */
const sizes = new WeakMap<MicroconvEvent, number>();
export const sizeOf = (event: MicroconvEvent): number => {
  let size = sizes.get(event);
  if (size === undefined) sizes.set(event, (size = byteSize(event)));
  return size;
};

const idsOf = (list: StoredEvent[]) => list.map((item) => item.e.event_id);
// What is kept of an entry: all but what memory alone needs.
const stored = (list: Entry[]): StoredEvent[] => list.map(({ b, n, cap, ...kept }) => kept);


/**
 * The queue of one adapter: consent holds, batching, delivery, retries with backoff, bounds and
 * persistence. One per adapter, so that a slow, failing or hung adapter delays no other.
 *
 * With a journal, IndexedDB is the truth and memory its copy: every round first claims what this
 * instance may send (its own events, and those a closed or crashed page left), so no two tabs send
 * the same event. Memory alone serves the one moment a page cannot wait for IndexedDB: its last.
 *
 * An event that can never be delivered must not hold up the others, and a destination that is down
 * must cost no event anything (contract 4). Telling the two apart: an event that failed is a suspect
 * from then on, and never again shares a request with a fresh event (one that has not failed), so that
 * fresh events keep showing whether the destination works. In a round where the destination took
 * something, it works, and what failed failed on its own account: a failed batch is split in halves
 * for the next round, and an event that failed alone gets a strike; at MAX_STRIKES it is dropped,
 * counted as `undeliverable`. In a round where nothing was taken, nothing is split or struck, and the
 * round stops at its second failure in a row: the destination is failing, and the backoff waits.
 */
export function createOutbox(options: OutboxOptions) {
  const { adapter, owner, report, log, locks } = options;
  const queue = adapter.persistKey || adapter.name;
  let entries = new Map<string, Entry>(); // oldest first
  const busy = new Set<string>(); // being sent
  let timer: ReturnType<typeof setTimeout> | undefined | 0;
  let due = 0; // when the timer fires
  let failures = 0; // rounds in a row with a failure: the backoff
  let failing = false; // the last round's fresh events failed and nothing went: new events wait for the backoff
  let notBefore = 0; // a server's Retry-After
  let running: Promise<void> | undefined;
  let rerun = false;
  let closed = false;
  let verdict = options.consent();
  let waitRead = false;
  let unwritten: Entry[] = [];
  let sequence = 0; // orders events of the same millisecond
  let unloading = false; // pagehide has fired: the page is going away
  const sentBefore = new WeakSet<Entry[]>(); // batches whose request left before that
  let scheduled = false;
  let settledWhileClaiming: Set<string> | undefined; // the claim read these before they left
  let delivered = false; // ever, by this instance
  let failedBatches = 0; // before the first delivery

  const waiting = () => [...entries.values()].filter((entry) => !busy.has(entry.e.event_id));
  // The journal once it has worked for this queue: it may hold our events after it fails (see `journal`).
  let worked: Journal | undefined;
  /**
   * Every journal call goes through here; its first failure hands the queue to memory for good. A broken
   * IndexedDB can throw at once (a replaced `indexedDB.open`) or fail later: both count. Writes can fail
   * while deletes work (a full quota), and what was stored before stays there: `afterFailure` calls
   * (deletes of what was delivered) still go to the journal that worked, or a later page would send
   * those events again. Their failures change nothing.
   */
  const journal = <T>(use: (j: Journal) => Promise<T>, afterFailure?: boolean): Promise<T | void> => {
    const current = options.journal();
    const j = current || (afterFailure ? worked : undefined);
    if (!j) return Promise.resolve();
    return new Promise<T>((resolve) => resolve(use(j))).then(
      (result) => ((worked = current || worked), result),
      current ? options.journalFailed : () => {},
    );
  };
  /** Runs a round after `delay`, unless one is due sooner. */
  const schedule = (delay: number) => {
    if (closed || (timer && due <= Date.now() + delay)) return;
    clearTimeout(timer!);
    due = Date.now() + delay;
    timer = setTimeout(() => ((timer = 0), pump()), delay);
  };
  const stopTimer = () => (clearTimeout(timer!), (timer = 0));

  /**
   * Stores what waits to be stored, at the end of the task that tracked it: a crashed tab loses nothing
   * (contract 4), and the events of one task (a submit's last step and completion) share a transaction.
   * A send round, a page that leaves and a close write first, so the store is complete when it is read.
   */
  const write = () => {
    scheduled = false;
    const list = unwritten.filter((entry) => entries.has(entry.e.event_id));
    unwritten = [];
    if (list.length) void journal((j) => j.put(queue, stored(list)));
  };

  const settle = (list: Entry[], status: DeliveryStatus, reason?: string) => {
    for (const { e } of list) entries.delete(e.event_id), busy.delete(e.event_id), settledWhileClaiming?.add(e.event_id);
    if (list.length) void journal((j) => j.remove(queue, idsOf(list)), true);
    report(status, idsOf(list), reason);
  };

  /** Past the bounds, the oldest waiting events go; never what is in flight, which is the server's now. */
  const bound = () => {
    let count = entries.size;
    let bytes = 0;
    for (const entry of entries.values()) bytes += entry.b;
    settle(waiting().filter((entry) => (count > MAX_QUEUED_EVENTS || bytes > MAX_QUEUED_BYTES) && (count--, (bytes -= entry.b), true)), 'dropped', 'queue_full');
  };

  /** A batch the destination took; the events its answer names as refused for good are dropped, counted, and not resent. */
  const taken = (list: Entry[], answer: void | SendResult): true => {
    delivered = true;
    const rejected = answer?.rejected;
    const refused = new Map((Array.isArray(rejected) ? rejected : []).map((item) => [item?.event_id, item?.problems]));
    const gone = list.filter((entry) => refused.has(entry.e.event_id));
    if (gone.length) log('warn', `${adapter.name}: rejected ${gone.map((entry) => entry.e.name + ' ' + refused.get(entry.e.event_id))}`);
    settle(gone, 'dropped', 'rejected');
    settle(list.filter((entry) => !refused.has(entry.e.event_id)), 'sent');
    return true;
  };

  /** Settles what failed for good; returns whether the rest waits for a retry (as suspects, see above). */
  const failed = (list: Entry[], error: DeliveryError | undefined): boolean => {
    const reason = error?.reason || describe(error);
    // Consent withdrawn while these were on their way: they are not tried again.
    if (verdict === 'denied') return settle(list, 'dropped', 'consent_denied'), false;
    // A page that is unloading sees the keepalive requests it had already made fail, though the browser
    // carries them on to the server: that is what keepalive is for. They count as handed over, as a beacon
    // does; taking them for unsent would have the next page send them a second time.
    if (unloading && sentBefore.has(list) && reason === 'network') return settle(list, 'sent'), false;
    // Warnings are for debug mode; an adapter that has never delivered anything is worth one error.
    if (!delivered && ++failedBatches === FAILURES_TO_REPORT) log('error', `${adapter.name}: every delivery has failed so far (${reason})`);
    const final = list.filter((entry) => error?.retry === false || (!error?.retry && ++entry.n >= UNFLAGGED_ATTEMPTS));
    settle(final, 'failed', reason);
    if (final.length) log('warn', `${adapter.name}: ${final.map((entry) => entry.e.name).join(', ')} not delivered (${reason})`);
    const again = list.filter((entry) => !final.includes(entry));
    if (!again.length) return false;
    for (const entry of again) busy.delete(entry.e.event_id), (entry.suspect = true);
    // Left in flight as the page went, they counted as handed over (see leave); refused, they are the
    // next page's to send after all: freed, and added to what the page's GONE_KEY mark says it freed.
    if (unloading && options.journal()) {
      const mark = GONE_KEY + queue + ' ' + owner;
      let freed: string[] = [];
      try {
        freed = JSON.parse(storage('getItem', mark)!)[1];
      } catch {}
      storage('setItem', mark, toJson([Date.now(), [...freed, ...idsOf(again)]]));
      void journal((j) => j.release(queue, stored(again)));
    }
    if (error?.retryAfterMs) {
      notBefore = Date.now() + error.retryAfterMs;
      // The next page load of the site must wait too: the server asked the site, not this page.
      if (options.journal()) storage('setItem', WAIT_KEY + queue, String(notBefore));
    }
    report('retrying', idsOf(again), reason);
    log('warn', `${adapter.name}: delivery failed (${reason}), retrying`);
    schedule(Math.max(backoffDelay(failures + 1), notBefore - Date.now()));
    return true;
  };

  /** An event failed on its own while the destination took others: a strike; at MAX_STRIKES it goes, counted. */
  const strike = (entry: Entry) => {
    // Stored at once: a reload must not renew the budget.
    if ((entry.strikes = (entry.strikes || 0) + 1) < MAX_STRIKES) return void journal((j) => j.put(queue, stored([entry])));
    settle([entry], 'dropped', 'undeliverable');
    log('warn', `${adapter.name}: ${entry.e.name} dropped, undeliverable`);
  };

  /**
   * One attempt at one batch; resolves to true when it was delivered, false when it waits for a retry,
   * and undefined when it was settled otherwise (refused for good). The adapter is called at once, so
   * that a page that is leaving learns within its last task whether the batch went: a synchronous return
   * is a delivery, a throw a refusal, and only a promise is left to settle later.
   */
  const attempt = (list: Entry[], leaving: boolean): Promise<boolean | undefined> => {
    let result: ReturnType<Adapter['send']>;
    try {
      result = adapter.send(
        list.map((entry) => entry.e),
        { leaving, note: options.note },
      );
    } catch (error) {
      return Promise.resolve(failed(list, error as DeliveryError) ? false : undefined);
    }
    if (!result || typeof (result as Promise<unknown>).then !== 'function') return Promise.resolve(taken(list, result as SendResult | void));
    let timeout: ReturnType<typeof setTimeout> | undefined;
    for (const entry of list) busy.add(entry.e.event_id);
    if (!unloading) sentBefore.add(list);
    return Promise.race([result, new Promise<never>((_, reject) => (timeout = setTimeout(reject, SEND_TIMEOUT_MS, { reason: 'timeout' })))])
      .then(
        (answer) => taken(list, answer),
        (error) => (failed(list, error) ? false : undefined),
      )
      .finally(() => clearTimeout(timeout));
  };

  /**
   * The requests for `list`: by bytes, so that none is over the limit; fresh events first, then suspects,
   * those with the fewest strikes first; never fresh and suspect together, and never more together than a
   * suspect's cap. An adapter of the moment takes one event at a time, so that refusing one refuses only that one.
   */
  const batches = (list: Entry[]): Entry[][] => {
    const strikes = (entry: Entry) => entry.strikes || 0;
    const out: Entry[][] = [];
    let batch: Entry[] = [];
    let bytes = 0;
    let cap = 0;
    for (const entry of [...list.filter((entry) => !entry.suspect), ...list.filter((entry) => entry.suspect).sort((a, b) => strikes(a) - strikes(b))]) {
      const limit = Math.min(cap, entry.cap || Infinity);
      if (adapter.immediate || batch.length >= limit || bytes + entry.b + 1 > MAX_REQUEST_BYTES || !batch[0]!.suspect !== !entry.suspect) {
        out.push((batch = []));
        bytes = ENVELOPE_BYTES;
        cap = entry.cap || Infinity;
      } else cap = limit;
      batch.push(entry);
      bytes += entry.b + 1;
    }
    return out;
  };

  /** Takes from the journal what this instance may send now (see `claimRule`). */
  const claim = async () => {
    const before = new Set(entries.keys());
    const marks = GONE_KEY + queue + ' ';
    const now = Date.now(); // before the locks are read: see claimRule
    const left = (settledWhileClaiming = new Set());
    let live: Set<string> | undefined;
    const result = await journal(async (j) => ((live = await locks?.live()), j.claim(queue, owner, now, goneInstances(marks), live)));
    settledWhileClaiming = undefined;
    if (!result || unloading) return; // no journal, or the page went while the claim ran
    // Marks of closed instances that hold nothing more are done with.
    goneInstances(marks, (other) => result.owners.has(other));
    // What other instances hold is taken over when they go: woken by their lock, or at the end of their lease.
    result.owners.forEach((other) => locks?.watch(other));
    if (!live && result.until < Infinity && !failing) schedule(result.until + 1 - Date.now());
    const mine = new Set(idsOf(result.claimed));
    const lease = Date.now() + LEASE_MS;
    // What a closed page left is adopted, and goes first (it is older); ours keep their order; what
    // another tab took is forgotten here. Events in flight are the server's now, and events tracked while
    // the claim ran were not there to claim: both stay. What left meanwhile (by beacon, as the tab was
    // hidden) was in what the claim read, and is not adopted again.
    const adopted = result.claimed.filter(({ e: { event_id: id } }) => !entries.has(id) && !left.has(id)).map((item): Entry => ({ ...item, b: byteSize(item.e), n: 0 }));
    const kept = [...entries.values()].filter(({ e: { event_id: id } }) => mine.has(id) || busy.has(id) || !before.has(id));
    for (const entry of [...adopted, ...kept]) if (mine.has(entry.e.event_id)) entry.l = lease;
    entries = new Map([...adopted, ...kept].map((entry) => [entry.e.event_id, entry]));
    report('queued', idsOf(adopted), 'recovered');
    bound();
  };

  /** Sends what waits, batch by batch, telling a culprit from a failing destination (see above). */
  const send = async () => {
    let took = false; // the destination took something this round: it works
    let failedLast = false;
    let freshFailed = false;
    const retried: Entry[][] = [];
    for (const planned of batches(waiting())) {
      // A page that is going away starts no request: what had not left is freed for the next page (leave).
      if (unloading) break;
      // What left meanwhile (by beacon, as the tab was hidden) is not sent again.
      const batch = planned.filter((entry) => entries.get(entry.e.event_id) === entry && !busy.has(entry.e.event_id));
      if (!batch.length) continue;
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
      if (failedLast || Date.now() < notBefore) break;
      failedLast = true;
    }
    failures = retried.length ? failures + 1 : 0;
    failing = !took && freshFailed;
    if (!took) return;
    // The destination works: what failed this round failed on its own account.
    for (const batch of retried) {
      for (const entry of batch) {
        if (entries.get(entry.e.event_id) !== entry) continue;
        if (batch.length > 1) entry.cap = Math.ceil(batch.length / 2);
        else strike(entry);
      }
    }
  };

  const round = async () => {
    stopTimer();
    // Offline, or held for consent: 'online' and consent bring us back. A page that is going away claims
    // nothing more: what it held was beaconed or freed for the next page by leave().
    if (navigator.onLine === false || verdict !== 'granted' || unloading) return;
    // A wait a server asked for (Retry-After), which a page before this one may have been told of. Read
    // at the first round, not at start: a first localStorage read can block for milliseconds.
    if (!waitRead && options.journal()) (waitRead = true), (notBefore = Math.max(notBefore, Number(storage('getItem', WAIT_KEY + queue)) || 0));
    if (Date.now() < notBefore) return schedule(notBefore - Date.now());
    write();
    await claim();
    if (!unloading) await send();
  };

  const pump = (): Promise<void> => {
    if (running) return (rerun = true), running;
    return (running = (async () => {
      do {
        rerun = false;
        await round();
      } while (rerun && !failing);
    })()
      .catch((error) => log('error', `${adapter.name}: ${describe(error)}`))
      .finally(() => (running = undefined)));
  };

  return {
    add(events: MicroconvEvent[]) {
      if (verdict === 'denied') return report('dropped', events.map((event) => event.event_id), 'consent_denied');
      const now = Date.now();
      const added = events.map((e): Entry => ({ e, o: owner, l: now + LEASE_MS, q: ++sequence, b: sizeOf(e), n: 0 }));
      for (const entry of added) entries.set(entry.e.event_id, entry);
      if (options.journal()) unwritten.push(...added), scheduled || ((scheduled = true), queueMicrotask(write));
      report(verdict === 'pending' ? 'held' : 'queued', idsOf(added), verdict === 'pending' ? 'consent_pending' : undefined);
      bound();
      // While the destination fails, the backoff timer alone decides when to try again.
      if (failing || verdict === 'pending') return;
      if (adapter.immediate) queueMicrotask(pump);
      else if (waiting().filter((entry) => !entry.suspect).length >= options.batch.size) void pump();
      else schedule(options.batch.intervalMs);
    },

    /** Sends what is waiting now, backoff or not (a server's Retry-After still holds); resolves when settled. */
    flush: pump,

    /** The page is visible again, or back from the back/forward cache. */
    resume: () => ((unloading = false), storage('removeItem', GONE_KEY + queue + ' ' + owner), pump()),

    /** Another instance has gone (its lock was freed): what it held is taken over once its goodbye has arrived. */
    wake: () => failing || schedule(HANDOVER_MS),

    /**
     * The page is hidden (`final` false) or left (`pagehide`): what can go by beacon goes, the rest is freed
     * for the next page.
     */
    leave(final?: boolean) {
      unloading ||= !!final;
      stopTimer();
      if (verdict !== 'granted') return;
      write();
      const now = Date.now();
      const durable = !!options.journal();
      // Only events on a live lease are surely still ours.
      const ready = waiting().filter((entry) => !durable || entry.l > now);
      // Nobody reads the answer to what leaves now. So it goes only while the destination is not failing,
      // and never a suspect (stored events wait for a page that can read the answer), and only what fits
      // the 64 KiB that Chromium lets a page have in flight by beacon and keepalive, ours in flight
      // included: what is refused now would be lost. The rest is freed, and the next page load sends it at
      // once. Without storage this is the last chance, and everything is tried.
      let room = MAX_REQUEST_BYTES - ENVELOPE_BYTES;
      for (const entry of entries.values()) if (busy.has(entry.e.event_id)) room -= entry.b + 1;
      const go = navigator.onLine !== false && now >= notBefore && !(durable && failing);
      const leaving = go ? ready.filter((entry) => !durable || (!entry.suspect && (room -= entry.b + 1) >= 0)) : [];
      for (const batch of batches(leaving)) void attempt(batch, true);
      const rest = ready.filter((entry) => entries.has(entry.e.event_id) && !busy.has(entry.e.event_id));
      if (rest.length) void journal((j) => j.release(queue, stored(rest)));
      for (const entry of rest) entry.l = 0;
      // What the next page should take over, said where it lands for sure (see GONE_KEY); also after the
      // journal failed, when what was stored before may still be there.
      if (final && (durable || worked)) storage('setItem', GONE_KEY + queue + ' ' + owner, toJson([now, idsOf(rest)]));
    },

    /** Consent changed: denied drops what waits (withdrawn means not sent); granted sends what was held. */
    consentChanged() {
      const was = verdict;
      verdict = options.consent();
      if (verdict === was) return;
      if (verdict === 'denied') settle(waiting(), 'dropped', 'consent_denied');
      if (verdict !== 'granted') return;
      // Held events lived in memory only; now they may be stored.
      for (const entry of waiting()) entry.l = Date.now() + LEASE_MS;
      unwritten.push(...waiting());
      write();
      void pump();
    },

    size: () => entries.size,

    /** Sends what is queued, and sets no timer from now on. */
    async close() {
      closed = true;
      stopTimer();
      write();
      await pump();
      // Stored events wait for the next page; events only in memory would vanish unnoticed.
      if (!options.journal()) settle([...entries.values()], 'dropped', 'destroyed');
    },
  };
}

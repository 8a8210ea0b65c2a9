import type { Adapter, ConsentValue, DeliveryError, DeliveryStatus, MicroconvEvent } from '../types';
import { describe, type Log } from '../lib/safe';
import { backoffDelay } from './backoff';
import { GONE_KEY, LEASE_MS, type Journal, type StoredEvent } from './journal';
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

/** Where a server's Retry-After is kept for the pages that come after, per queue. */
const WAIT_KEY = 'microconv:wait:';

/** A queued event, with its size in bytes and its failed attempts. */
interface Entry extends StoredEvent {
  b: number;
  n: number;
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
  /** Something cut or refused on the way: counted under `reason`, and a debug warning. */
  note(reason: string, detail: string): void;
  log: Log;
}

export type Outbox = ReturnType<typeof createOutbox>;

/** The UTF-8 size of `value` as JSON, counted in place: a Blob or a TextEncoder per event costs far more. */
export function byteSize(value: unknown): number {
  const text = JSON.stringify(value);
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
const stored = (list: Entry[]): StoredEvent[] => list.map(({ e, o, l, q }) => ({ e, o, l, q }));

/**
 * The queue of one adapter: consent holds, batching, delivery, retries with backoff, bounds and
 * persistence. One per adapter, so that a slow, failing or hung adapter delays no other.
 *
 * With a journal, IndexedDB is the truth and memory its copy: every round first claims what this
 * instance may send (its own events, and those a closed or crashed page left), so no two tabs send
 * the same event. Memory alone serves the one moment a page cannot wait for IndexedDB: its last.
 */
export function createOutbox(options: OutboxOptions) {
  const { adapter, owner, report, log } = options;
  const queue = adapter.persistKey || adapter.name;
  let entries = new Map<string, Entry>(); // oldest first
  const busy = new Set<string>(); // being sent
  let timer: ReturnType<typeof setTimeout> | undefined | 0;
  let failures = 0;
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

  const waiting = () => [...entries.values()].filter((entry) => !busy.has(entry.e.event_id));
  // Every journal call goes through here; its first failure hands the queue to memory for good.
  // A broken IndexedDB can throw at once (a replaced `indexedDB.open`) or fail later: both count.
  const journal = <T>(use: (j: Journal) => Promise<T>): Promise<T | void> => {
    const j = options.journal();
    return j ? new Promise<T>((resolve) => resolve(use(j))).catch(options.journalFailed) : Promise.resolve();
  };
  const schedule = (delay: number) => {
    if (!closed && !timer) timer = setTimeout(() => ((timer = 0), pump()), delay);
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
    for (const entry of list) entries.delete(entry.e.event_id), busy.delete(entry.e.event_id);
    if (list.length) void journal((j) => j.remove(queue, idsOf(list)));
    report(status, idsOf(list), reason);
  };

  /** Past the bounds, the oldest waiting events go; never what is in flight, which is the server's now. */
  const bound = () => {
    let count = entries.size;
    let bytes = 0;
    for (const entry of entries.values()) bytes += entry.b;
    settle(waiting().filter((entry) => (count > MAX_QUEUED_EVENTS || bytes > MAX_QUEUED_BYTES) && (count--, (bytes -= entry.b), true)), 'dropped', 'queue_full');
  };

  /** Settles or reschedules a failed batch; returns whether it will be retried. */
  const failed = (list: Entry[], error: DeliveryError | undefined): boolean => {
    const reason = error?.reason || describe(error);
    // Consent withdrawn while these were on their way: they are not tried again.
    if (verdict === 'denied') return settle(list, 'dropped', 'consent_denied'), false;
    // A page that is unloading sees the keepalive requests it had already made fail, though the browser
    // carries them on to the server: that is what keepalive is for. They count as handed over, as a beacon
    // does; taking them for unsent would have the next page send them a second time.
    if (unloading && sentBefore.has(list) && reason === 'network') return settle(list, 'sent'), false;
    const final = list.filter((entry) => error?.retry === false || (!error?.retry && ++entry.n >= UNFLAGGED_ATTEMPTS));
    settle(final, 'failed', reason);
    if (final.length) log('warn', `${adapter.name}: ${final.map((entry) => entry.e.name).join(', ')} not delivered (${reason})`);
    const again = list.filter((entry) => !final.includes(entry));
    if (!again.length) return false;
    for (const entry of again) busy.delete(entry.e.event_id);
    failures++;
    if (error?.retryAfterMs) {
      notBefore = Date.now() + error.retryAfterMs;
      // The next page load of the site must wait too: the server asked the site, not this page.
      if (options.journal()) storage('setItem', WAIT_KEY + queue, String(notBefore));
    }
    report('retrying', idsOf(again), reason);
    log('warn', `${adapter.name}: delivery failed (${reason}), retrying`);
    schedule(Math.max(backoffDelay(failures), notBefore - Date.now()));
    return true;
  };

  /**
   * One attempt at one batch; resolves to false when it failed and waits for a retry. The adapter is
   * called at once, so that a page that is leaving learns within its last task whether the batch went:
   * a synchronous return is a delivery, a throw a refusal, and only a promise is left to settle later.
   */
  const attempt = (list: Entry[], leaving: boolean): Promise<boolean> => {
    let result: void | Promise<void>;
    try {
      result = adapter.send(
        list.map((entry) => entry.e),
        { leaving, note: options.note },
      );
    } catch (error) {
      return Promise.resolve(!failed(list, error as DeliveryError));
    }
    if (!result || typeof result.then !== 'function') return (failures = 0), settle(list, 'sent'), Promise.resolve(true);
    let timeout: ReturnType<typeof setTimeout> | undefined;
    for (const entry of list) busy.add(entry.e.event_id);
    if (!unloading) sentBefore.add(list);
    return Promise.race([result, new Promise<never>((_, reject) => (timeout = setTimeout(reject, SEND_TIMEOUT_MS, { reason: 'timeout' })))])
      .then(
        () => ((failures = 0), settle(list, 'sent'), true),
        (error) => !failed(list, error),
      )
      .finally(() => clearTimeout(timeout));
  };

  // Batches by bytes, so that no request is over the limit; an adapter of the moment takes one event at
  // a time, so that refusing one refuses only that one.
  const batches = (list: Entry[]): Entry[][] => {
    if (adapter.immediate) return list.map((entry) => [entry]);
    const out: Entry[][] = [];
    let bytes = MAX_REQUEST_BYTES; // "full", so that the first entry starts a batch
    for (const entry of list) {
      bytes += entry.b + 1;
      if (bytes > MAX_REQUEST_BYTES) out.push([]), (bytes = ENVELOPE_BYTES + entry.b + 1);
      out[out.length - 1]!.push(entry);
    }
    return out;
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
    const before = new Set(entries.keys());
    const marks = GONE_KEY + queue + ' ';
    const result = await journal((j) => j.claim(queue, owner, Date.now(), goneInstances(marks)));
    if (unloading) return; // the page went while the claim ran
    if (result) {
      // Marks of closed instances that hold nothing more are done with.
      goneInstances(marks, (other) => result.owners.has(other));
      const claimed = result.claimed;
      // What a closed page left is adopted, and goes first (it is older); ours keep their order; what
      // another tab took is forgotten here. Events in flight are the server's now, and events tracked
      // while the claim ran were not there to claim: both stay.
      const mine = new Set(idsOf(claimed));
      const lease = Date.now() + LEASE_MS;
      const adopted = claimed.filter((item) => !entries.has(item.e.event_id)).map((item): Entry => ({ ...item, b: byteSize(item.e), n: 0 }));
      const kept = [...entries.values()].filter(({ e: { event_id: id } }) => mine.has(id) || busy.has(id) || !before.has(id));
      for (const entry of [...adopted, ...kept]) if (mine.has(entry.e.event_id)) entry.l = lease;
      entries = new Map([...adopted, ...kept].map((entry) => [entry.e.event_id, entry]));
      report('queued', idsOf(adopted), 'recovered');
      bound();
    }
    // After a failure, the retry timer takes the rest.
    for (const batch of batches(waiting())) if (!(await attempt(batch, false))) break;
  };

  const pump = (): Promise<void> => {
    if (running) return (rerun = true), running;
    return (running = (async () => {
      do {
        rerun = false;
        await round();
      } while (rerun && !failures);
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
      // While retrying, the backoff timer alone decides when to try again.
      if (failures || verdict === 'pending') return;
      if (adapter.immediate) queueMicrotask(pump);
      else if (waiting().length >= options.batch.size) void pump();
      else schedule(options.batch.intervalMs);
    },

    /** Sends what is waiting now, backoff or not (a server's Retry-After still holds); resolves when settled. */
    flush: pump,

    /** The page is visible again, or back from the back/forward cache. */
    resume: () => ((unloading = false), storage('removeItem', GONE_KEY + queue + ' ' + owner), pump()),

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
      // Nobody reads the answer to what leaves now. So it goes only while deliveries succeed (after a
      // failure, stored events wait for a page that can read the answer), and only what fits the 64 KiB
      // that Chromium lets a page have in flight by beacon and keepalive, ours in flight included: what is
      // refused now would be lost. The rest is freed, and the next page load sends it at once. Without
      // storage this is the last chance, and everything is tried.
      let room = MAX_REQUEST_BYTES - ENVELOPE_BYTES;
      for (const entry of entries.values()) if (busy.has(entry.e.event_id)) room -= entry.b + 1;
      const go = navigator.onLine !== false && now >= notBefore && !(durable && failures);
      const leaving = go ? ready.filter((entry) => !durable || (room -= entry.b + 1) >= 0) : [];
      for (const batch of batches(leaving)) void attempt(batch, true);
      const rest = ready.filter((entry) => entries.has(entry.e.event_id) && !busy.has(entry.e.event_id));
      if (rest.length) void journal((j) => j.release(queue, stored(rest)));
      for (const entry of rest) entry.l = 0;
      // What the next page should take over, said where it lands for sure (see GONE_KEY).
      if (final && durable) storage('setItem', GONE_KEY + queue + ' ' + owner, JSON.stringify([now, idsOf(rest)]));
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

/**
 * The outbox of one adapter: its queue in memory, consent holds, bounds, when rounds run, and what it
 * does as the page comes and goes. Its parts: the journal and its claims (`journal.ts`, `locks.ts`), the
 * send round (`send.ts`), and what a leaving page sends and frees (`leaving.ts`).
 */
import type { Adapter, ConsentValue, DeliveryStatus, MicroconvEvent } from '../types';
import { describe, type Log } from '../lib/safe';
import { LEASE_MS, queueStore, toEntry, type Entry, type Journal } from './journal';
import type { OwnerLocks } from './locks';
import { leavePage } from './leaving';
import { createSendRound, idsOf, sizeOf, type Queue } from './send';

/** The bounds of a queue; past them the oldest events go first, counted. */
export const MAX_QUEUED_EVENTS = 1000;
export const MAX_QUEUED_BYTES = 1 << 20;
/**
 * How long after another instance's lock is freed this page claims its events: long enough for what that
 * page said as it closed (its `GONE_KEY` mark, in localStorage, which reaches other tabs asynchronously)
 * to arrive, so that what it sent by beacon is not sent again.
 */
export const HANDOVER_MS = 1000;

/** What an outbox is given (`_`-named: internal, so the minifier shortens the names). */
export interface OutboxOptions {
  _adapter: Adapter;
  /** This instance's id: the owner of its events in the journal. */
  _owner: string;
  /** The consent the adapter has now; events are held while it is pending. */
  _consent(): ConsentValue;
  /** The journal to keep events in, or undefined to keep them in memory only. */
  _journal(): Journal | undefined;
  /** IndexedDB failed: the caller stops using it, and the outbox carries on in memory. */
  _journalFailed(error: unknown): void;
  _batch: { size: number; intervalMs: number };
  _report(status: DeliveryStatus, ids: string[], reason?: string): void;
  /** Web Locks on the claims of instances, where the browser has them. */
  _locks?: OwnerLocks;
  /** Counts something cut or refused on the way, under `reason`. */
  _count(reason: string): void;
  _log: Log;
}

export type Outbox = ReturnType<typeof createOutbox>;

/**
 * The queue of one adapter: consent holds, batching, delivery, retries with backoff, bounds and
 * persistence. One per adapter, so that a slow, failing or hung adapter delays no other.
 *
 * With a journal, IndexedDB is the truth and memory its copy: every round first claims what this
 * instance may send (its own events, and those a closed or crashed page left), so no two tabs send
 * the same event. Memory alone serves the one moment a page cannot wait for IndexedDB: its last.
 */
export function createOutbox(options: OutboxOptions) {
  const { _adapter: adapter, _owner: owner, _report: report, _log: log, _locks: locks } = options;
  const store = queueStore(adapter.persistKey || adapter.name, owner, options._journal, options._journalFailed);
  const entries = new Map<string, Entry>(); // oldest first
  let timer: ReturnType<typeof setTimeout> | undefined | 0;
  let due = 0; // when the timer fires
  let running: Promise<void> | undefined;
  let rerun = false;
  let closed = false;
  let unwritten: Entry[] = [];
  let tracked = 0; // orders events of the same millisecond (`sequence`)
  let scheduled = false;
  let settledWhileClaiming: Set<string> | undefined; // the claim read these before they left
  const stopTimer = () => (clearTimeout(timer!), (timer = 0));

  const say: Queue['_say'] = (level, message) => log(level, adapter.name + ': ' + message);
  const queue: Queue = {
    _adapter: adapter,
    // Something cut or refused on the way: counted, and a debug warning.
    _note: (reason, detail) => (options._count(reason), say('warn', detail)),
    _store: store,
    _entries: entries,
    _verdict: options._consent(),
    _unloading: false,
    _failing: false,
    _notBefore: 0,
    _waiting: () => [...entries.values()].filter((entry) => !entry._busy),
    _settle(list, status, reason) {
      for (const { _id: id } of list) entries.delete(id), settledWhileClaiming?.add(id);
      store._remove(list);
      report(status, idsOf(list), reason);
    },
    _report: report,
    _schedule(delay) {
      if (closed || (timer && due <= Date.now() + delay)) return;
      stopTimer();
      due = Date.now() + delay;
      timer = setTimeout(() => ((timer = 0), pump()), delay);
    },
    _say: say,
  };
  const { _waiting: waiting, _settle: settle, _schedule: schedule } = queue;
  const round = createSendRound(queue);

  /**
   * Stores what waits to be stored, at the end of the task that tracked it: a crashed tab loses nothing
   * (contract 4), and the events of one task (a submit's last step and completion) share a transaction.
   * A send round, a page that leaves and a close write first, so the store is complete when it is read.
   */
  const write = () => {
    scheduled = false;
    store._put(unwritten.filter((entry) => entries.has(entry._id)));
    unwritten = [];
  };

  /** Past the bounds, the oldest waiting events go; never what is in flight, which is the server's now. */
  const bound = () => {
    let count = entries.size;
    let bytes = 0;
    for (const entry of entries.values()) bytes += sizeOf(entry.event);
    settle(waiting().filter((entry) => (count > MAX_QUEUED_EVENTS || bytes > MAX_QUEUED_BYTES) && (count--, (bytes -= sizeOf(entry.event)), true)), 'dropped', 'queue_full');
  };

  /** Takes from the journal what this instance may send now (see `claimRule`). */
  const claim = async () => {
    const before = new Set(entries.keys());
    const left = (settledWhileClaiming = new Set());
    const result = await store._claim(Date.now(), locks); // the time before the locks are read: see claimRule
    settledWhileClaiming = undefined;
    if (!result || queue._unloading) return; // no journal, or the page went while the claim ran
    // What other instances hold is taken over when they go: woken by their lock, or at the end of their lease.
    result._owners.forEach((other) => locks?._watch(other));
    if (!result._live && result._until < Infinity && !queue._failing) schedule(result._until + 1 - Date.now());
    const claimed = result._claimed.map(toEntry);
    const mine = new Set(idsOf(claimed));
    const lease = Date.now() + LEASE_MS;
    // What a closed page left is adopted, and goes first (it is older); ours keep their order; what
    // another tab took is forgotten here. Events in flight are the server's now, and events tracked while
    // the claim ran were not there to claim: both stay. What left meanwhile (by beacon, as the tab was
    // hidden) was in what the claim read, and is not adopted again.
    const adopted = claimed.filter(({ _id: id }) => !entries.has(id) && !left.has(id));
    const kept = [...entries.values()].filter(({ _id: id, _busy: busy }) => mine.has(id) || busy || !before.has(id));
    entries.clear();
    for (const entry of [...adopted, ...kept]) entries.set(entry._id, entry), mine.has(entry._id) && (entry.leaseUntil = lease);
    report('queued', idsOf(adopted), 'recovered');
    bound();
  };

  const pass = async () => {
    stopTimer();
    // Offline, or held for consent: 'online' and consent bring us back. A page that is going away claims
    // nothing more: what it held was beaconed or freed for the next page by leave().
    if (navigator.onLine === false || queue._verdict !== 'granted' || queue._unloading) return;
    queue._notBefore = Math.max(queue._notBefore, store._waitUntil());
    if (Date.now() < queue._notBefore) return schedule(queue._notBefore - Date.now());
    write();
    await claim();
    if (!queue._unloading) await round._send();
  };

  const pump = (): Promise<void> => {
    if (running) return (rerun = true), running;
    return (running = (async () => {
      do {
        rerun = false;
        await pass();
      } while (rerun && !queue._failing);
    })()
      .catch((error) => say('error', describe(error)))
      .finally(() => (running = undefined)));
  };

  return {
    add(events: MicroconvEvent[]) {
      const verdict = queue._verdict;
      if (verdict === 'denied') return report('dropped', events.map((event) => event.event_id), 'consent_denied');
      const now = Date.now();
      const added = events.map((event): Entry => ({ event, _id: event.event_id, owner, leaseUntil: now + LEASE_MS, sequence: ++tracked, _tries: 0 }));
      for (const entry of added) entries.set(entry._id, entry);
      if (store._durable()) unwritten.push(...added), scheduled || ((scheduled = true), queueMicrotask(write));
      report(verdict === 'pending' ? 'held' : 'queued', idsOf(added), verdict === 'pending' ? 'consent_pending' : undefined);
      bound();
      // While the destination fails, the backoff timer alone decides when to try again.
      if (queue._failing || verdict === 'pending') return;
      if (adapter.immediate) queueMicrotask(pump);
      else if (waiting().filter((entry) => !entry.suspect).length >= options._batch.size) void pump();
      else schedule(options._batch.intervalMs);
    },

    /** Sends what is waiting now, backoff or not (a server's Retry-After still holds); resolves when settled. */
    flush: pump,

    /** The page is visible again, or back from the back/forward cache. */
    resume: () => ((queue._unloading = false), store._back(), pump()),

    /** Another instance has gone (its lock was freed): what it held is taken over once its goodbye has arrived. */
    wake: () => queue._failing || schedule(HANDOVER_MS),

    /**
     * The page is hidden (`final` false) or left (`pagehide`): what can go by beacon goes, the rest is freed
     * for the next page (see leavePage).
     */
    leave(final?: boolean) {
      queue._unloading ||= !!final;
      stopTimer();
      if (queue._verdict !== 'granted') return;
      write();
      leavePage(queue, round._attempt, final);
    },

    /** Consent changed: denied drops what waits (withdrawn means not sent); granted sends what was held. */
    consentChanged() {
      const was = queue._verdict;
      const verdict = (queue._verdict = options._consent());
      if (verdict === was) return;
      if (verdict === 'denied') settle(waiting(), 'dropped', 'consent_denied');
      if (verdict !== 'granted') return;
      // Held events lived in memory only; now they may be stored.
      for (const entry of waiting()) (entry.leaseUntil = Date.now() + LEASE_MS), unwritten.push(entry);
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
      if (!store._durable()) settle([...entries.values()], 'dropped', 'destroyed');
    },
  };
}

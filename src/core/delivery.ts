import type { Adapter, ConsentState, DeliveryStatus, MicroconvEvent } from '../types';
import { describe, safe, type Log } from '../lib/safe';
import { gate } from './consent';
import { openJournal, type Journal } from './journal';
import { ownerLocks } from './locks';
import { createOutbox } from './outbox';

export interface DeliveryOptions {
  adapters: Adapter[];
  batch: { size: number; intervalMs: number };
  /** The consent state now. */
  consent(): ConsentState;
  report(adapter: string, status: DeliveryStatus, ids: string[], reason?: string): void;
  /** Something cut or refused on the way: counted under `reason`. */
  count(reason: string): void;
  log: Log;
}

/**
 * The delivery side of an instance (contract 4): one outbox per adapter, so that none delays another,
 * and the journal in IndexedDB that they share, with this instance's claim on it.
 */
export function createDelivery({ adapters, batch, consent, report, count, log }: DeliveryOptions) {
  const mayStore = () => consent().analytics_storage === 'granted';
  // This instance's name in the shared queue: unique enough across a site's tabs, and cheaper at load
  // than a first call into the browser's crypto.
  const owner = Date.now().toString(36) + Math.random().toString(36).slice(2);
  // IndexedDB opens on first need, and is given up for good at its first failure (idb-keyval keeps a
  // failed open, so every later call would fail the same way).
  let journal: Journal | undefined;
  let journalBroken = false;
  // This instance's claim on stored events lives as long as it does (see ownerLocks); when another
  // instance goes, every queue looks for what it left.
  const locks = ownerLocks(owner, () => void each((outbox) => outbox.wake()));
  const outboxes = adapters.map((adapter) =>
    createOutbox({
      _adapter: adapter,
      _owner: owner,
      _consent: () => gate(consent(), adapter.consent),
      _journal: () => (adapter.persistKey && mayStore() && !journalBroken ? (journal ||= (locks._hold(), openJournal())) : undefined),
      _journalFailed(error) {
        if (!journalBroken) log('warn', `IndexedDB failed (${describe(error)}); the queue is kept in memory`);
        journalBroken = true;
      },
      _batch: batch,
      _locks: locks,
      _report: (status, ids, reason) => report(adapter.name, status, ids, reason),
      _count: count,
      _log: log,
    }),
  );
  const each = (fn: (outbox: (typeof outboxes)[number]) => unknown) => Promise.all(outboxes.map(fn)).then(() => {});

  return {
    each,
    add: (event: MicroconvEvent) => outboxes.forEach((outbox) => outbox.add([event])),
    /** Events waiting, by adapter name. */
    waiting: () => Object.fromEntries(adapters.map((adapter, i) => [adapter.name, outboxes[i]!.size()])),
    /**
     * Consent changed (`couldStore`: whether storage was allowed before). In memory first, for every
     * queue, whatever storage does next: where storage throws at once (a sandboxed frame, some private
     * modes), a withdrawal must still stop every destination.
     */
    consentChanged(couldStore: boolean) {
      for (const outbox of outboxes) safe(log, 'consent', () => (outbox.consentChanged(), !couldStore && mayStore() && void outbox.flush()));
      // Withdrawn: no stored event may remain. Through a promise, so that an IndexedDB that throws at once throws nothing here either.
      if (couldStore && !mayStore() && journal) new Promise((resolve) => resolve(journal!._clear())).catch(() => {});
    },
    /** Sends what is queued and lets go of this instance's claim: what is still stored is the next page's. */
    async close() {
      await each((outbox) => outbox.close());
      locks._stop();
      for (const adapter of adapters) safe(log, adapter.name + '.destroy', () => adapter.destroy?.());
    },
  };
}

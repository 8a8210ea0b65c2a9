import { createStore, promisifyRequest } from 'idb-keyval';
import type { MicroconvEvent } from '../types';

/**
 * How long a claim on a stored event lasts where Web Locks are missing (see `claimRule`). It covers a
 * batch in flight (a send times out well before), and it is how long the events of a crashed tab wait
 * there before another tab or the next page load takes them over. A page that is closed normally frees
 * its events at once (see `GONE_KEY`).
 */
export const LEASE_MS = 60_000;

/**
 * A page that closes tells, from its `pagehide`, what became of its events: those it freed for the next
 * page, and, by omission, those it sent by beacon or left in flight by keepalive. IndexedDB writes begun
 * that late do not always land before the page is torn down; a localStorage write does, synchronously.
 * So each closing instance leaves `GONE_KEY + queue + ' ' + its id` = `[time, ids it freed]`, and a
 * claim takes those ids over and deletes the instance's other events, which have left already.
 */
export const GONE_KEY = 'microconv:gone:';

/** Closed instances of a queue: for each, the ids of the events it freed. */
export type Gone = Map<string, Set<string>>;

/**
 * What a claim by `owner` does with a stored event: takes it (its own, free, freed by a closed
 * instance, or its owner has gone), deletes it (a closed instance sent it), or leaves it to the live
 * instance that holds it.
 *
 * Whether an owner has gone: with Web Locks, `live` lists the instances that hold (or wait for) their
 * lock, which the browser frees the moment a tab is closed, crashes or is killed; an owner that stored
 * the event after `now` (the moment before `live` was read) has just started and counts as live too.
 * Without Web Locks (`live` undefined), its lease has run out.
 */
export function claimRule(stored: StoredEvent, owner: string, now: number, gone: Gone, live?: Set<string>): 'take' | 'delete' | 'leave' {
  const freed = stored.o && gone.get(stored.o);
  if (freed) return freed.has(stored.e.event_id) ? 'take' : 'delete';
  const left = live ? !live.has(stored.o!) && stored.l - LEASE_MS <= now : stored.l < now;
  return stored.o === owner || !stored.o || left ? 'take' : 'leave';
}

/** A stored event: the event, its owner (an instance id, or null when free) and the end of the lease. */
export interface StoredEvent {
  e: MicroconvEvent;
  o: string | null;
  l: number;
  /** Its place among the events its page tracked: the order of events of the same millisecond. */
  q: number;
  /** It failed before: it never shares a request with an event that has not (see the outbox). */
  suspect?: boolean;
  /** Its failures on its own while the destination took other events: its spent retry budget. */
  strikes?: number;
}

/** What a claim returns. */
export interface Claim {
  /** The events claimed, oldest first: these, and only these, the claiming instance may send now. */
  claimed: StoredEvent[];
  /** The other instances that still hold events. */
  owners: Set<string>;
  /** When the first of their leases runs out (Infinity when none). */
  until: number;
}

/**
 * The durable side of the queues: unsent events in IndexedDB (through idb-keyval), shared by the tabs
 * of the site. An event belongs to one instance at a time. A claim is one read-write transaction, and
 * IndexedDB runs read-write transactions on a store one after another, so no two tabs both claim, and
 * then both send, the same event.
 */
export interface Journal {
  put(queue: string, events: StoredEvent[]): Promise<void>;
  /**
   * Claims, until `now + LEASE_MS`, every event of `queue` that `claimRule` gives `owner`, and deletes
   * the events closed instances sent.
   */
  claim(queue: string, owner: string, now: number, gone: Gone, live?: Set<string>): Promise<Claim>;
  remove(queue: string, ids: string[]): Promise<void>;
  /** Frees events the caller holds a live lease on, for other tabs and the next page load. */
  release(queue: string, events: StoredEvent[]): Promise<void>;
  /** Deletes every stored event (consent withdrawn). */
  clear(): Promise<void>;
}

/** The journal, or undefined where IndexedDB is missing or throws at once. */
export function openJournal(): Journal | undefined {
  let store: ReturnType<typeof createStore>;
  try {
    store = createStore('microconv', 'outbox');
  } catch {
    return undefined;
  }
  const key = (queue: string, id: string) => queue + ' ' + id;
  // Writes that must land from a closing page commit at once, rather than at the end of the task.
  const write = (queue: string, events: StoredEvent[], owner?: null) =>
    store('readwrite', (s) => {
      for (const stored of events) s.put(owner === null ? { ...stored, o: null, l: 0 } : stored, key(queue, stored.e.event_id));
      s.transaction.commit?.();
      return promisifyRequest(s.transaction);
    });

  return {
    put: write,
    // Blind writes (one request each), so they land from a closing page. Only events whose lease is
    // still ours are released, and no other tab can have claimed those.
    release: (queue, events) => write(queue, events, null),
    claim: (queue, owner, now, gone, live) =>
      store('readwrite', async (s) => {
        const range = IDBKeyRange.bound(queue + ' ', queue + ' \uffff');
        const claimed: StoredEvent[] = [];
        const owners = new Set<string>();
        let until = Infinity;
        for (const item of await promisifyRequest<StoredEvent[]>(s.getAll(range))) {
          const rule = claimRule(item, owner, now, gone, live);
          if (rule === 'delete') s.delete(key(queue, item.e.event_id));
          else if (rule === 'leave') owners.add(item.o!), (until = Math.min(until, item.l));
          else claimed.push(item), s.put({ ...item, o: owner, l: now + LEASE_MS }, key(queue, item.e.event_id));
        }
        // Only a committed claim counts.
        await promisifyRequest(s.transaction);
        return { claimed: claimed.sort((a, b) => a.e.ts - b.e.ts || a.q - b.q), owners, until };
      }),
    remove: (queue, ids) =>
      store('readwrite', (s) => {
        for (const id of ids) s.delete(key(queue, id));
        s.transaction.commit?.();
        return promisifyRequest(s.transaction);
      }),
    clear: () => store('readwrite', (s) => (s.clear(), promisifyRequest(s.transaction))),
  };
}

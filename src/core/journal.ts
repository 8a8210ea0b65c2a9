/**
 * The journal and its claims: what the queues keep in storage, who owns it, and the one home of that
 * storage. Every IndexedDB and localStorage access of the outbox goes through this file: the stored
 * events (IndexedDB, through idb-keyval), the marks closing pages leave (`GONE_KEY`) and a server's
 * Retry-After (`WAIT_KEY`, both localStorage). The Web Locks that tie a claim to a live tab are in
 * `locks.ts`.
 */
import { createStore, promisifyRequest } from 'idb-keyval';
import type { MicroconvEvent } from '../types';
import { toJson } from '../lib/json';
import { storage, storedKeys } from './session';
import type { OwnerLocks } from './locks';

/**
 * How long a claim on a stored event lasts where Web Locks are missing (see `claimRule`). It covers a
 * batch in flight (a send times out well before), and it is how long the events of a crashed tab wait
 * there before another tab or the next page load takes them over. A page that is closed normally frees
 * its events at once (see `GONE_KEY`).
 */
export const LEASE_MS = 60_000;

/**
 * How long a lock asked for in one tab may take to show in a query from another: the request and the
 * query reach the browser's lock manager separately, and two tabs that start together can claim within
 * the same millisecond. An owner that stored an event more recently than this is not taken for gone.
 */
export const LOCK_LAG_MS = 1000;

/**
 * A page that closes tells, from its `pagehide`, what became of its events: those it freed for the next
 * page, and, by omission, those it sent by beacon or left in flight by keepalive. IndexedDB writes that
 * have not landed when the page is torn down are aborted with it (those begun at `pagehide`, and any
 * still queued behind another tab's transaction); a localStorage write lands, synchronously. So each
 * closing instance leaves `GONE_KEY + queue + ' ' + its id` = `[time, ids it freed, lost]`, and a claim
 * takes those ids over and deletes the instance's other events, which have left already. `lost`: the
 * stored form of the freed events whose write the page never saw land (see `queueStore`), which a claim
 * reads in place of a record that is missing.
 */
export const GONE_KEY = 'microconv:gone:';

/** At most this much of a mark (in UTF-16 units) holds the stored form of events: the newest unsure ones. */
export const MARK_ROOM = 32_768;

/** Where a server's Retry-After is kept for the pages that come after, per queue. */
export const WAIT_KEY = 'microconv:wait:';

/** A closed instance's mark, read: the ids of the events it freed, and the stored form of some of them. */
export interface Mark {
  _freed: Set<string>;
  _lost: StoredEvent[];
}

/** Closed instances of a queue, and their marks (undefined: unreadable). */
export type Gone = Map<string, Mark | undefined>;

/**
 * What an owner's mark says it freed (see `GONE_KEY`): undefined where it left none, false where it is
 * not asked (this instance, live).
 */
export type FreedOf = (owner: string) => Set<string> | false | undefined;

/** A stored event, as IndexedDB holds it. */
export interface StoredEvent {
  event: MicroconvEvent;
  /** The instance that holds it, or null when it is free for any. */
  owner: string | null;
  /** When the owner's claim runs out, where Web Locks are missing (see `claimRule`); 0 when free. */
  leaseUntil: number;
  /** Its place among the events its page tracked: the order of events of the same millisecond. */
  sequence: number;
  /** It failed before: it never shares a request with an event that has not (see the outbox). */
  suspect?: boolean;
  /** Its failures on its own while the destination took other events: its spent retry budget. */
  strikes?: number;
}

/** A stored event as earlier versions kept it, with one-letter names: still read, and rewritten in today's names when claimed. */
export interface ShortStoredEvent {
  e: MicroconvEvent;
  o: string | null;
  l: number;
  q: number;
  suspect?: boolean;
  strikes?: number;
}

/** Any stored event, in today's names: a record of the one-letter format is read as what it says. */
export const readStored = (record: StoredEvent | ShortStoredEvent): StoredEvent => {
  const { e, o, l, q, ...stored } = record as Partial<ShortStoredEvent> & StoredEvent;
  return e ? { ...stored, event: e, owner: o!, leaseUntil: l!, sequence: q! } : stored;
};

/**
 * A queued event as memory holds it: as stored, and what memory alone needs (`_`-named, so the minifier
 * shortens them; they are never stored).
 */
export interface Entry extends StoredEvent {
  /** `event.event_id`. */
  _id: string;
  /** Failed attempts that did not say whether to retry. */
  _tries: number;
  /** The most events it may share a request with: halved each time its batch fails while others go. */
  _cap?: number;
  /** In flight: the server's now. */
  _busy?: boolean;
}

export const toEntry = (stored: StoredEvent): Entry => ({ ...stored, _id: stored.event.event_id, _tries: 0 });

/** What is stored of an entry, held by `owner` (null: freed for any, with no lease). */
const toStored = ({ _id, _tries, _cap, _busy, ...stored }: Entry, owner: string | null): StoredEvent => ({ ...stored, owner, leaseUntil: owner ? stored.leaseUntil : 0 });

/**
 * What a claim by `owner` does with a stored event: takes it (its own, free, freed by a closed
 * instance, or its owner has gone), deletes it (a closed instance sent it), or leaves it to the live
 * instance that holds it. `freedOf(owner)`: what a closed owner's mark says it freed (undefined where
 * it left none, see `GONE_KEY`).
 *
 * Whether an owner has gone: with Web Locks, `live` lists the instances that hold (or wait for) their
 * lock, which the browser frees the moment a tab is closed, crashes or is killed. An owner that stored
 * the event less than `LOCK_LAG_MS` before `now` (the moment before `live` was read) may have just
 * started, its lock not yet listed, and counts as live too: the claim leaves the event and watches
 * that owner's lock. Without Web Locks (`live` undefined), its lease has run out.
 */
export function claimRule(stored: StoredEvent, owner: string, now: number, freedOf: FreedOf, live?: Set<string>): 'take' | 'delete' | 'leave' {
  const freed = stored.owner && freedOf(stored.owner);
  if (freed) return freed.has(stored.event.event_id) ? 'take' : 'delete';
  const left = live ? !live.has(stored.owner!) && stored.leaseUntil - LEASE_MS < now - LOCK_LAG_MS : stored.leaseUntil < now;
  return stored.owner === owner || !stored.owner || left ? 'take' : 'leave';
}

/** What a claim returns. */
export interface Claim {
  /** The events claimed, oldest first: these, and only these, the claiming instance may send now. */
  _claimed: StoredEvent[];
  /** The other instances that still hold events. */
  _owners: Set<string>;
  /** When the first of their leases runs out (Infinity when none). */
  _until: number;
  /** The live instances, as Web Locks told (undefined without them: leases decide). */
  _live?: Set<string>;
}

/**
 * `claimRule` over the stored events of a queue, in either format: returns the claim, and hands what
 * to write back to `take` (rewritten under the claimer's name and lease, in today's format; with Web
 * Locks, only what changes owner or format) and the ids to delete to `drop`.
 */
export function claimAll(records: (StoredEvent | ShortStoredEvent)[], owner: string, now: number, freedOf: FreedOf, live: Set<string> | undefined, take: (stored: StoredEvent) => void, drop: (id: string) => void): Claim {
  const claim: Claim = { _claimed: [], _owners: new Set(), _until: Infinity, _live: live };
  for (const record of records) {
    const stored = readStored(record);
    const rule = claimRule(stored, owner, now, freedOf, live);
    if (rule === 'delete') drop(stored.event.event_id);
    else if (rule === 'leave') claim._owners.add(stored.owner!), (claim._until = Math.min(claim._until, stored.leaseUntil));
    else {
      claim._claimed.push(stored);
      // Where Web Locks tell who is alive, a lease does not: our own events, in today's format, are left
      // as they are (each write back is a copy of the event, every round).
      if (!live || stored.owner !== owner || (record as ShortStoredEvent).e) take({ ...stored, owner, leaseUntil: now + LEASE_MS });
    }
  }
  claim._claimed.sort((a, b) => a.event.ts - b.event.ts || a.sequence - b.sequence);
  return claim;
}

/**
 * The durable side of the queues: unsent events in IndexedDB (through idb-keyval), shared by the tabs
 * of the site. An event belongs to one instance at a time. A claim is one read-write transaction, and
 * IndexedDB runs read-write transactions on a store one after another, so no two tabs both claim, and
 * then both send, the same event.
 */
export interface Journal {
  /** Writes events (freed ones, too: owner null). Settles only if the write fails (rejects): one that lands calls nothing back. */
  _put(queue: string, events: StoredEvent[]): Promise<void>;
  /**
   * A claim: one read-write transaction over the stored events of `queue`, in which `claim` (`claimAll`)
   * reads them and hands over what to write back (`take`) and what to delete (`drop`). Resolves to what
   * `claim` returns, once committed.
   */
  _claim<T>(queue: string, claim: (records: (StoredEvent | ShortStoredEvent)[], take: (stored: StoredEvent) => void, drop: (id: string) => void) => T): Promise<T>;
  /** Deletes events; settles, like `_put`, only if it fails. */
  _remove(queue: string, ids: string[]): Promise<void>;
  /** Deletes every stored event (consent withdrawn). */
  _clear(): Promise<void>;
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
  // Blind writes (one request each), so they land from a closing page: they commit at once, rather
  // than at the end of the task. Only a failure calls back (an abort follows every failed request): a
  // write that lands costs the page no call into microconv, and one per tracking task adds up.
  const write = (change: (s: IDBObjectStore) => void) =>
    store('readwrite', (s) => {
      change(s);
      s.transaction.commit?.();
      return new Promise<void>((_, reject) => (s.transaction.onabort = () => reject(s.transaction.error)));
    });

  return {
    _put: (queue, events) => write((s) => events.forEach((stored) => s.put(stored, key(queue, stored.event.event_id)))),
    _remove: (queue, ids) => write((s) => ids.forEach((id) => s.delete(key(queue, id)))),
    _claim: (queue, claim) =>
      store('readwrite', async (s) => {
        const result = claim(
          await promisifyRequest(s.getAll(IDBKeyRange.bound(queue + ' ', queue + ' \uffff'))),
          (stored) => s.put(stored, key(queue, stored.event.event_id)),
          (id) => s.delete(key(queue, id)),
        );
        // Only a committed claim counts.
        await promisifyRequest(s.transaction);
        return result;
      }),
    _clear: () => store('readwrite', (s) => (s.clear(), promisifyRequest(s.transaction))),
  };
}

/**
 * The closed instances of a queue (`GONE_KEY` marks) and what each said; an unreadable mark is listed as
 * freeing nothing known (undefined), so that it is removed with the others once it holds nothing.
 */
function goneInstances(prefix: string): Gone {
  const gone: Gone = new Map();
  for (const key of storedKeys(prefix)) gone.set(key.slice(prefix.length), readMark(key));
  return gone;
}

/** A `GONE_KEY` mark (earlier versions wrote no `lost`), or undefined where it is unreadable. */
const readMark = (key: string): Mark | undefined => {
  try {
    const [, freed, lost] = JSON.parse(storage('getItem', key)!);
    return { _freed: new Set(freed), _lost: lost || [] };
  } catch {}
};

/**
 * The records a claim read, and after them, the closed instances' copies of freed events whose record is
 * missing (its write was aborted as the page was torn down): each such copy stands for its record. A
 * missing record may also mean that another tab took the events and sent them, and it removes the mark
 * once it has taken them: so only marks still there as the claim runs (`kept`) are read.
 */
export function withLost(records: (StoredEvent | ShortStoredEvent)[], gone: Gone | undefined, kept: (owner: string) => unknown): (StoredEvent | ShortStoredEvent)[] {
  const copies: StoredEvent[] = [];
  gone?.forEach((mark, other) => mark?._lost.length && kept(other) && copies.push(...mark._lost));
  // Nearly every claim: no copies, and nothing to look up.
  if (!copies.length) return records;
  const known = new Set(records.map((record) => readStored(record).event.event_id));
  return [...records, ...copies.filter(({ event }) => !known.has(event.event_id) && known.add(event.event_id))];
}

/**
 * The storage of one queue, as its outbox uses it: in memory's terms (entries), held by `owner`.
 *
 * Every journal call goes through here; its first failure hands the queue to memory for good. A broken
 * IndexedDB can throw at once (a replaced `indexedDB.open`) or fail later: both count. Writes can fail
 * while deletes work (a full quota), and what was stored before stays there: `remove` (deletes of what
 * was delivered) still goes to the journal that worked, or a later page would send those events again.
 * Its failures change nothing.
 */
export function queueStore(queue: string, owner: string, journal: () => Journal | undefined, journalFailed: (error: unknown) => void) {
  // The journal once this queue has written to it: it may hold our events after it fails. (A write that
  // lands says nothing back, so having written is what counts.)
  let worked: Journal | undefined;
  let waitRead = false;
  const marks = GONE_KEY + queue + ' ';
  const mark = marks + owner;
  const use = <T>(task: (j: Journal) => Promise<T>, afterFailure?: boolean): Promise<T | void> => {
    const current = journal();
    const j = current || (afterFailure ? worked : undefined);
    if (!j) return Promise.resolve();
    worked = j;
    return new Promise<T>((resolve) => resolve(task(j))).catch(current ? journalFailed : () => {});
  };
  // This instance's first claim is done (the marks it found are read); it has said it left (its own mark is set).
  let claimed = false;
  let said = false;
  // What it freed as it left (see GONE_KEY).
  let left: Entry[] = [];
  // Events whose write this instance has not seen land. A write says nothing back when it lands, but a
  // claim runs after every write begun before it (IndexedDB runs read-write transactions on a store in
  // the order they were made), so a committed claim says that those writes landed. (Every round claims
  // first, so the set holds what was tracked since the last round, or since going offline.)
  const unsure = new Set<string>();
  const say = (freed: Entry[]) => {
    let room = MARK_ROOM;
    // Newest first: the writes most likely still on their way. Only while storing is allowed and works.
    const lost = (journal() ? freed : [])
      .filter((entry) => unsure.has(entry._id))
      .reverse()
      .map((entry) => toStored(entry, owner))
      .filter((stored) => {
        const size = toJson(stored).length;
        return size <= room && ((room -= size), true);
      });
    said = true;
    const note = [Date.now(), freed.map((entry) => entry._id)];
    // Where the copies do not fit what is left of the site's storage, the ids alone still say what was sent.
    try {
      localStorage.setItem(mark, toJson([...note, lost]));
    } catch {
      storage('setItem', mark, toJson(note));
    }
  };
  const put = (list: Entry[], holder: string | null) => list.length && void use((j) => j._put(queue, list.map((entry) => toStored(entry, holder))));
  return {
    /** Whether events are stored (else memory alone holds them). */
    _durable: () => !!journal(),
    _put: (list: Entry[]) => (list.forEach((entry) => unsure.add(entry._id)), put(list, owner)),
    /** Frees events this instance holds a live lease on, for other tabs and the next page load: no other tab can have claimed those. */
    _release: (list: Entry[]) => put(list, null),
    _remove: (list: Entry[]) => list.length && void use((j) => j._remove(queue, list.map((entry) => entry._id)), true),
    /** Takes from the journal what this instance may send now (see `claimRule`), or undefined without one. */
    async _claim(now: number, locks?: OwnerLocks): Promise<Claim | void> {
      // The marks are read (all of localStorage enumerated, a cost that grows with the site's keys) at
      // this instance's first claim, and after it only when a stored event asks: one of another
      // instance, or one of this instance once it has said it left.
      let gone: Gone | undefined;
      const marksOf = (other: string) => (other !== owner || said) && (gone ||= goneInstances(marks)).get(other)?._freed;
      const landed = [...unsure];
      const claim = await use(async (j) => {
        // The locks first, then the marks: an instance whose lock is freed has left its mark before.
        const live = await locks?._live();
        if (!claimed) gone = goneInstances(marks);
        return j._claim(queue, (records, take, drop) => claimAll(withLost(records, gone, (other) => storage('getItem', marks + other)), owner, now, marksOf, live, take, drop));
      });
      // Marks of closed instances that hold nothing more are done with.
      if (claim) {
        claimed = true;
        for (const id of landed) unsure.delete(id);
        gone?.forEach((_, other) => claim._owners.has(other) || storage('removeItem', marks + other));
      }
      return claim;
    },
    /**
     * The page closes: says which events it freed for the next page (see GONE_KEY); also after the
     * journal failed, when what was stored before may still be there.
     */
    _leave: (freed: Entry[]) => (journal() || worked) && say((left = freed)),
    /** Events that left as the page closed came back refused: freed too, after all. */
    _freeLate(list: Entry[]) {
      if (!journal()) return;
      say((left = [...left, ...list]));
      put(list, null);
    },
    /** The page is back: it holds its events again. */
    _back: () => ((said = false), (left = []), storage('removeItem', mark)),
    /**
     * A wait a server asked for (Retry-After), which a page before this one may have been told of. Read
     * once, at the first round, not at start: a first localStorage read can block for milliseconds.
     */
    _waitUntil: () => (!waitRead && journal() && ((waitRead = true), Number(storage('getItem', WAIT_KEY + queue)))) || 0,
    /** The next page load of the site must wait too: the server asked the site, not this page. */
    _wait: (until: number) => journal() && storage('setItem', WAIT_KEY + queue, String(until)),
  };
}

export type QueueStore = ReturnType<typeof queueStore>;

/** The name of the Web Lock an instance holds while it lives: `LOCK_PREFIX + its owner id`. */
export const LOCK_PREFIX = 'microconv:owner:';

/** What the outbox asks of the locks: who lives, and to be woken when another instance goes. */
export interface OwnerLocks {
  /** The owners whose instances live, or undefined without Web Locks (leases decide then). Never rejects. */
  _live(): Promise<Set<string> | undefined>;
  /** Asks to be woken (the `wake` given to `ownerLocks`) once `other`'s instance has gone. */
  _watch(other: string): void;
}

/**
 * The claims of one instance on stored events, tied to its life by a Web Lock (contract 4: "a tab's claim
 * on stored events dies with it"). The instance holds a lock named for its owner id from its first
 * stored event on; the browser frees it the moment the tab is closed, crashes or is killed, so a claim
 * can tell at once whose events are orphaned (`live`). A page that sees another instance's events waits
 * for that instance's lock in the background (`watch`): the browser grants it when that tab dies, and
 * `wake` lets this page take the events over while it stays open. Where Web Locks are missing (an
 * insecure context, an old browser), `live` says so and the 60 s leases of the journal decide instead.
 */
export function ownerLocks(owner: string, wake: () => void) {
  const locks = (navigator as Partial<Navigator>).locks;
  const stopped = new AbortController();
  const watched = new Set<string>();
  let holding = false;
  let release: (() => void) | undefined;
  // A request for a lock that is not granted by stop() is aborted then, and rejects: nothing to say. An
  // opaque origin (a sandboxed frame) refuses Web Locks: then leases decide, as where they are missing.
  const request = (name: string, held: () => unknown) => void new Promise((resolve) => resolve(locks!.request(name, { signal: stopped.signal }, held))).catch(() => {});
  return {
    /** Holds this instance's lock until `stop()`: from before its first event is stored. */
    _hold() {
      if (locks && !holding) (holding = true), request(LOCK_PREFIX + owner, () => new Promise<void>((resolve) => (release = resolve)));
    },
    _live: () =>
      locks
        ? new Promise<LockManagerSnapshot>((resolve) => resolve(locks.query())).then(
            // Pending too: an instance that has just asked for its lock lives. (Other locks' names make ids of no one.)
            ({ held = [], pending = [] }) => new Set([...held, ...pending].map((lock) => String(lock.name).slice(LOCK_PREFIX.length))),
            () => undefined,
          )
        : Promise.resolve(undefined),
    _watch(other: string) {
      if (!locks || watched.has(other)) return;
      watched.add(other);
      // Granted once `other` has let go of its lock: it has gone. Released again at once.
      request(LOCK_PREFIX + other, () => (watched.delete(other), wake()));
    },
    /** Lets go of this instance's lock and stops waiting for others' (destroy()). */
    _stop() {
      stopped.abort();
      release?.();
    },
  };
}

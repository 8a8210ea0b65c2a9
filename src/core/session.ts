import type { Attribution } from '../types';
import { landingAttribution } from '../lib/context';
import { toJson } from '../lib/json';
import { uuid } from '../lib/uuid';

/** Contract 5: a session ends after 30 minutes without activity. */
export const SESSION_TIMEOUT_MS = 30 * 60_000;
export const SESSION_KEY = 'microconv:session';
export const ID_KEY = 'microconv:id';

export interface SessionState {
  id: string;
  /** Last activity, epoch ms. */
  last: number;
  attribution: Attribution;
}

// localStorage throws in sandboxed frames and where storage is blocked; memory then carries on alone.
export const storage = (method: 'getItem' | 'setItem' | 'removeItem', key: string, value?: string): string | null | undefined => {
  try {
    return localStorage[method](key, value!) as string | null | undefined;
  } catch {}
};

/**
 * The keys of localStorage that start with `prefix`, none where it throws. All of it is enumerated: a
 * cost that grows with the site's keys.
 */
export const storedKeys = (prefix: string): string[] => {
  try {
    return Object.keys(localStorage).filter((key) => key.startsWith(prefix));
  } catch {
    return [];
  }
};

/**
 * Sessions and the anonymous id. With `analytics_storage` consent (`mayStore()`), both live in
 * localStorage, shared by the tabs of the site; without it nothing is written, and the session lives
 * in memory, for this page only. `keep`: the query parameters the site lets URLs keep (`urlParams`).
 */
export function createSession(mayStore: () => boolean, keep: readonly string[] = []) {
  let current: SessionState | undefined;
  let id: string | null | undefined;
  // Storage is read and written at most every few seconds: against a 30-minute timeout, and with one
  // session shared by the tabs of a site, that loses nothing, and saves a storage round trip per event.
  let synced = 0;
  return {
    /** The session at `now`: a new one, with this page's attribution, after the timeout. */
    _touch(now: number): SessionState {
      let stored: SessionState | undefined;
      const sync = mayStore() && now - synced > 5000;
      try {
        if (sync) stored = JSON.parse(storage('getItem', SESSION_KEY)!);
      } catch {}
      // Another tab may have moved the shared session on: the latest activity wins.
      let state = stored?.id && !(current && current.last > stored.last) ? stored : current;
      const fresh = !state || !(now - state.last < SESSION_TIMEOUT_MS);
      if (fresh) state = { id: uuid(), last: now, attribution: landingAttribution(keep) };
      state!.last = now;
      if (mayStore() && (fresh || sync)) (synced = now), storage('setItem', SESSION_KEY, toJson(state));
      return (current = state!);
    },
    /** The first-party browser id, or null while it may not be kept. */
    _anonymousId(): string | null {
      if (!mayStore()) return null;
      if (!id) storage('setItem', ID_KEY, (id = storage('getItem', ID_KEY) || uuid()));
      return id;
    },
    /** Consent withdrawn: every identifier, and everything else of microconv's, leaves storage. */
    _forget() {
      id = null;
      synced = 0;
      for (const key of storedKeys('microconv:')) storage('removeItem', key);
    },
  };
}
export type Session = ReturnType<typeof createSession>;

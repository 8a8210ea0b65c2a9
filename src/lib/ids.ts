import type { ConsentState, EventIds, Identity, MicroconvEvent } from '../types';
import { describe } from './safe';

/**
 * The identifiers an event carries for server-side matching (contract 5, `ids`), and `identify()`.
 * Cookies are only read: microconv writes none of Meta's or Google's. What each needs:
 * - `fbp`, `fbc` and the e-mail and phone hashes: `ad_storage` (ad cookies, ad click ids) and
 *   `ad_user_data` (data about the person sent for advertising);
 * - `ga_client_id` and `user_id`: `analytics_storage`, as `anonymous_id`.
 */

/**
 * A raw identifier waiting for its hash (or with no `crypto.subtle` to make one), and the hashing under
 * way. A symbol key: JSON leaves it out, so it never reaches storage or a vendor tag; only the endpoint
 * adapter reads it (`withIdentity`), for the collector to hash on receipt.
 */
export const RAW_IDS: unique symbol = Symbol();
type Waiting = { [RAW_IDS]?: [raw: EventIds, hashed?: Promise<unknown>] };

/** The page's cookies as one string, or '' where reading them throws (as in some sandboxed frames). */
const cookies = (): string => {
  try {
    return document.cookie;
  } catch {
    return '';
  }
};

/** A cookie of the page (of `jar`, the page's cookies read once for several), or undefined. */
export function readCookie(name: string, jar = cookies()): string | undefined {
  try {
    for (const pair of jar.split(/; */)) if (pair.startsWith(name + '=')) return decodeURIComponent(pair.slice(name.length + 1));
  } catch {}
}

/** GA4's client id from the `_ga` cookie (`GA1.1.123.456` gives `123.456`), or undefined. */
export const gaClientId = (cookie = ''): string | undefined => /^GA\d\.\d+\.(\d+\.\d+)$/.exec(cookie)?.[1];

/** Meta's `fbc` from a click id, as Meta documents it when there is no `_fbc`: `fb.1.{ms}.{fbclid}`. */
export const composeFbc = (fbclid: string, at: number): string => `fb.1.${at}.${fbclid}`;

/** An event with the raw identifiers it still waits on put into its `ids`: for the first-party endpoint only. */
export const withIdentity = (event: MicroconvEvent): MicroconvEvent => {
  const raw = (event as Waiting)[RAW_IDS]?.[0];
  return raw ? { ...event, ids: { ...event.ids, ...raw } } : event;
};

/** Resolves once the events' hashes are in their `ids` (at once, when none is under way). */
export const hashed = (events: MicroconvEvent[]): Promise<unknown> => Promise.all(events.map((event) => (event as Waiting)[RAW_IDS]?.[1]));

/** identify()'s e-mail and phone, checked, normalised and hashed: a part of its own, fetched at first need by the script tag. */
const loadIdentity = () => import('./identify').then((module) => module.identity);

type Entry = [raw: EventIds, hashing: Promise<EventIds | void>];

/**
 * One instance's identity and identifiers. `_identify` refuses an argument of the wrong shape at once
 * (`fail`); the e-mail and phone are checked, normalised and hashed by the lazy part `./identify`
 * (`microconv-identify.js` for the script tag, fetched at the first identify() that gives one), whose
 * problems go to `refused`, and whose absence to `unavailable`. `_stamp` gives an event the consent it is
 * tracked under and the ids that consent allows.
 */
export function createIds(fail: (message: string) => void, refused: (message: string) => void, unavailable: (message: string) => void) {
  let userId: string | undefined;
  // The raw values (as given, then normalised), and the hashing to come; then the hashes, once known.
  let waiting: Entry | undefined;
  let known: EventIds | undefined;
  // Meta asks for the time the click id was first seen when there is no `_fbc` cookie to read it from.
  let composed: string[] = [];
  // The page's cookies, read once, then again only after one of them changes, where the browser tells
  // (the Cookie Store API's `change` event, for the page's writes and its responses' alike: Chromium,
  // Safari 18.4 and later); elsewhere, read for every event. A read is the browser's work, up to 0.1 ms
  // in a page's first interactions. A change is told a few ms after it is made: an event tracked within
  // those ms carries the cookie as it was before.
  let jar: string | undefined;
  let store: EventTarget | undefined;
  const forget = () => void (jar = undefined);
  const readJar = () => {
    try {
      // Subscribed before the read, so no change falls between them, and kept only once subscribed (a
      // page may have patched addEventListener to throw). `instanceof` the real class (it throws where
      // there is none): an element whose id is `cookieStore` is a window property too.
      const { CookieStore, cookieStore } = window as any;
      if (!store && cookieStore instanceof CookieStore) cookieStore.addEventListener('change', forget), (store = cookieStore);
    } catch {}
    return cookies();
  };

  return {
    _identify(identity: Identity): void {
      const { user_id, email, phone } = Object(identity) as Identity;
      if (!identity || typeof identity != 'object' || [user_id, email, phone].some((value) => value != null && typeof value != 'string')) return fail('identify() takes { user_id?, email?, phone? }, strings');
      userId = user_id || undefined;
      known = waiting = undefined;
      if (!email && !phone) return;
      // As given until the part has normalised them: a page left meanwhile sends them so to its own
      // collector alone, which normalises and hashes them on receipt, as it does where the part cannot come.
      const raw: EventIds = { email, phone };
      const entry: Entry = (waiting = [
        raw,
        loadIdentity()
          .then(
            (identity) => identity(raw, refused),
            (error) => unavailable(`identify(): ${describe(error)}: the e-mail and phone go unhashed, to the endpoint alone`),
          )
          .then((hashes) => (hashes && waiting == entry && (known = hashes), hashes))
          .catch(() => {}),
      ]);
    },
    /** Reads the cookies ahead of the first event, at an idle moment: a page's first read is its dearest. */
    _warm: () => void (jar ??= readJar()),
    /** destroy(): the cookies' changes are no longer listened to. */
    _stop: () => store?.removeEventListener('change', forget),
    _stamp(event: MicroconvEvent & Waiting, consent: ConsentState, now: number) {
      const fbclid = event.attribution.fbclid;
      const ids: EventIds = {};
      if (fbclid && composed[0] != fbclid) composed = [fbclid, composeFbc(fbclid, now)];
      event.consent = { ...consent };
      event.ids = ids;
      // The cookies are read at most once per event, and only when the consent given lets an id be taken
      // from them; where no change can be told, for every event.
      if (!store) jar = undefined;
      const cookie = (name: string) => readCookie(name, (jar ??= readJar()));
      if (consent.analytics_storage == 'granted') (ids.ga_client_id = gaClientId(cookie('_ga'))), (ids.user_id = userId);
      if (consent.ad_storage != 'granted' || consent.ad_user_data != 'granted') return;
      ids.fbp = cookie('_fbp');
      ids.fbc = cookie('_fbc') || (fbclid ? composed[1] : undefined);
      if (known) Object.assign(ids, known);
      // Until the hashes are in, the raw values wait beside the event; without hashes, the collector hashes them.
      else if (waiting) event[RAW_IDS] = [waiting[0], waiting[1].then((hashes) => hashes && (Object.assign(ids, hashes), delete event[RAW_IDS]))];
    },
  };
}

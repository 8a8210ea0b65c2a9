import type { ConsentState, EventIds, Identity, MicroconvEvent } from '../types';

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

/** A cookie of the page, or undefined (where reading cookies throws, as in some sandboxed frames, too). */
export function readCookie(name: string): string | undefined {
  try {
    for (const pair of document.cookie.split(/; */)) if (pair.startsWith(name + '=')) return decodeURIComponent(pair.slice(name.length + 1));
  } catch {}
}

/** GA4's client id from the `_ga` cookie (`GA1.1.123.456` gives `123.456`), or undefined. */
export const gaClientId = (cookie = ''): string | undefined => /^GA\d\.\d+\.(\d+\.\d+)$/.exec(cookie)?.[1];

/** Meta's `fbc` from a click id, as Meta documents it when there is no `_fbc`: `fb.1.{ms}.{fbclid}`. */
export const composeFbc = (fbclid: string, at: number): string => `fb.1.${at}.${fbclid}`;

/** The e-mail as Meta and Google hash it (trimmed, lower case), or undefined if it is not one. */
export function normaliseEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return email;
}

/** Google's form besides: Gmail ignores dots before the `@`, so Google hashes without them. */
export const googleEmail = (email: string): string => email.replace(/\.(?=[^@]*@g(oogle)?mail\.com$)/g, '');

/**
 * The phone as country code and digits (`+1 (616) 954-7888` gives `16169547888`): Meta's form, and
 * E.164 without its `+` (Google's). The country code must be there (`+` or `00`): without it no
 * platform can match the number. Undefined if it cannot be one (E.164: 7 to 15 digits).
 */
export function normalisePhone(raw: string): string | undefined {
  // A trunk zero written in brackets (`+44 (0)20 …`) is not dialled from abroad.
  const match = /^(\+|00)([\d\s().-]+)$/.exec(raw.trim().replace('(0)', ''));
  const digits = match?.[2]!.replace(/\D/g, '').replace(/^0+/, '');
  if (digits && /^\d{7,15}$/.test(digits)) return digits;
}

/** The SHA-256 of a text, as 64 hex digits. */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The identity's hashes: Meta's form, and Google's where it differs (a dotted Gmail address; the phone's `+`). */
export async function hashIdentity(email?: string, phone?: string): Promise<EventIds> {
  const ids: EventIds = {};
  if (email) (ids.email_sha256 = await sha256(email)), googleEmail(email) != email && (ids.google_email_sha256 = await sha256(googleEmail(email)));
  if (phone) (ids.phone_sha256 = await sha256(phone)), (ids.google_phone_sha256 = await sha256('+' + phone));
  return ids;
}

/** An event with the raw identifiers it still waits on put into its `ids`: for the first-party endpoint only. */
export const withIdentity = (event: MicroconvEvent): MicroconvEvent => {
  const raw = (event as Waiting)[RAW_IDS]?.[0];
  return raw ? { ...event, ids: { ...event.ids, ...raw } } : event;
};

/** Resolves once the events' hashes are in their `ids` (at once, when none is under way). */
export const hashed = (events: MicroconvEvent[]): Promise<unknown> => Promise.all(events.map((event) => (event as Waiting)[RAW_IDS]?.[1]));

/**
 * One instance's identity and identifiers. `identify` returns a problem for bad input, else nothing;
 * `stamp` gives an event the consent it is tracked under and the ids that consent allows.
 */
export function createIds() {
  let userId: string | undefined;
  // The normalised raw values, and their hashing; then the hashes, once known.
  let waiting: [raw: EventIds, hashing?: Promise<EventIds>] | undefined;
  let known: EventIds | undefined;
  // Meta asks for the time the click id was first seen when there is no `_fbc` cookie to read it from.
  let composed: string[] = [];

  return {
    identify(identity: Identity): string | void {
      const { user_id, email, phone } = Object(identity) as Identity;
      if (!identity || typeof identity != 'object' || [user_id, email, phone].some((value) => value != null && typeof value != 'string')) return 'identify() takes { user_id?, email?, phone? }, strings';
      const address = email && normaliseEmail(email);
      const number = phone && normalisePhone(phone);
      if (email && !address) return 'identify(): email is not an e-mail address';
      if (phone && !number) return 'identify(): phone needs its country code (+33 6 12 34 56 78)';
      userId = user_id || undefined;
      known = waiting = undefined;
      if (address || number) {
        // Hashed in the browser where it can be; elsewhere (no crypto.subtle outside secure contexts) the raw
        // values go to the first-party endpoint alone, and the collector hashes them on receipt.
        const hashing = self.crypto?.subtle && hashIdentity(address, number);
        waiting = [{ email: address, phone: number && '+' + number }, hashing];
        hashing?.then((ids) => (known = ids), () => {});
      }
    },
    stamp(event: MicroconvEvent & Waiting, consent: ConsentState, now: number) {
      const fbclid = event.attribution.fbclid;
      const ids: EventIds = {};
      if (fbclid && composed[0] != fbclid) composed = [fbclid, composeFbc(fbclid, now)];
      event.consent = { ...consent };
      event.ids = ids;
      if (consent.analytics_storage == 'granted') (ids.ga_client_id = gaClientId(readCookie('_ga'))), (ids.user_id = userId);
      if (consent.ad_storage != 'granted' || consent.ad_user_data != 'granted') return;
      ids.fbp = readCookie('_fbp');
      ids.fbc = readCookie('_fbc') || (fbclid ? composed[1] : undefined);
      if (known) Object.assign(ids, known);
      // Until the hashes are in, the raw values wait beside the event; if hashing fails, the collector hashes them.
      else if (waiting) event[RAW_IDS] = [waiting[0], waiting[1]?.then((hashes) => (Object.assign(ids, hashes), delete event[RAW_IDS]), () => {})];
    },
  };
}

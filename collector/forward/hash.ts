import { createHash } from 'node:crypto';
import type { Identifiers } from './types';

/**
 * E-mail addresses and phone numbers become SHA-256 hashes of their normalised form before anything
 * is stored: the browser hashes where `crypto.subtle` exists, and this module does it on receipt for
 * clients that could not. The raw value is never stored, whatever the rest of the event says.
 *
 * Meta and Google normalise differently, so a raw value yields both hashes:
 * - Meta (Conversions API, customer information parameters): e-mail trimmed and lower-cased; phone as
 *   digits only, country code first, no `+`, no leading zeros.
 * - Google (Google Ads enhanced conversions): e-mail trimmed and lower-cased, and for gmail.com and
 *   googlemail.com the dots before the `@` removed; phone in E.164 (`+` then digits).
 */
export interface IdentifierOptions {
  /**
   * The country calling code (digits, `33` for France) for phone numbers written without one
   * (`06 12 34 56 78`). Without it such numbers cannot be matched by anyone and are dropped, counted.
   */
  defaultCallingCode?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** E.164: at most 15 digits with the country code; fewer than 7 is no phone number anywhere. */
const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Meta's (and, but for Gmail dots, Google's) e-mail form; `null` when it is no e-mail address. */
export function normaliseEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return EMAIL.test(email) ? email : null;
}

/** Google's e-mail form: Gmail ignores dots in the local part, so Google matches without them. */
export function normaliseEmailForGoogle(raw: string): string | null {
  const email = normaliseEmail(raw);
  if (!email) return null;
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  return domain === 'gmail.com' || domain === 'googlemail.com' ? `${email.slice(0, at).replace(/\./g, '')}@${domain}` : email;
}

/**
 * The number as country code and digits (`33612345678`), Meta's form; E.164 is `+` and the same.
 * `+33 6 12 34 56 78` and `0033 6 12 34 56 78` carry their country; `06 12 34 56 78` needs
 * `defaultCallingCode` (its trunk zero goes). `null` when it cannot be a phone number.
 */
export function normalisePhone(raw: string, defaultCallingCode?: string): string | null {
  const text = raw.trim();
  if (/[a-z]/i.test(text.replace(/(ext|x)\.?\s*\d+$/i, ''))) return null;
  const body = text.replace(/(ext|x)\.?\s*\d+$/i, '');
  let digits: string;
  if (body.startsWith('+')) digits = body.replace(/\D/g, '');
  else if (body.startsWith('00')) digits = body.replace(/\D/g, '').slice(2);
  else if (defaultCallingCode && /^\d{1,3}$/.test(defaultCallingCode)) digits = defaultCallingCode + body.replace(/\D/g, '').replace(/^0+/, '');
  else return null;
  digits = digits.replace(/^0+/, '');
  return digits.length >= MIN_PHONE_DIGITS && digits.length <= MAX_PHONE_DIGITS ? digits : null;
}

/** Why a raw identifier was left out (counted by the caller). */
export type IdentifierDrop = 'email_not_an_address' | 'phone_not_a_number' | 'phone_without_country_code';

/**
 * The identifiers with the raw `email` and `phone` replaced by their hashes (both platforms' forms);
 * a raw value that cannot be used is left out, its reason given to `drop`. Either way the raw value
 * is gone. The `*_sha256` fields are left as they came (unless a raw value replaces them): checking
 * that they hold hashes is the validator's job (`validate.ts`), which refuses an event whose hash
 * field holds anything else, so that a client putting an address there by mistake hears about it.
 */
export function hashIdentifiers(ids: Identifiers, options: IdentifierOptions = {}, drop: (reason: IdentifierDrop) => void = () => {}): Identifiers {
  const { email, phone, ...out } = ids;
  const given = (value: unknown) => value !== undefined && value !== null;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);

  if (given(email)) {
    const raw = text(email);
    const meta = raw === null ? null : normaliseEmail(raw);
    const google = raw === null ? null : normaliseEmailForGoogle(raw);
    if (meta && google) {
      out.email_sha256 = sha256Hex(meta);
      out.google_email_sha256 = sha256Hex(google);
    } else drop('email_not_an_address');
  }

  if (given(phone)) {
    const raw = text(phone);
    const digits = raw === null ? null : normalisePhone(raw, options.defaultCallingCode);
    if (digits) {
      out.phone_sha256 = sha256Hex(digits);
      out.google_phone_sha256 = sha256Hex(`+${digits}`);
    } else {
      const international = raw !== null && /^\s*(\+|00)/.test(raw);
      drop(raw === null || international || options.defaultCallingCode ? 'phone_not_a_number' : 'phone_without_country_code');
    }
  }
  return out;
}

/**
 * The events with each one's `ids` passed through `hashIdentifiers`. Any value is taken (the
 * collector runs this on the parsed body, before validation keeps only the fields it knows, which
 * would drop `email` and `phone` unread); events without an `ids` object are returned as they are
 * (the same objects), and nothing given is changed in place.
 */
export function protectIdentifiers<E>(events: readonly E[], options: IdentifierOptions = {}, drop?: (reason: IdentifierDrop) => void): E[] {
  return events.map((event) => {
    const ids = isObject(event) ? event.ids : undefined;
    if (!isObject(ids)) return event;
    return { ...event, ids: hashIdentifiers(ids as Identifiers, options, drop) };
  });
}

/**
 * A parsed `POST /collect` body with every event's raw identifiers hashed (`protectIdentifiers`);
 * anything that is not a batch is returned as it is, for the validator to refuse.
 */
export function protectPayload(body: unknown, options: IdentifierOptions = {}, drop?: (reason: IdentifierDrop) => void): unknown {
  if (!isObject(body) || !Array.isArray(body.events)) return body;
  return { ...body, events: protectIdentifiers(body.events, options, drop) };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

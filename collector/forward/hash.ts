import { createHash } from 'node:crypto';
import type { ForwardableEvent, Identifiers } from './types';

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

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** E.164: at most 15 digits with the country code; fewer than 7 is no phone number anywhere. */
const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;

const isHash = (value: unknown): value is string => typeof value === 'string' && SHA256_HEX.test(value);

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

/** Why an identifier was left out (counted by the caller). */
export type IdentifierDrop = 'email_not_an_address' | 'phone_not_a_number' | 'phone_without_country_code' | 'hash_not_sha256';

/**
 * The identifiers with every raw e-mail and phone replaced by their hashes (both platforms' forms),
 * hashes in lower-case hex, and anything unusable left out with its reason given to `drop`. A value
 * in a `*_sha256` field that is not a SHA-256 is taken for the raw value a careless client put there,
 * and hashed (or dropped): either way it is not stored as it came.
 */
export function hashIdentifiers(ids: Identifiers, options: IdentifierOptions = {}, drop: (reason: IdentifierDrop) => void = () => {}): Identifiers {
  const { email, phone, ...rest } = ids;
  const out: Identifiers = { ...rest };
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);

  const rawEmail = text(email) ?? (text(ids.email_sha256) && !isHash(ids.email_sha256) ? ids.email_sha256! : null);
  if (rawEmail !== null) {
    const meta = normaliseEmail(rawEmail);
    const google = normaliseEmailForGoogle(rawEmail);
    if (meta && google) {
      out.email_sha256 = sha256Hex(meta);
      out.google_email_sha256 = sha256Hex(google);
    } else {
      drop('email_not_an_address');
      if (!isHash(out.email_sha256)) delete out.email_sha256;
    }
  }

  const rawPhone = text(phone) ?? (text(ids.phone_sha256) && !isHash(ids.phone_sha256) ? ids.phone_sha256! : null);
  if (rawPhone !== null) {
    const digits = normalisePhone(rawPhone, options.defaultCallingCode);
    if (digits) {
      out.phone_sha256 = sha256Hex(digits);
      out.google_phone_sha256 = sha256Hex(`+${digits}`);
    } else {
      const international = /^\s*(\+|00)/.test(rawPhone);
      drop(international || options.defaultCallingCode ? 'phone_not_a_number' : 'phone_without_country_code');
      if (!isHash(out.phone_sha256)) delete out.phone_sha256;
    }
  }

  for (const field of ['email_sha256', 'phone_sha256', 'google_email_sha256', 'google_phone_sha256'] as const) {
    const value = out[field];
    if (value === undefined || value === null) continue;
    if (isHash(value)) out[field] = value.toLowerCase();
    else {
      // Whatever it is, it is not kept as it came: it could be the raw value.
      drop('hash_not_sha256');
      delete out[field];
    }
  }
  return out;
}

/**
 * The events as they may be stored: each one's `ids` passed through `hashIdentifiers`. Events
 * without `ids` are returned as they are (the same objects).
 */
export function protectIdentifiers<E extends ForwardableEvent>(events: readonly E[], options: IdentifierOptions = {}, drop?: (reason: IdentifierDrop) => void): E[] {
  return events.map((event) => {
    const ids = event.ids;
    if (ids === undefined || ids === null || typeof ids !== 'object' || Array.isArray(ids)) return event;
    return { ...event, ids: hashIdentifiers(ids, options, drop) };
  });
}

import type { EventIds } from '../types';

/** How Meta and Google want an e-mail and a phone before they are hashed, and the hashing: for `identify.ts`. */

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

/** The hashes of a normalised e-mail and phone: Meta's form, and Google's where it differs (a dotted Gmail address; the phone's `+`). */
export async function hashIdentity(email?: string, phone?: string): Promise<EventIds> {
  const ids: EventIds = {};
  if (email) (ids.email_sha256 = await sha256(email)), googleEmail(email) != email && (ids.google_email_sha256 = await sha256(googleEmail(email)));
  if (phone) (ids.phone_sha256 = await sha256(phone)), (ids.google_phone_sha256 = await sha256('+' + phone));
  return ids;
}

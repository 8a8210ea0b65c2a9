import type { EventIds, Identity } from '../types';
import { hashIdentity, normaliseEmail, normalisePhone } from './hashing';

/**
 * identify()'s e-mail and phone: checked, normalised as Meta and Google hash them, and hashed. Only pages
 * that call identify() with one need this: the script tag fetches it then, as `microconv-identify.js`
 * (the core, `ids.ts`, imports it lazily); the npm builds bundle it. It exports this one function, so
 * that the npm builds' namespace object of it holds nothing else.
 */

/**
 * identify()'s e-mail and phone (strings, or absent), checked and normalised in place: what the
 * first-party endpoint gets where the browser cannot hash (`crypto.subtle` is for secure contexts only);
 * then their hashing, where it can be. One that cannot be is a problem for `refused`, and leaves neither.
 */
export function identity(raw: EventIds, refused: (problem: string) => void): Promise<EventIds> | undefined {
  const { email, phone } = raw as Identity;
  const address = email && normaliseEmail(email);
  const number = phone && normalisePhone(phone);
  raw.email = raw.phone = undefined;
  if (email && !address) return void refused('identify(): email is not an e-mail address');
  if (phone && !number) return void refused('identify(): phone needs its country code (+33 6 12 34 56 78)');
  (raw.email = address), (raw.phone = number && '+' + number);
  return self.crypto?.subtle && hashIdentity(address, number);
}

/**
 * The words of microconv's refusals: the full message of each problem that the checks (options.ts,
 * lib/validate.ts) find. The checks decide; this file only says. The npm builds bundle it; the script tag
 * fetches it as `microconv-errors.js` on its first error (see explain-later.ts).
 */
import { MAX_DEPTH, PURPOSES, type Problem } from '../lib/validate';

/** What each option of the core must be (its test is in options.ts's `RULES`). */
export const OPTIONS: Record<string, string> = {
  endpoint: 'an http(s) URL',
  adapters: 'an array of adapter names or objects',
  trackers: 'an object of tracker options',
  batch: '{ size: 1 to 1000, intervalMs: 0 to 3600000 }',
  consent: 'granted, denied, pending, an object of purposes, or a consent source',
  plan: '{ macro: [names], stages: { engagement, consideration, intent, conversion: [names] } }',
  debug: 'true or false',
  debugSrc: 'an http(s) URL',
  urlParams: 'an array of query parameter names',
  errors: 'throw or log',
  parts: 'an array of parts ({ kind: tracker, adapter or consent, … })',
};

/** The keys of the objects the check gave (its tests, the registry's parts), each once, in order. */
const keys = (...objects: object[]) => [...new Set(objects.flatMap(Object.keys))];

/**
 * Each problem's message, by its code, from what was refused and the values the check gave: values of
 * the page described already (`show`), the registry's objects as they are.
 */
const WORDS: Record<string, (what: string, ...values: any[]) => string> = {
  rule: (what, key: string, value: string, sources: object) => `${what} must be ${OPTIONS[key]}${key === 'consent' ? ` (${keys(sources)})` : ''}, not ${value}`,
  options: (what, value: string, off?: boolean) => `${what} must be ${off ? 'false or ' : ''}an object of options, not ${value}`,
  unknown: (what, ...known: object[]) => `unknown ${what} (known: ${keys(...known)})`,
  unregistered: (what, registered: object) => `unknown ${what} (registered: ${keys(registered)})`,
  value: (what, value: string) => `${what} cannot be ${value}`,
  read: (what, error: string) => `${what} cannot be read: ${error}`,
  twice: (what) => `${what} is listed twice`,
  adapter: (what, value: string) => `${what} must be a registered name or { name, send, consent?: [purposes] }, not ${value}`,
  object: (what, value: string) => `${what} must be an object, not ${value}`,
  name: (what, value: string) => `invalid ${what} ${value}: 1 to 40 of a-z, 0-9 and _, starting with a letter`,
  plain: (what, value: string) => `${what} must be a plain object, not ${value}`,
  proto: (what) => `${what} cannot be sent: receivers take it for a prototype`,
  unicode: (what, key: string) => `${what} ${key} is not valid Unicode (half of an emoji)`,
  send: (what, value: string) => `${what} cannot be sent: ${value}`,
  deep: (what) => `${what} are nested deeper than ${MAX_DEPTH} levels`,
  cycle: (what) => `${what} hold a circular reference`,
  consent: (what, value: string) => `${what} must be granted, denied, pending or an object of purposes (${PURPOSES}) set to one of those, not ${value}`,
  in: (_, doing: string, problem: Problem) => `${doing}: ${word(problem)}`,
};

/** The full message of `problem`. */
export const word = ([what, code, ...values]: Problem): string => WORDS[code]!(what, ...values);

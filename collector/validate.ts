import type { ConsentValue } from '../src/types';
import type { AttributionColumns, CollectedEvent, ConsentColumns, IdColumns } from './store';

/** Event names, as the SDK enforces them (contract 3). */
export const EVENT_NAME = /^[a-z][a-z0-9_]{0,39}$/;
/**
 * How deep objects and arrays may nest in one event, the event itself counting as level 1 (`params`
 * is level 2). The SDK sends flat parameters; a few levels hold any real list of items. Past this,
 * JSON writers and databases start to run out of stack, so it is refused before it reaches a store.
 */
export const MAX_NESTING = 32;
/** A UUID v4: version nibble 4, variant 8, 9, a or b. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** `Date` can hold epoch ms up to ±8.64e15. */
const MAX_EPOCH_MS = 8.64e15;
/** Ids longer than this are not ids; the cap keeps junk out of the session keys. */
const MAX_ID_LENGTH = 200;
/** Problems listed for one event: enough to fix a client, not enough to echo a whole bad payload. */
const MAX_PROBLEMS = 10;
/** Half of a UTF-16 surrogate pair with no other half: not Unicode, so no UTF-8 database can hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

const PAGE_FIELDS = ['url', 'path', 'title', 'referrer'] as const;
const ATTRIBUTION_FIELDS = [
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid', 'gbraid', 'wbraid', 'landing_page', 'referrer',
] as const;
const CONSENT_PURPOSES = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'] as const;
const CONSENT_VALUES: readonly string[] = ['granted', 'denied', 'pending'] satisfies ConsentValue[];
const HASH_FIELDS = ['email_sha256', 'phone_sha256', 'google_email_sha256', 'google_phone_sha256'] as const;
const ID_FIELDS = ['fbp', 'fbc', 'ga_client_id', 'user_id', ...HASH_FIELDS] as const;

/** An event refused for good: `index` is its place in `events`, for when its `event_id` is missing or bad. */
export interface Rejection {
  event_id: string | null;
  index: number;
  problems: string[];
}

/**
 * A batch (`ok`): the events to store, each with its place in the batch, and the ones refused.
 * Not a batch (`!ok`): what is wrong with the payload as a whole (the collector answers 400).
 */
export type Validation =
  | { ok: true; accepted: Array<{ index: number; event: CollectedEvent }>; rejected: Rejection[] }
  | { ok: false; problems: string[] };

type Report = (path: string, message: string) => void;

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const isObject = (value: unknown): value is Record<string, unknown> => kind(value) === 'object';

/**
 * Checks a parsed `POST /collect` body against the wire schema of contract 5, event by event: one
 * bad event never costs the others. The payload as a whole is refused only when it is not a batch
 * (not an object, a version other than 1, no `events` list, or more events than `maxEvents`).
 * Each refused event gets its problems named by path (`page.url: expected a string or null, got
 * number`). Fields the schema does not know are ignored: the contract grows by adding fields, and
 * an older collector must keep accepting newer clients. Missing optional fields become `null`.
 */
export function validatePayload(body: unknown, maxEvents: number): Validation {
  if (!isObject(body)) return { ok: false, problems: [`payload: expected an object, got ${kind(body)}`] };
  // A missing version is read as 1 (a hand-written server request); another version is another format.
  if (body.v !== undefined && body.v !== 1) return { ok: false, problems: [`v: expected 1, got ${JSON.stringify(body.v)?.slice(0, 50)}`] };
  const events = body.events;
  if (!Array.isArray(events)) return { ok: false, problems: [`events: ${expectation('an array', events)}`] };
  if (events.length > maxEvents) return { ok: false, problems: [`events: at most ${maxEvents} events per request, got ${events.length}`] };

  const accepted: Array<{ index: number; event: CollectedEvent }> = [];
  const rejected: Rejection[] = [];
  events.forEach((raw: unknown, index) => {
    const checked = checkEvent(raw);
    if ('event' in checked) accepted.push({ index, event: checked.event });
    else rejected.push({ event_id: echoedId(raw), index, problems: checked.problems });
  });
  return { ok: true, accepted, rejected };
}

/** The refused event's id as sent, when it is a string short enough to be one; else `null` (use `index`). */
function echoedId(raw: unknown): string | null {
  const id = isObject(raw) ? raw.event_id : undefined;
  return typeof id === 'string' && id.length <= MAX_ID_LENGTH ? id : null;
}

/** One event: the normalised event, or every problem found (up to `MAX_PROBLEMS`). */
function checkEvent(raw: unknown): { event: CollectedEvent } | { problems: string[] } {
  if (!isObject(raw)) return { problems: [`event: ${expectation('an object', raw)}`] };
  const problems: string[] = [];
  const problem: Report = (path, message) => void problems.push(`${path}: ${message}`);
  const event: CollectedEvent = {
    event_id: eventId(raw.event_id, problem),
    name: eventName(raw.name, problem),
    ts: epochMs(raw.ts, problem),
    session_id: id(raw.session_id, 'session_id', false, problem) ?? '',
    anonymous_id: id(raw.anonymous_id, 'anonymous_id', true, problem),
    page: group(raw.page, 'page', PAGE_FIELDS, problem),
    params: params(raw.params, problem),
    attribution: group(raw.attribution, 'attribution', ATTRIBUTION_FIELDS, problem) as AttributionColumns,
    consent: consent(raw.consent, problem),
    ids: ids(raw.ids, problem),
  };
  checkStorable(raw, '', 1, problem, () => problems.length > MAX_PROBLEMS);
  return problems.length ? { problems: cap(problems) } : { event };
}

function eventId(value: unknown, problem: Report): string {
  if (typeof value !== 'string') problem('event_id', expectation('a UUID v4 string', value));
  else if (!UUID_V4.test(value)) problem('event_id', 'not a UUID v4');
  return String(value);
}

function eventName(value: unknown, problem: Report): string {
  if (typeof value !== 'string') problem('name', expectation('a string', value));
  else if (!EVENT_NAME.test(value)) problem('name', `${JSON.stringify(value.slice(0, 50))} does not match ${EVENT_NAME.source}`);
  return String(value);
}

function epochMs(value: unknown, problem: Report): number {
  if (typeof value !== 'number') problem('ts', expectation('a number (epoch milliseconds)', value));
  else if (!Number.isFinite(value) || value < 0 || value > MAX_EPOCH_MS) problem('ts', 'not a valid epoch time in milliseconds');
  return Number(value);
}

function id(value: unknown, path: string, optional: boolean, problem: Report): string | null {
  if (optional && (value === undefined || value === null)) return null;
  if (typeof value !== 'string') return problem(path, expectation(optional ? 'a string or null' : 'a string', value)), null;
  if (value.length === 0 || value.length > MAX_ID_LENGTH) problem(path, `expected 1 to ${MAX_ID_LENGTH} characters, got ${value.length}`);
  return value;
}

/** An optional object of optional strings (`page`, `attribution`, `ids`): every field present, `null` where missing. */
function group<Field extends string>(value: unknown, path: string, fields: readonly Field[], problem: Report): Record<Field, string | null> {
  const result = Object.fromEntries(fields.map((field) => [field, null])) as Record<Field, string | null>;
  if (value === undefined || value === null) return result;
  if (!isObject(value)) return problem(path, expectation('an object or null', value)), result;
  for (const field of fields) {
    const entry = value[field];
    if (typeof entry === 'string') result[field] = entry;
    else if (entry !== undefined && entry !== null) problem(`${path}.${field}`, expectation('a string or null', entry));
  }
  return result;
}

function params(value: unknown, problem: Report): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) return problem('params', expectation('an object or null', value)), null;
  return value;
}

/** The four purposes as an object, or one word for all four (as `consent('granted')` takes it). */
function consent(value: unknown, problem: Report): ConsentColumns | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && CONSENT_VALUES.includes(value)) {
    return Object.fromEntries(CONSENT_PURPOSES.map((purpose) => [purpose, value])) as unknown as ConsentColumns;
  }
  if (!isObject(value)) return problem('consent', expectation(`an object or one of ${CONSENT_VALUES.join(', ')}`, value)), null;
  const result = Object.fromEntries(CONSENT_PURPOSES.map((purpose) => [purpose, null])) as Record<string, ConsentValue | null>;
  for (const purpose of CONSENT_PURPOSES) {
    const entry = value[purpose];
    if (typeof entry === 'string' && CONSENT_VALUES.includes(entry)) result[purpose] = entry as ConsentValue;
    // Consent is not guessed: a forwarder must know what the visitor said, so an unknown word is refused.
    else if (entry !== undefined && entry !== null) problem(`consent.${purpose}`, `expected ${CONSENT_VALUES.join(', ')} or null, got ${JSON.stringify(entry)?.slice(0, 50)}`);
  }
  return result as unknown as ConsentColumns;
}

/**
 * Ids for server-side matching; the hashes must be hashes, so that an address never gets stored by
 * mistake. (Raw `email` and `phone` never get here: the collector hashes them first, `forward/hash.ts`.)
 */
function ids(value: unknown, problem: Report): IdColumns | null {
  if (value === undefined || value === null) return null;
  const result = group(value, 'ids', ID_FIELDS, problem);
  for (const field of HASH_FIELDS) {
    const hash = result[field];
    if (hash === null) continue;
    if (!SHA256_HEX.test(hash)) problem(`ids.${field}`, `expected 64 hexadecimal characters (a SHA-256 hash, never the ${field.includes('email') ? 'address' : 'number'} itself)`);
    result[field] = hash.toLowerCase();
  }
  return result;
}

/**
 * What no store can keep, anywhere in the event (keys included, unknown fields too): lone surrogates,
 * which are not Unicode (an emoji cut in half), and nesting past `MAX_NESTING`. Refused here, the
 * event is rejected for good with its problem named; let through, the database would refuse it on
 * every retry. U+0000 is valid Unicode and passes: stores keep it or replace it (see `store.ts`).
 */
function checkStorable(value: unknown, path: string, depth: number, problem: Report, full: () => boolean): void {
  if (typeof value === 'string') {
    const at = value.search(LONE_SURROGATE);
    if (at >= 0) problem(path, `lone surrogate ${codeUnit(value, at)} at character ${at} (not valid Unicode, cannot be stored)`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_NESTING) return problem(path, `nested deeper than ${MAX_NESTING} levels`);
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    if (full()) return;
    if (typeof key === 'string') {
      const at = key.search(LONE_SURROGATE);
      if (at >= 0) problem(path || 'event', `a key holds a lone surrogate ${codeUnit(key, at)} at character ${at} (not valid Unicode, cannot be stored)`);
    }
    checkStorable(item, childPath(path, key), depth + 1, problem, full);
  }
}

const codeUnit = (text: string, at: number) => `U+${text.charCodeAt(at).toString(16).toUpperCase()}`;

/** `params.items[1].name`; keys are shortened, and made printable, so a hostile key is not echoed whole. */
function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const shown = key.replace(new RegExp(LONE_SURROGATE, 'g'), '\ufffd').slice(0, 40);
  return path ? `${path}.${shown}` : shown;
}

function expectation(expected: string, value: unknown): string {
  return value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${kind(value)}`;
}

function cap(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`];
}

import type { MicroconvEvent } from '../src/types';

/** Event names, as the SDK enforces them (contract 3). */
export const EVENT_NAME = /^[a-z][a-z0-9_]{0,39}$/;
/** A UUID v4: version nibble 4, variant 8, 9, a or b. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** ISO 8601 date-time as `Date.prototype.toISOString` writes it, with any offset or fraction. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
/** `Date` can hold epoch ms up to ±8.64e15. */
const MAX_EPOCH_MS = 8.64e15;
/** Ids longer than this are not ids; the cap keeps junk out of the session keys. */
const MAX_ID_LENGTH = 200;
/** Problems listed in one answer: enough to fix a client, not enough to echo a whole bad payload. */
const MAX_PROBLEMS = 20;

/** The parsed, checked payload of `POST /collect` (contract 5). */
export interface Payload {
  v: 1;
  sent_at: string;
  events: MicroconvEvent[];
}

export type Validation = { ok: true; payload: Payload } | { ok: false; problems: string[] };

const PAGE_FIELDS = ['url', 'path', 'title', 'referrer'] as const;
const NULLABLE_ATTRIBUTION_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid'] as const;
const ATTRIBUTION_FIELDS = ['landing_page', 'referrer'] as const;

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
const isObject = (value: unknown): value is Record<string, unknown> => kind(value) === 'object';

/**
 * Checks a parsed `POST /collect` body against the wire schema of contract 5. Every problem is named
 * with its path (`events[3].event_id: not a UUID v4`), so whoever sends a bad payload can fix it from
 * the answer alone. Fields the schema does not know are ignored, not refused: the contract grows by
 * adding fields, and an older collector must keep accepting newer clients.
 */
export function validatePayload(body: unknown, maxEvents: number): Validation {
  const problems: string[] = [];
  const problem = (path: string, message: string) => void problems.push(`${path}: ${message}`);

  if (!isObject(body)) return { ok: false, problems: [`payload: expected an object, got ${kind(body)}`] };
  if (body.v !== 1) problem('v', body.v === undefined ? 'missing (expected 1)' : `expected 1, got ${JSON.stringify(body.v).slice(0, 50)}`);
  if (typeof body.sent_at !== 'string') problem('sent_at', expectation('an ISO 8601 date-time string', body.sent_at));
  else if (!ISO_DATE_TIME.test(body.sent_at) || Number.isNaN(Date.parse(body.sent_at))) problem('sent_at', 'not an ISO 8601 date-time');

  const events = body.events;
  if (!Array.isArray(events)) problem('events', expectation('an array', events));
  else if (events.length === 0) problem('events', 'expected at least one event');
  else if (events.length > maxEvents) problem('events', `at most ${maxEvents} events per request, got ${events.length}`);
  else events.forEach((event, index) => checkEvent(event, `events[${index}]`, problem));

  if (problems.length) return { ok: false, problems: cap(problems) };
  return { ok: true, payload: body as unknown as Payload };
}

function checkEvent(event: unknown, at: string, problem: (path: string, message: string) => void): void {
  if (!isObject(event)) return problem(at, expectation('an object', event));

  const id = event.event_id;
  if (typeof id !== 'string') problem(`${at}.event_id`, expectation('a UUID v4 string', id));
  else if (!UUID_V4.test(id)) problem(`${at}.event_id`, 'not a UUID v4');

  const name = event.name;
  if (typeof name !== 'string') problem(`${at}.name`, expectation('a string', name));
  else if (!EVENT_NAME.test(name)) problem(`${at}.name`, `${JSON.stringify(name.slice(0, 50))} does not match ${EVENT_NAME.source}`);

  const ts = event.ts;
  if (typeof ts !== 'number') problem(`${at}.ts`, expectation('a number (epoch milliseconds)', ts));
  else if (!Number.isFinite(ts) || ts < 0 || ts > MAX_EPOCH_MS) problem(`${at}.ts`, 'not a valid epoch time in milliseconds');

  checkId(event.session_id, `${at}.session_id`, false, problem);
  checkId(event.anonymous_id, `${at}.anonymous_id`, true, problem);

  const page = event.page;
  if (!isObject(page)) problem(`${at}.page`, expectation('an object', page));
  else for (const field of PAGE_FIELDS) checkString(page[field], `${at}.page.${field}`, false, problem);

  if (!isObject(event.params)) problem(`${at}.params`, expectation('an object', event.params));

  const attribution = event.attribution;
  if (!isObject(attribution)) problem(`${at}.attribution`, expectation('an object', attribution));
  else {
    for (const field of NULLABLE_ATTRIBUTION_FIELDS) checkString(attribution[field], `${at}.attribution.${field}`, true, problem);
    for (const field of ATTRIBUTION_FIELDS) checkString(attribution[field], `${at}.attribution.${field}`, false, problem);
  }
}

function checkString(value: unknown, path: string, nullable: boolean, problem: (path: string, message: string) => void): void {
  if (typeof value === 'string' || (nullable && value === null)) return;
  problem(path, expectation(nullable ? 'a string or null' : 'a string', value));
}

function checkId(value: unknown, path: string, nullable: boolean, problem: (path: string, message: string) => void): void {
  if (nullable && value === null) return;
  if (typeof value !== 'string') return problem(path, expectation(nullable ? 'a string or null' : 'a string', value));
  if (value.length === 0 || value.length > MAX_ID_LENGTH) problem(path, `expected 1 to ${MAX_ID_LENGTH} characters, got ${value.length}`);
}

function expectation(expected: string, value: unknown): string {
  return value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${kind(value)}`;
}

function cap(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`];
}

// @vitest-environment node
/**
 * The collector's schema check (contract 5) as a pure function, without a server or a store: what the
 * HTTP tests in collector.test.ts check through a request, here fast enough for mutation testing
 * (`npm run mutation`) to rerun for every change it makes to collector/validate.ts.
 */
import { describe, expect, test } from 'vitest';
import { MAX_NESTING, validatePayload, type Rejection } from '../../collector/validate';

const EVENT_ID = '3f0e8a52-6c1d-4b7a-9e2f-0a1b2c3d4e5f';

/** A valid event as the SDK sends it, every field present. */
const event = (): Record<string, any> => ({
  event_id: EVENT_ID,
  name: 'cta_click',
  ts: 1_750_000_000_000,
  session_id: 's-1',
  anonymous_id: 'a-1',
  page: { url: 'https://x.example/', path: '/', title: 'Home', referrer: '' },
  params: { cta_name: 'start' },
  attribution: { utm_source: 'ads', landing_page: 'https://x.example/' },
  consent: { analytics_storage: 'granted', ad_storage: 'denied' },
  ids: { user_id: 'u-1' },
});

/** The problems of the one event of a batch, or `[]` when it is accepted. */
function problemsOf(raw: unknown): string[] {
  const result = validatePayload({ v: 1, events: [raw] }, 10);
  if (!result.ok) throw new Error(`not a batch: ${result.problems}`);
  return result.rejected[0]?.problems ?? [];
}

/** The normalised event, for one that must be accepted. */
function accepted(raw: unknown) {
  const result = validatePayload({ v: 1, events: [raw] }, 10);
  if (!result.ok || result.accepted.length !== 1) throw new Error(`not accepted: ${JSON.stringify(result)}`);
  return result.accepted[0]!.event;
}

const changed = (change: (event: Record<string, any>) => void) => {
  const raw = event();
  change(raw);
  return raw;
};

describe('the payload as a whole', () => {
  test.each([
    ['an array', [], 'payload: expected an object, got array'],
    ['null', null, 'payload: expected an object, got null'],
    ['a string', 'events', 'payload: expected an object, got string'],
    ['another version', { v: 2, events: [] }, 'v: expected 1, got 2'],
    ['version "1" as a string', { v: '1', events: [] }, 'v: expected 1, got "1"'],
    ['a long version, shortened', { v: 'x'.repeat(80), events: [] }, `v: expected 1, got "${'x'.repeat(49)}`],
    ['no events', { v: 1 }, 'events: missing (expected an array)'],
    ['events an object', { v: 1, events: {} }, 'events: expected an array, got object'],
    ['more events than allowed', { v: 1, events: [1, 2, 3, 4] }, 'events: at most 3 events per request, got 4'],
  ])('not a batch (%s): refused whole, naming the problem', (_, body, problem) => {
    expect(validatePayload(body, 3)).toEqual({ ok: false, problems: [problem] });
  });

  test('no version is read as 1; exactly as many events as allowed is a batch', () => {
    const result = validatePayload({ events: [event(), event(), event()] }, 3);
    expect(result.ok && result.accepted.map((entry) => entry.index)).toEqual([0, 1, 2]);
  });

  test('an empty batch is a batch', () => {
    expect(validatePayload({ v: 1, events: [] }, 3)).toEqual({ ok: true, accepted: [], rejected: [] });
  });

  test('one bad event costs only itself: the others are accepted, each with its place in the batch', () => {
    const result = validatePayload({ v: 1, events: [event(), changed((raw) => (raw.name = 'Bad')), event(), 'x'] }, 10);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.accepted.map((entry) => entry.index)).toEqual([0, 2]);
    expect(result.rejected).toEqual<Rejection[]>([
      { event_id: EVENT_ID, index: 1, problems: ['name: "Bad" does not match ^[a-z][a-z0-9_]{0,39}$'] },
      { event_id: null, index: 3, problems: ['event: expected an object, got string'] },
    ]);
  });

  test("a refused event's id is echoed only when it is a string of at most 200 characters", () => {
    const idOf = (eventId: unknown) => {
      const result = validatePayload({ events: [{ event_id: eventId }] }, 1);
      return result.ok ? result.rejected[0]!.event_id : 'not a batch';
    };
    expect(idOf('not-a-uuid')).toBe('not-a-uuid');
    expect(idOf('i'.repeat(200))).toBe('i'.repeat(200));
    expect(idOf('i'.repeat(201))).toBeNull();
    expect(idOf(7)).toBeNull();
  });
});

describe('one event', () => {
  test('a valid event is accepted as sent, its groups filled with null where a field is missing', () => {
    expect(accepted(event())).toEqual({
      event_id: EVENT_ID,
      name: 'cta_click',
      ts: 1_750_000_000_000,
      session_id: 's-1',
      anonymous_id: 'a-1',
      page: { url: 'https://x.example/', path: '/', title: 'Home', referrer: '' },
      params: { cta_name: 'start' },
      attribution: {
        utm_source: 'ads', utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null,
        gclid: null, fbclid: null, gbraid: null, wbraid: null, landing_page: 'https://x.example/', referrer: null,
      },
      consent: { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: null, ad_personalization: null },
      ids: { fbp: null, fbc: null, ga_client_id: null, user_id: 'u-1', email_sha256: null, phone_sha256: null, google_email_sha256: null, google_phone_sha256: null },
    });
  });

  test('only event_id, name, ts and session_id are needed: every optional field becomes null', () => {
    const minimal = { event_id: EVENT_ID, name: 'purchase', ts: 0, session_id: 's' };
    const nulls = <Field extends string>(fields: Field[]) => Object.fromEntries(fields.map((field) => [field, null]));
    expect(accepted(minimal)).toEqual({
      ...minimal,
      anonymous_id: null,
      page: nulls(['url', 'path', 'title', 'referrer']),
      params: null,
      attribution: nulls(['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid', 'gbraid', 'wbraid', 'landing_page', 'referrer']),
      consent: null,
      ids: null,
    });
    expect(accepted({ ...minimal, anonymous_id: null, page: null, params: null, attribution: null, consent: null, ids: null })).toEqual(accepted(minimal));
  });

  test('fields the schema does not know are ignored, not refused (newer clients, older collector)', () => {
    const raw = changed((raw) => {
      raw.future = { anything: 1 };
      raw.page.scroll = 3;
    });
    expect(accepted(raw).page).toEqual(event().page);
  });

  test.each([
    ['event not an object', () => null, 'event: expected an object, got null'],
    ['event a list', () => [event()], 'event: expected an object, got array'],
  ])('%s', (_, make, problem) => {
    expect(problemsOf(make())).toEqual([problem]);
  });

  // Each row: a change to a valid event and exactly the problem it must name.
  test.each<[string, (raw: Record<string, any>) => void, string]>([
    ['event_id a number', (raw) => (raw.event_id = 7), 'event_id: expected a UUID v4 string, got number'],
    ['no event_id', (raw) => delete raw.event_id, 'event_id: missing (expected a UUID v4 string)'],
    ['event_id a v1 UUID', (raw) => (raw.event_id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'event_id: not a UUID v4'],
    ['event_id of another variant', (raw) => (raw.event_id = '3f0e8a52-6c1d-4b7a-ce2f-0a1b2c3d4e5f'), 'event_id: not a UUID v4'],
    ['event_id with a character more', (raw) => (raw.event_id = EVENT_ID + 'a'), 'event_id: not a UUID v4'],
    ['event_id with one before', (raw) => (raw.event_id = 'a' + EVENT_ID), 'event_id: not a UUID v4'],
    ['event_id with a letter past f', (raw) => (raw.event_id = EVENT_ID.replace(/^3/, 'g')), 'event_id: not a UUID v4'],
    ['no name', (raw) => delete raw.name, 'name: missing (expected a string)'],
    ['name a number', (raw) => (raw.name = 1), 'name: expected a string, got number'],
    ['name with capitals', (raw) => (raw.name = 'Bad Name'), 'name: "Bad Name" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name of 41 characters, quoted up to 50', (raw) => (raw.name = 'a'.repeat(60)), `name: "${'a'.repeat(50)}" does not match ^[a-z][a-z0-9_]{0,39}$`],
    ['name starting with a digit', (raw) => (raw.name = '1a'), 'name: "1a" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name with a dash inside', (raw) => (raw.name = 'a-b'), 'name: "a-b" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name with a character after', (raw) => (raw.name = 'ab!'), 'name: "ab!" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name empty', (raw) => (raw.name = ''), 'name: "" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['no ts', (raw) => delete raw.ts, 'ts: missing (expected a number (epoch milliseconds))'],
    ['ts a string', (raw) => (raw.ts = '1750000000000'), 'ts: expected a number (epoch milliseconds), got string'],
    ['ts negative', (raw) => (raw.ts = -1), 'ts: not a valid epoch time in milliseconds'],
    ['ts past what a Date holds', (raw) => (raw.ts = 8.64e15 + 1), 'ts: not a valid epoch time in milliseconds'],
    ['ts not finite', (raw) => (raw.ts = Infinity), 'ts: not a valid epoch time in milliseconds'],
    ['ts NaN', (raw) => (raw.ts = NaN), 'ts: not a valid epoch time in milliseconds'],
    ['no session_id', (raw) => delete raw.session_id, 'session_id: missing (expected a string)'],
    ['session_id null', (raw) => (raw.session_id = null), 'session_id: expected a string, got null'],
    ['empty session_id', (raw) => (raw.session_id = ''), 'session_id: expected 1 to 200 characters, got 0'],
    ['session_id of 201 characters', (raw) => (raw.session_id = 's'.repeat(201)), 'session_id: expected 1 to 200 characters, got 201'],
    ['anonymous_id a number', (raw) => (raw.anonymous_id = 5), 'anonymous_id: expected a string or null, got number'],
    ['anonymous_id empty', (raw) => (raw.anonymous_id = ''), 'anonymous_id: expected 1 to 200 characters, got 0'],
    ['page a string', (raw) => (raw.page = '/'), 'page: expected an object or null, got string'],
    ['page.url a number', (raw) => (raw.page.url = 1), 'page.url: expected a string or null, got number'],
    ['page.referrer an object', (raw) => (raw.page.referrer = {}), 'page.referrer: expected a string or null, got object'],
    ['params a list', (raw) => (raw.params = [1]), 'params: expected an object or null, got array'],
    ['params a string', (raw) => (raw.params = 'p'), 'params: expected an object or null, got string'],
    ['attribution a number', (raw) => (raw.attribution = 1), 'attribution: expected an object or null, got number'],
    ['utm_source a number', (raw) => (raw.attribution.utm_source = 3), 'attribution.utm_source: expected a string or null, got number'],
    ['wbraid an object', (raw) => (raw.attribution.wbraid = {}), 'attribution.wbraid: expected a string or null, got object'],
    ['consent a number', (raw) => (raw.consent = 1), 'consent: expected an object or one of granted, denied, pending, got number'],
    ['consent a word not known', (raw) => (raw.consent = 'yes'), 'consent: expected an object or one of granted, denied, pending, got string'],
    ['consent a list', (raw) => (raw.consent = ['granted']), 'consent: expected an object or one of granted, denied, pending, got array'],
    ['consent a made-up value', (raw) => (raw.consent = { ad_storage: 'yes' }), 'consent.ad_storage: expected granted, denied, pending or null, got "yes"'],
    ['consent a number for a purpose', (raw) => (raw.consent = { ad_user_data: 1 }), 'consent.ad_user_data: expected granted, denied, pending or null, got 1'],
    ['consent a long value, shortened', (raw) => (raw.consent = { ad_storage: 'y'.repeat(80) }), `consent.ad_storage: expected granted, denied, pending or null, got "${'y'.repeat(49)}`],
    ['ids a list', (raw) => (raw.ids = []), 'ids: expected an object or null, got array'],
    ['ids.user_id a number', (raw) => (raw.ids = { user_id: 42 }), 'ids.user_id: expected a string or null, got number'],
    ['an e-mail address where its hash goes', (raw) => (raw.ids = { email_sha256: 'jane@example.com' }), 'ids.email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
    ['a phone number where its hash goes', (raw) => (raw.ids = { phone_sha256: '+15551234567' }), 'ids.phone_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the number itself)'],
    ['a hash a character short', (raw) => (raw.ids = { email_sha256: 'a'.repeat(63) }), 'ids.email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
    ['a hash a character long', (raw) => (raw.ids = { email_sha256: 'a'.repeat(65) }), 'ids.email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
    ['a hash with a letter past f', (raw) => (raw.ids = { email_sha256: 'g' + 'a'.repeat(63) }), 'ids.email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
  ])('%s: refused, naming the problem', (_, change, problem) => {
    expect(problemsOf(changed(change))).toEqual([problem]);
  });

  test.each<[string, (raw: Record<string, any>) => void]>([
    ['ts 0', (raw) => (raw.ts = 0)],
    ['ts at the last ms a Date holds', (raw) => (raw.ts = 8.64e15)],
    ['ts with a fraction', (raw) => (raw.ts = 1.5)],
    ['a name of 40 characters', (raw) => (raw.name = 'a'.repeat(40))],
    ['a name of one letter', (raw) => (raw.name = 'a')],
    ['a name with digits and _', (raw) => (raw.name = 'form_step2')],
    ['an event_id in capitals', (raw) => (raw.event_id = EVENT_ID.toUpperCase())],
    ['every UUID v4 variant (8, 9, a, b)', (raw) => (raw.event_id = '3f0e8a52-6c1d-4b7a-be2f-0a1b2c3d4e5f')],
    ['a session_id of 200 characters', (raw) => (raw.session_id = 's'.repeat(200))],
    ['a session_id of 1 character', (raw) => (raw.session_id = 's')],
    ['an anonymous_id of 200 characters', (raw) => (raw.anonymous_id = 'a'.repeat(200))],
    ['every consent value', (raw) => (raw.consent = { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'pending', ad_personalization: null })],
    ['a hash in capitals', (raw) => (raw.ids = { email_sha256: 'AB'.repeat(32) })],
    ['U+0000 in a string', (raw) => (raw.params.text = 'a\u0000b')],
    ['an emoji whole', (raw) => (raw.params.text = 'hi 😀')],
  ])('accepted: %s', (_, change) => {
    expect(problemsOf(changed(change))).toEqual([]);
  });

  test('consent given as one word stands for all four purposes', () => {
    for (const word of ['granted', 'denied', 'pending']) {
      expect(accepted(changed((raw) => (raw.consent = word))).consent).toEqual({
        analytics_storage: word, ad_storage: word, ad_user_data: word, ad_personalization: word,
      });
    }
  });

  test('hashes are stored in lower case, and only the hashes', () => {
    const ids = accepted(changed((raw) => (raw.ids = { email_sha256: 'AB'.repeat(32), phone_sha256: 'CD'.repeat(32), user_id: 'User-1' }))).ids;
    expect(ids).toMatchObject({ email_sha256: 'ab'.repeat(32), phone_sha256: 'cd'.repeat(32), user_id: 'User-1' });
  });

  test('every problem is listed, up to 10, then how many more', () => {
    const broken = { event_id: 'nope', name: 'X', ts: 'then', session_id: 1, anonymous_id: 2, page: { url: 1, path: 2, title: 3, referrer: 4 }, params: 'p', attribution: { utm_source: 5 } };
    const problems = problemsOf(broken);
    expect(problems).toHaveLength(11);
    expect(problems.slice(0, 3)).toEqual(['event_id: not a UUID v4', 'name: "X" does not match ^[a-z][a-z0-9_]{0,39}$', 'ts: expected a number (epoch milliseconds), got string']);
    expect(problems[10]).toBe('... and 1 more');
    // Exactly 10: all listed, no "more".
    const ten = problemsOf({ ...broken, attribution: null });
    expect(ten).toHaveLength(10);
    expect(ten[9]).toBe('params: expected an object or null, got string');
  });
});

describe('what no store can keep', () => {
  // Each row: a change to a valid event and exactly the problem it must name.
  test.each<[string, (raw: Record<string, any>) => void, string]>([
    ['link_text cut inside an emoji', (raw) => (raw.params.link_text = `${'x'.repeat(99)}\u{1F600}`.slice(0, 100)), 'params.link_text: lone surrogate U+D83D at character 99 (not valid Unicode, cannot be stored)'],
    ['a lone high surrogate first', (raw) => (raw.page.title = '\ud800 Pricing'), 'page.title: lone surrogate U+D800 at character 0 (not valid Unicode, cannot be stored)'],
    ['a lone low surrogate', (raw) => (raw.page.title = 'Pri\udc00cing'), 'page.title: lone surrogate U+DC00 at character 3 (not valid Unicode, cannot be stored)'],
    ['the last low surrogate', (raw) => (raw.page.title = '\udfff'), 'page.title: lone surrogate U+DFFF at character 0 (not valid Unicode, cannot be stored)'],
    ['two low surrogates', (raw) => (raw.page.title = '😀\ude00'), 'page.title: lone surrogate U+DE00 at character 2 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate in an unknown field', (raw) => (raw.future = 'a\udbff'), 'future: lone surrogate U+DBFF at character 1 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate in a parameter name', (raw) => void (raw.params['bad\ud800key'] = 1), 'params: a key holds a lone surrogate U+D800 at character 3 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate in a top-level key', (raw) => void (raw['\udc01'] = 1), 'event: a key holds a lone surrogate U+DC01 at character 0 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate deep in a list', (raw) => void (raw.params.items = [{ name: 'ok' }, { name: 'a\udbff' }]), 'params.items[1].name: lone surrogate U+DBFF at character 1 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate under a key that has one', (raw) => void (raw.params['k\ud800'] = 'v\ud800'), 'params: a key holds a lone surrogate U+D800 at character 1 (not valid Unicode, cannot be stored)'],
    ['a long key, shortened in the path', (raw) => void (raw.params['k'.repeat(60)] = '\ud800'), `params.${'k'.repeat(40)}: lone surrogate U+D800 at character 0 (not valid Unicode, cannot be stored)`],
  ])('%s: refused, naming where', (_, change, problem) => {
    expect(problemsOf(changed(change))[0]).toBe(problem);
  });

  test("a key's lone surrogate is shown as U+FFFD in the path, so the message itself can be stored and sent", () => {
    const problems = problemsOf(changed((raw) => void (raw.params['k\ud800'] = '\udc00')));
    expect(problems[1]).toBe('params.k\ufffd: lone surrogate U+DC00 at character 0 (not valid Unicode, cannot be stored)');
  });

  /** An object `levels` deep, the outermost counted as 1: `{ a: { a: … { a: 1 } } }`. */
  const nested = (levels: number): unknown => (levels === 0 ? 1 : { a: nested(levels - 1) });
  /** A list `levels` deep: `[[…[1]…]]`. */
  const listed = (levels: number): unknown => (levels === 0 ? 1 : [listed(levels - 1)]);

  test(`nesting: ${MAX_NESTING} levels (the event counting as 1) are stored, one more is refused`, () => {
    // params is level 2, so params.deep is level 3 and 29 levels more reach MAX_NESTING; the 30th is named.
    expect(problemsOf(changed((raw) => (raw.params.deep = nested(MAX_NESTING - 2))))).toEqual([]);
    expect(problemsOf(changed((raw) => (raw.params.deep = nested(MAX_NESTING - 1))))).toEqual([`params.deep${'.a'.repeat(MAX_NESTING - 2)}: nested deeper than 32 levels`]);
    expect(problemsOf(changed((raw) => (raw.params.deep = listed(MAX_NESTING - 2))))).toEqual([]);
    expect(problemsOf(changed((raw) => (raw.params.deep = listed(5_000))))).toEqual([`params.deep${'[0]'.repeat(MAX_NESTING - 2)}: nested deeper than 32 levels`]);
  });

  test('a wide event stops being checked once 10 problems are found, and says how many more', () => {
    const problems = problemsOf(changed((raw) => (raw.params.items = Array.from({ length: 10_000 }, () => '\ud800'))));
    expect(problems[0]).toBe('params.items[0]: lone surrogate U+D800 at character 0 (not valid Unicode, cannot be stored)');
    expect(problems).toHaveLength(11);
    expect(problems[10]).toBe('... and 1 more');
  });
});

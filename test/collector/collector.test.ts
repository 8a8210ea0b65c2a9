// @vitest-environment node
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { MicroconvEvent } from '../../src/types';
import { openDuckDBStore, type DuckDBStore } from '../../collector/duckdb-store';
import { UnstorableEventsError, type CollectedEvent } from '../../collector/store';
import { createCollector, startCollector, type CollectorOptions, type RunningCollector } from '../../collector/http';
import { mulberry32 } from '../../collector/prng';

const random = mulberry32(42);

function event(overrides: Partial<MicroconvEvent> = {}): MicroconvEvent {
  return {
    event_id: random.uuid(),
    name: 'cta_click',
    ts: 1_750_000_000_000,
    session_id: 's-1',
    anonymous_id: 'a-1',
    page: { url: 'https://tally.example/', path: '/', title: 'Tally', referrer: '' },
    params: { cta_name: 'start_trial', link_type: 'link' },
    attribution: {
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      utm_term: null,
      utm_content: null,
      gclid: 'abc123',
      fbclid: null,
      landing_page: 'https://tally.example/?utm_source=google',
      referrer: 'https://www.google.com/',
    },
    ...overrides,
  };
}

const payload = (events: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ v: 1, sent_at: '2025-06-15T10:00:00.000Z', events, ...extra });

let running: RunningCollector | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: CollectorOptions = {}) {
  running = await startCollector({ port: 0, database: ':memory:', onError: () => {}, ...options });
  const store = (await running.collector.store) as DuckDBStore;
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${running!.url}/collect`, { method: 'POST', body: body as BodyInit, headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers } });
  const count = async () => Number((await store.query('SELECT count(*) AS n FROM events'))[0]!.n);
  return { url: running.url, store, post, count };
}

/** The status and parsed JSON body of an answer. */
async function answer(response: Promise<Response>): Promise<[number, unknown]> {
  const settled = await response;
  return [settled.status, await settled.json()];
}

describe('POST /collect', () => {
  test('a valid payload: 200 saying what was stored, one row per event, with every field in its column', async () => {
    const { post, store } = await start({ now: () => Date.UTC(2025, 5, 15, 10, 0, 1) });
    const first = event({ params: { cta_name: 'start_trial', nested: { list: [1, 'two', null] } } });
    const second = event({ name: 'purchase', ts: 1_750_000_000_500.7, anonymous_id: null, params: {} });
    const response = await post(payload([first, second]));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ stored: 2, duplicates: 0, rejected: [] });
    const rows = await store.query(`
      SELECT event_id::VARCHAR AS event_id, name, ts::VARCHAR AS ts, ts_ms, session_id, anonymous_id, page_url, page_path, page_title,
             page_referrer, params::VARCHAR AS params, params->>'$.nested.list[1]' AS second_item, utm_source, utm_medium, utm_campaign,
             utm_term, gclid, fbclid, landing_page, landing_referrer, received_at::VARCHAR AS received_at
      FROM events ORDER BY ts_ms`);
    expect(rows).toEqual([
      {
        event_id: first.event_id,
        name: 'cta_click',
        ts: '2025-06-15 15:06:40',
        ts_ms: 1_750_000_000_000,
        session_id: 's-1',
        anonymous_id: 'a-1',
        page_url: 'https://tally.example/',
        page_path: '/',
        page_title: 'Tally',
        page_referrer: '',
        params: '{"cta_name":"start_trial","nested":{"list":[1,"two",null]}}',
        second_item: 'two',
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'brand',
        utm_term: null,
        gclid: 'abc123',
        fbclid: null,
        landing_page: 'https://tally.example/?utm_source=google',
        landing_referrer: 'https://www.google.com/',
        received_at: '2025-06-15 10:00:01',
      },
      expect.objectContaining({ event_id: second.event_id, name: 'purchase', ts_ms: 1_750_000_000_501, ts: '2025-06-15 15:06:40.501', anonymous_id: null, params: '{}' }),
    ]);
  });

  test('a replayed payload answers 200 again, counted as duplicates, and stores nothing new; so does an event twice in one batch', async () => {
    const { post, count, store } = await start();
    const events = [event(), event(), event()];
    expect(await answer(post(payload(events)))).toEqual([200, { stored: 3, duplicates: 0, rejected: [] }]);
    expect(await answer(post(payload(events)))).toEqual([200, { stored: 0, duplicates: 3, rejected: [] }]);
    expect(await count()).toBe(3);
    // The same ids in capitals (a client that writes UUIDs that way) are the same events.
    const shouting = events.map((e) => ({ ...e, event_id: e.event_id.toUpperCase() }));
    expect(await answer(post(payload(shouting)))).toEqual([200, { stored: 0, duplicates: 3, rejected: [] }]);
    const fresh = event();
    expect(await answer(post(payload([fresh, fresh, events[0]!])))).toEqual([200, { stored: 1, duplicates: 2, rejected: [] }]);
    expect(await count()).toBe(4);
    // And the store says which were new.
    expect(await store.insert([events[1]!, event()], Date.now())).toBe(1);
  });

  test('concurrent requests (grouped into one write) each store their events once', async () => {
    const { post, count } = await start();
    const batches = Array.from({ length: 20 }, () => [event(), event()]);
    const statuses = await Promise.all([...batches, ...batches.slice(0, 5)].map((batch) => post(payload(batch)).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(await count()).toBe(40);
  });

  test('one write the database refuses does not take the others grouped with it down', async () => {
    const { store, count } = await start();
    // Past validation nothing should fail; a broken id stands in for whatever might.
    const results = await Promise.allSettled([store.insert([event()], 0), store.insert([{ ...event(), event_id: 'broken' }], 0), store.insert([event(), event()], 0)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (results[1] as PromiseRejectedResult).reason;
    expect(refusal).toBeInstanceOf(UnstorableEventsError);
    expect(refusal).toMatchObject({ stored: 0, events: [{ event_id: 'broken', problem: expect.stringMatching(/^cannot be stored: Conversion Error/) }] });
    expect(await count()).toBe(3);
  });

  test('an event the database refuses is refused alone: the other events of its request are stored', async () => {
    const { store, count } = await start();
    const good = [event(), event()];
    const refusal = await store.insert([good[0]!, { ...event(), event_id: 'broken' }, good[1]!], 0).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnstorableEventsError);
    expect(refusal).toMatchObject({ stored: 2, events: [{ event_id: 'broken' }] });
    expect(await count()).toBe(2);
  });

  test('a store that is gone (closed) is storage unavailable, never blamed on an event', async () => {
    const store = await openDuckDBStore(':memory:');
    await store.close();
    const refusal = await store.insert([event(), event()], 0).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal).not.toBeInstanceOf(UnstorableEventsError);
  });

  test('when the store refuses one event for good, the answer is 200 naming it, and the request is not failed with a 503', async () => {
    const inner = await openDuckDBStore(':memory:');
    const poisoned = event();
    // A store whose database cannot take one event: it stores the rest and names that one.
    const store = {
      ...inner,
      async insert(events: readonly CollectedEvent[], receivedAt: number) {
        const storable = events.filter((one) => one.event_id !== poisoned.event_id);
        const stored = await inner.insert(storable, receivedAt);
        if (storable.length === events.length) return stored;
        throw new UnstorableEventsError(stored, [{ event_id: poisoned.event_id, problem: 'cannot be stored: too odd for this database' }]);
      },
    };
    const onError = vi.fn();
    running = await startCollector({ port: 0, store, onError });
    const events = [event(), poisoned, event()];
    const response = await fetch(`${running.url}/collect`, { method: 'POST', body: payload(events) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      stored: 2,
      duplicates: 0,
      rejected: [{ event_id: poisoned.event_id, index: 1, problems: ['cannot be stored: too odd for this database'] }],
    });
    // Logged: validation let through something a store cannot keep, which is worth fixing.
    expect(onError).toHaveBeenCalledWith(expect.any(UnstorableEventsError));
    expect(Number((await inner.query('SELECT count(*) AS n FROM events'))[0]!.n)).toBe(2);
  });

  test('malformed JSON: 400 naming it, nothing stored', async () => {
    const { post, count } = await start();
    const response = await post('{"v":1,"events":[');
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error).toBe('malformed_json');
    expect(body.problems[0]).toMatch(/^body: not valid JSON/);
    expect((await post(Buffer.from([0x7b, 0xff, 0x7d]))).status).toBe(400); // not UTF-8
    expect(await count()).toBe(0);
  });

  // Contract 7: a 400 only when the payload is not a batch at all. Each row: the payload, the problem named.
  const notBatches: Array<[string, (events: Record<string, any>[]) => unknown, string]> = [
    ['not an object', () => [], 'payload: expected an object, got array'],
    ['wrong version', (events) => JSON.parse(payload(events, { v: 2 })), 'v: expected 1, got 2'],
    ['events not a list', () => ({ v: 1, sent_at: '2025-06-15T10:00:00Z', events: {} }), 'events: expected an array, got object'],
    ['no events field', () => ({ v: 1, sent_at: '2025-06-15T10:00:00Z' }), 'events: missing (expected an array)'],
  ];

  test.each(notBatches)('not a batch (%s): 400 naming exactly what is wrong, nothing stored', async (_, change, problem) => {
    const { post, count } = await start();
    const response = await post(JSON.stringify(change([event(), event()] as unknown as Record<string, any>[])));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_payload', problems: [problem] });
    expect(await count()).toBe(0);
  });

  // Each row: a change to one event of four, its index, and exactly what the answer must say about it.
  const badEvents: Array<[string, (events: Record<string, any>[]) => void, number, string]> = [
    ['an event not an object', (events) => (events[1] = 'cta_click' as never), 1, 'event: expected an object, got string'],
    ['event_id not v4', (events) => (events[3]!.event_id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 3, 'event_id: not a UUID v4'],
    ['event_id a number', (events) => (events[0]!.event_id = 7), 0, 'event_id: expected a UUID v4 string, got number'],
    ['no event_id', (events) => delete events[2]!.event_id, 2, 'event_id: missing (expected a UUID v4 string)'],
    ['name with capitals', (events) => (events[1]!.name = 'Bad Name'), 1, 'name: "Bad Name" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name of 41 characters', (events) => (events[0]!.name = 'a'.repeat(41)), 0, `name: "${'a'.repeat(41)}" does not match ^[a-z][a-z0-9_]{0,39}$`],
    ['no name', (events) => delete events[0]!.name, 0, 'name: missing (expected a string)'],
    ['ts a string', (events) => (events[0]!.ts = '1750000000000'), 0, 'ts: expected a number (epoch milliseconds), got string'],
    ['ts negative', (events) => (events[0]!.ts = -1), 0, 'ts: not a valid epoch time in milliseconds'],
    ['no session_id', (events) => delete events[2]!.session_id, 2, 'session_id: missing (expected a string)'],
    ['empty session_id', (events) => (events[0]!.session_id = ''), 0, 'session_id: expected 1 to 200 characters, got 0'],
    ['anonymous_id a number', (events) => (events[0]!.anonymous_id = 5), 0, 'anonymous_id: expected a string or null, got number'],
    ['page a string', (events) => (events[0]!.page = '/'), 0, 'page: expected an object or null, got string'],
    ['page.url a number', (events) => (events[0]!.page.url = 1), 0, 'page.url: expected a string or null, got number'],
    ['params a list', (events) => (events[0]!.params = [1]), 0, 'params: expected an object or null, got array'],
    ['utm_source a number', (events) => (events[0]!.attribution.utm_source = 3), 0, 'attribution.utm_source: expected a string or null, got number'],
    ['gbraid an object', (events) => (events[0]!.attribution.gbraid = {}), 0, 'attribution.gbraid: expected a string or null, got object'],
    ['consent a number', (events) => (events[0]!.consent = 1), 0, 'consent: expected an object or one of granted, denied, pending, got number'],
    ['consent a made-up value', (events) => (events[0]!.consent = { ad_storage: 'yes' }), 0, 'consent.ad_storage: expected granted, denied, pending or null, got "yes"'],
    ['ids a list', (events) => (events[0]!.ids = []), 0, 'ids: expected an object or null, got array'],
    ['ids.user_id a number', (events) => (events[0]!.ids = { user_id: 42 }), 0, 'ids.user_id: expected a string or null, got number'],
    ['an e-mail address where its hash goes', (events) => (events[0]!.ids = { email_sha256: 'jane@example.com' }), 0, 'ids.email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
    ["an e-mail address where Google's hash of it goes", (events) => (events[1]!.ids = { google_email_sha256: 'jane@example.com' }), 1, 'ids.google_email_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the address itself)'],
    ["a phone number where Google's hash of it goes", (events) => (events[2]!.ids = { google_phone_sha256: '+33612345678' }), 2, 'ids.google_phone_sha256: expected 64 hexadecimal characters (a SHA-256 hash, never the number itself)'],
  ];

  test.each(badEvents)('one event outside the schema (%s): 200, that event rejected by name and index, the other three stored', async (_, change, index, problem) => {
    const { post, count } = await start();
    const events = [event(), event(), event(), event()] as unknown as Record<string, any>[];
    change(events);
    const response = await post(payload(events));
    expect(response.status).toBe(200);
    const id = events[index]?.event_id;
    expect(await response.json()).toEqual({
      stored: 3,
      duplicates: 0,
      rejected: [{ event_id: typeof id === 'string' ? id : null, index, problems: [problem] }],
    });
    expect(await count()).toBe(3);
  });

  test('every problem of an event is listed, up to 10; every bad event is named', async () => {
    const { post, count } = await start();
    const broken = { event_id: 'nope', name: 'X', ts: 'then', session_id: 1, anonymous_id: 2, page: { url: 1, path: 2, title: 3, referrer: 4 }, params: 'p', attribution: { utm_source: 5 } };
    const events = [...Array.from({ length: 30 }, () => broken), event()];
    const body = await (await post(payload(events))).json();
    expect(body.stored).toBe(1);
    expect(body.rejected).toHaveLength(30);
    expect(body.rejected.map((entry: { index: number }) => entry.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(body.rejected[0].event_id).toBe('nope');
    expect(body.rejected[0].problems).toHaveLength(11);
    expect(body.rejected[0].problems[10]).toBe('... and 1 more');
    expect(await count()).toBe(1);
  });

  test('missing optional fields are null: a server posting its own conversion needs only event_id, name, ts and session_id', async () => {
    const { post, store } = await start();
    const bare = { event_id: random.uuid(), name: 'purchase', ts: 1_750_000_000_000, session_id: 's-9' };
    const nulls = { ...bare, event_id: random.uuid(), anonymous_id: null, page: null, params: null, attribution: null, consent: null, ids: null };
    const partial = event({ page: { url: 'https://tally.example/' } as never, attribution: { utm_source: 'google' } as never });
    // No v and no sent_at either: neither is needed to store the events.
    const response = await post(JSON.stringify({ events: [bare, nulls, partial] }));
    expect(await response.json()).toEqual({ stored: 3, duplicates: 0, rejected: [] });
    const rows = await store.query(`
      SELECT name, session_id, anonymous_id, page_url, page_path, page_title, page_referrer, params::VARCHAR AS params, utm_source,
             utm_medium, gclid, gbraid, landing_page, landing_referrer, consent_analytics_storage, user_id, email_sha256
      FROM events WHERE event_id = $1 OR event_id = $2 OR event_id = $3 ORDER BY page_url NULLS FIRST, event_id`, [bare.event_id, nulls.event_id, partial.event_id]);
    const allNull = { anonymous_id: null, page_url: null, page_path: null, page_title: null, page_referrer: null, params: null, utm_source: null, utm_medium: null, gclid: null, gbraid: null, landing_page: null, landing_referrer: null, consent_analytics_storage: null, user_id: null, email_sha256: null };
    expect(rows).toEqual(
      expect.arrayContaining([
        { name: 'purchase', session_id: 's-9', ...allNull },
        { name: 'purchase', session_id: 's-9', ...allNull },
        expect.objectContaining({ name: 'cta_click', page_url: 'https://tally.example/', page_title: null, utm_source: 'google', utm_medium: null, landing_page: null }),
      ]),
    );
    expect(rows).toHaveLength(3);
  });

  test('the optional additions are stored: gbraid, wbraid, the four consent purposes, and the ids for server-side matching', async () => {
    const { post, store } = await start();
    const sha = 'a'.repeat(64);
    const googleSha = 'b'.repeat(64);
    const tracked = event({
      attribution: { ...event().attribution, gbraid: 'gb-1', wbraid: 'wb-1' } as never,
      ...({ consent: { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'pending', ad_personalization: null } } as object),
      ...({ ids: { fbp: 'fb.1.1.2', fbc: 'fb.1.1.abc', ga_client_id: '123.456', user_id: 'u-7', email_sha256: sha, phone_sha256: sha.toUpperCase(), google_email_sha256: googleSha.toUpperCase(), google_phone_sha256: googleSha } } as object),
    });
    // One word for all four purposes, as `consent('granted')` takes it.
    const oneWord = { ...event(), consent: 'denied' };
    expect(await (await post(payload([tracked, oneWord]))).json()).toEqual({ stored: 2, duplicates: 0, rejected: [] });
    const rows = await store.query(`
      SELECT gbraid, wbraid, consent_analytics_storage, consent_ad_storage, consent_ad_user_data, consent_ad_personalization,
             fbp, fbc, ga_client_id, user_id, email_sha256, phone_sha256, google_email_sha256, google_phone_sha256
      FROM events ORDER BY event_id = $1 DESC`, [tracked.event_id]);
    expect(rows).toEqual([
      { gbraid: 'gb-1', wbraid: 'wb-1', consent_analytics_storage: 'granted', consent_ad_storage: 'denied', consent_ad_user_data: 'pending', consent_ad_personalization: null, fbp: 'fb.1.1.2', fbc: 'fb.1.1.abc', ga_client_id: '123.456', user_id: 'u-7', email_sha256: sha, phone_sha256: sha, google_email_sha256: googleSha, google_phone_sha256: googleSha },
      expect.objectContaining({ consent_analytics_storage: 'denied', consent_ad_storage: 'denied', consent_ad_user_data: 'denied', consent_ad_personalization: 'denied', user_id: null, google_email_sha256: null }),
    ]);
  });

  test('a database from an older collector (every page field NOT NULL, no consent or id columns) is upgraded when opened', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'microconv-')), 'old.duckdb');
    const old = await DuckDBInstance.create(path);
    const connection = await old.connect();
    await connection.run(`CREATE TABLE events (
      event_id UUID PRIMARY KEY, name VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, ts_ms BIGINT NOT NULL, session_id VARCHAR NOT NULL,
      anonymous_id VARCHAR, page_url VARCHAR NOT NULL, page_path VARCHAR NOT NULL, page_title VARCHAR NOT NULL, page_referrer VARCHAR NOT NULL,
      params JSON NOT NULL, utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_term VARCHAR, utm_content VARCHAR,
      gclid VARCHAR, fbclid VARCHAR, landing_page VARCHAR NOT NULL, landing_referrer VARCHAR NOT NULL, received_at TIMESTAMP NOT NULL)`);
    await connection.run(`INSERT INTO events VALUES ('${random.uuid()}', 'cta_click', now(), 1, 's-0', NULL, '', '', '', '', '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', '', now())`);
    connection.closeSync();
    old.closeSync();
    const store = await openDuckDBStore(path);
    try {
      const bare = { event_id: random.uuid(), name: 'purchase', ts: 1_750_000_000_000, session_id: 's-1', page: { url: null, path: null, title: null, referrer: null }, params: null, attribution: { ...event().attribution, landing_page: null, referrer: null }, ids: { fbp: 'fb.1', fbc: null, ga_client_id: null, user_id: null, email_sha256: null, phone_sha256: null, google_email_sha256: 'c'.repeat(64) } };
      expect(await store.insert([bare], 0)).toBe(1);
      expect(await store.query('SELECT name, page_url, fbp, google_email_sha256, google_phone_sha256 FROM events ORDER BY ts_ms')).toEqual([
        { name: 'cta_click', page_url: '', fbp: null, google_email_sha256: null, google_phone_sha256: null },
        { name: 'purchase', page_url: null, fbp: 'fb.1', google_email_sha256: 'c'.repeat(64), google_phone_sha256: null },
      ]);
    } finally {
      await store.close();
    }
  });

  test('fields the schema does not know are accepted and ignored (the contract grows by adding fields)', async () => {
    const { post, count } = await start();
    expect(await answer(post(payload([{ ...event(), future_field: { anything: [1] } }], { sdk: '0.2.0' })))).toEqual([200, { stored: 1, duplicates: 0, rejected: [] }]);
    expect(await count()).toBe(1);
  });

  test('an empty batch and a batch of only bad events are still answered 200, naming what was rejected', async () => {
    const { post, count } = await start();
    expect(await answer(post(payload([])))).toEqual([200, { stored: 0, duplicates: 0, rejected: [] }]);
    const [status, body] = await answer(post(payload([{ ...event(), ts: null }])));
    expect(status).toBe(200);
    expect(body).toMatchObject({ stored: 0, rejected: [{ index: 0, problems: ['ts: expected a number (epoch milliseconds), got null'] }] });
    expect(await count()).toBe(0);
  });

  // What no store can keep (issue 10): each is a permanent, per-event refusal that names the problem, never a 5xx.
  // A change returns raw JSON where it sets "__RAW__": nesting that deep is past what JSON.stringify can write.
  const unstorable: Array<[string, (events: Record<string, any>[]) => string | void, string]> = [
    ['link_text cut inside an emoji', (events) => (events[1]!.params.link_text = `${'x'.repeat(99)}\u{1F600}`.slice(0, 100)), 'params.link_text: lone surrogate U+D83D at character 99 (not valid Unicode, cannot be stored)'],
    ['a lone low surrogate in the title', (events) => (events[1]!.page.title = '\udc00 Pricing'), 'page.title: lone surrogate U+DC00 at character 0 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate in a parameter name', (events) => void (events[1]!.params['bad\ud800key'] = 1), 'params: a key holds a lone surrogate U+D800 at character 3 (not valid Unicode, cannot be stored)'],
    ['a lone surrogate deep in a list', (events) => void (events[1]!.params.items = [{ name: 'ok' }, { name: 'a\udbff' }]), 'params.items[1].name: lone surrogate U+DBFF at character 1 (not valid Unicode, cannot be stored)'],
    ['parameters nested 5,000 deep', (events) => ((events[1]!.params.deep = '__RAW__'), `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`), `params.deep${'.a'.repeat(30)}: nested deeper than 32 levels`],
    ['a list nested 20,000 deep', (events) => ((events[1]!.params.deep = '__RAW__'), `${'['.repeat(20_000)}${']'.repeat(20_000)}`), `params.deep${'[0]'.repeat(30)}: nested deeper than 32 levels`],
  ];

  test.each(unstorable)('what can never be stored (%s): 200 with that event rejected for good, the others stored', async (_, change, problem) => {
    const onError = vi.fn();
    const { post, count } = await start({ onError });
    const events = [event(), event(), event()] as unknown as Record<string, any>[];
    const raw = change(events);
    const body = raw ? payload(events).replace('"__RAW__"', raw) : payload(events);
    const response = await post(body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stored: 2, duplicates: 0, rejected: [{ event_id: events[1]!.event_id, index: 1, problems: [problem] }] });
    expect(await count()).toBe(2);
    // The same batch again (the SDK's retry of a batch it lost the answer to) gets the same answer: not a 5xx, not stored.
    expect((await post(body)).status).toBe(200);
    expect(await count()).toBe(2);
    expect(onError).not.toHaveBeenCalled();
  });

  test('U+0000 is valid Unicode and is stored as sent, not refused', async () => {
    const { post, store } = await start();
    const withNul = event({ page: { url: 'https://tally.example/', path: '/', title: 'a\u0000b', referrer: '' }, params: { text: 'c\u0000d', 'k\u0000': 1 } });
    expect(await (await post(payload([withNul]))).json()).toEqual({ stored: 1, duplicates: 0, rejected: [] });
    const [row] = await store.query('SELECT page_title, params::VARCHAR AS params FROM events');
    expect(row).toEqual({ page_title: 'a\u0000b', params: JSON.stringify({ text: 'c\u0000d', 'k\u0000': 1 }) });
  });

  test('more events than allowed: 400', async () => {
    const { post } = await start({ maxEvents: 3 });
    const body = await (await post(payload([event(), event(), event(), event()]))).json();
    expect(body.problems).toEqual(['events: at most 3 events per request, got 4']);
  });

  test('64 KiB is accepted; one byte more is 413, with or without Content-Length, and is not read further', async () => {
    const { url, post, count } = await start();
    const exact = (size: number) => {
      const base = payload([event({ params: { pad: '' } })]);
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - Buffer.byteLength(base))}"`);
    };
    expect(Buffer.byteLength(exact(65_536))).toBe(65_536);
    expect((await post(exact(65_536))).status).toBe(200);
    const over = await post(exact(65_537));
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ error: 'payload_too_large', problems: ['body: larger than 65536 bytes'] });
    // Streamed, no Content-Length: counted as it arrives, refused once past the limit.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(16_384)));
        controller.close();
      },
    });
    const streamed = await fetch(`${url}/collect`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get('connection')).toBe('close');
    expect(await count()).toBe(1);
  });

  test('gzip bodies are read, and a small gzip that inflates past 64 KiB is 413', async () => {
    const { post, count } = await start();
    expect((await post(gzipSync(payload([event()])), { 'Content-Encoding': 'gzip' })).status).toBe(200);
    const bomb = gzipSync(payload([event({ params: { pad: 'x'.repeat(1_000_000) } })]));
    expect(bomb.length).toBeLessThan(65_536);
    expect((await post(bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect((await post(Buffer.from('not gzip'), { 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect((await post(payload([event()]), { 'Content-Encoding': 'br' })).status).toBe(415);
    expect(await count()).toBe(1);
  });

  test('a body that is not text: 415', async () => {
    const { post } = await start();
    expect((await post(payload([event()]), { 'Content-Type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post(payload([event()]), { 'Content-Type': 'application/json' })).status).toBe(200);
  });

  test('other methods: 405 with Allow', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/collect`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
  });

  test('a client that goes away mid-body leaves nothing behind, and the collector carries on', async () => {
    const onError = vi.fn();
    const { url, post, count } = await start({ onError });
    const body = payload([event()]);
    await new Promise<void>((resolve) => {
      const request = httpRequest(`${url}/collect`, { method: 'POST', headers: { 'Content-Length': String(body.length) } });
      request.on('error', () => resolve());
      request.write(body.slice(0, 100), () => setTimeout(() => request.destroy(), 50));
    });
    expect((await post(payload([event()]))).status).toBe(200);
    expect(await count()).toBe(1);
    expect(onError).not.toHaveBeenCalled();
  });

  test('storage down: 503 with Retry-After, so the SDK retries', async () => {
    const failing = { insert: () => Promise.reject(new Error('disk full')), signalCounts: async () => [], funnelCounts: async () => ({ sessions: 0, converted: 0, stages: [] }), close: async () => {} };
    const onError = vi.fn();
    running = await startCollector({ port: 0, store: failing, onError });
    const response = await fetch(`${running.url}/collect`, { method: 'POST', body: payload([event()]) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'disk full' }));
  });
});

describe('CORS', () => {
  const SITE = 'https://tally.example';

  test('an allowed origin gets its own origin back (never *), and may read Retry-After', async () => {
    const { post, count } = await start({ allowedOrigins: [SITE] });
    const response = await post(payload([event()]), { Origin: SITE });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(response.headers.get('access-control-expose-headers')).toBe('Retry-After');
    expect(response.headers.get('vary')).toBe('Origin');
    expect(await count()).toBe(1);
  });

  test('another origin: 403, no CORS header, nothing stored', async () => {
    const { post, count } = await start({ allowedOrigins: [SITE] });
    const response = await post(payload([event()]), { Origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await count()).toBe(0);
  });

  test('preflight: allowed for a listed origin, refused for another', async () => {
    const { url } = await start({ allowedOrigins: [SITE] });
    const preflight = (origin: string) =>
      fetch(`${url}/collect`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    const allowed = await preflight(SITE);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
  });

  test('same-origin pages and requests without Origin need no entry, and get no CORS header', async () => {
    const { url, post, count } = await start();
    const same = await post(payload([event()]), { Origin: url });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(payload([event()]))).status).toBe(200);
    expect(await count()).toBe(2);
  });

  test('"*" is refused as a setting', () => {
    expect(() => createCollector({ store: new Promise(() => {}), allowedOrigins: ['*'] })).toThrow(/"\*" is not accepted/);
  });
});

describe('flood protection', () => {
  test('a client past its bucket gets 429 with Retry-After; tokens come back with time; other clients are unaffected', async () => {
    let clock = 1_000_000;
    const { post, count } = await start({ rateLimit: { capacity: 3, refillPerSecond: 0.5 }, trustProxy: true, now: () => clock });
    const from = (ip: string) => ({ 'X-Forwarded-For': ip });
    for (let i = 0; i < 3; i++) expect((await post(payload([event()]), from('203.0.113.7'))).status).toBe(200);
    const flooded = await post(payload([event()]), from('203.0.113.7'));
    expect(flooded.status).toBe(429);
    expect(flooded.headers.get('retry-after')).toBe('2'); // one token at 0.5 a second
    expect(await flooded.json()).toEqual({ error: 'rate_limited', retry_after: 2 });
    expect((await post(payload([event()]), from('198.51.100.1'))).status).toBe(200);
    clock += 2_000;
    expect((await post(payload([event()]), from('203.0.113.7'))).status).toBe(200);
    expect(await count()).toBe(5);
  });

  test('without trustProxy, X-Forwarded-For is ignored (anyone could pick their own)', async () => {
    const { post } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001, exemptLoopback: false } });
    expect((await post(payload([event()]), { 'X-Forwarded-For': '1.1.1.1' })).status).toBe(200);
    expect((await post(payload([event()]), { 'X-Forwarded-For': '2.2.2.2' })).status).toBe(429);
  });

  test('behind a trusted proxy, the client is the address the proxy saw: what the client wrote to its left changes nothing', async () => {
    const { post } = await start({ rateLimit: { capacity: 2, refillPerSecond: 0.001 }, trustProxy: 1 });
    // The proxy appends the address it saw (203.0.113.7) to whatever the client sent.
    const written = ['127.0.0.1', '::1', '10.0.0.1', '198.51.100.1, 127.0.0.1', '127.0.0.1'];
    const statuses: number[] = [];
    for (const entry of written) statuses.push((await post(payload([event()]), { 'X-Forwarded-For': `${entry}, 203.0.113.7` })).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);
  });

  test('nothing named in a header is exempt: a loopback address the proxy reports is limited like any other', async () => {
    const { post } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001 }, trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    // Every entry is a listed proxy, so the leftmost is taken, and it came from a header.
    expect((await post(payload([event()]), { 'X-Forwarded-For': '127.0.0.1, 10.0.0.5' })).status).toBe(200);
    expect((await post(payload([event()]), { 'X-Forwarded-For': '127.0.0.1, 10.0.0.5' })).status).toBe(429);
    // The rightmost address that is not a listed proxy is the client, whatever stands to its left.
    expect((await post(payload([event()]), { 'X-Forwarded-For': '127.0.0.1, 198.51.100.9, 10.0.0.5' })).status).toBe(200);
    expect((await post(payload([event()]), { 'X-Forwarded-For': '::1, 198.51.100.9, 10.0.0.5' })).status).toBe(429);
    expect((await post(payload([event()]), { 'X-Forwarded-For': '198.51.100.10' })).status).toBe(200);
  });

  test('requests from this machine are not limited unless asked (a local simulator is not a flood)', async () => {
    const { post } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001 } });
    for (let i = 0; i < 3; i++) expect((await post(payload([event()]))).status).toBe(200);
  });
});

describe('mounting and the report', () => {
  test('the handler passes other paths to next(), so a server can mount it beside its own routes', async () => {
    const collector = createCollector({ database: ':memory:', plan: { macro: ['generate_lead'] } });
    const server = createServer((request, response) => collector(request, response, () => response.end('static')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${url}/index.html`)).text()).toBe('static');
      expect((await fetch(`${url}/collect`, { method: 'POST', body: payload([event({ name: 'generate_lead' })]) })).status).toBe(200);
      const page = await fetch(`${url}/report`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
      expect(await page.text()).toContain('Association, not cause.');
      const json = await (await fetch(`${url}/report.json`)).json();
      expect(json).toMatchObject({ sessions: 1, converted: 1, macro: ['generate_lead'] });
      expect((await fetch(`${url}/report`, { method: 'POST' })).status).toBe(405);
    } finally {
      server.close();
      await collector.close();
    }
  });

  test('without a plan there is no report: 404', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/report`)).status).toBe(404);
    expect((await fetch(`${url}/report.json`)).status).toBe(404);
  });
});

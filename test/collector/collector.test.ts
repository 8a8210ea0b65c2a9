// @vitest-environment node
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { MicroconvEvent } from '../../src/types';
import type { DuckDBStore } from '../../collector/duckdb-store';
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

describe('POST /collect', () => {
  test('a valid payload: 204, one row per event, with every field in its column', async () => {
    const { post, store } = await start({ now: () => Date.UTC(2025, 5, 15, 10, 0, 1) });
    const first = event({ params: { cta_name: 'start_trial', nested: { list: [1, 'two', null] } } });
    const second = event({ name: 'purchase', ts: 1_750_000_000_500.7, anonymous_id: null, params: {} });
    const response = await post(payload([first, second]));
    expect(response.status).toBe(204);
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

  test('a replayed payload answers 204 again and stores nothing new; so does an event twice in one batch', async () => {
    const { post, count, store } = await start();
    const events = [event(), event(), event()];
    expect((await post(payload(events))).status).toBe(204);
    expect((await post(payload(events))).status).toBe(204);
    expect(await count()).toBe(3);
    // The same ids in capitals (a client that writes UUIDs that way) are the same events.
    const shouting = events.map((e) => ({ ...e, event_id: e.event_id.toUpperCase() }));
    expect((await post(payload(shouting))).status).toBe(204);
    const fresh = event();
    expect((await post(payload([fresh, fresh, events[0]!]))).status).toBe(204);
    expect(await count()).toBe(4);
    // And the store says which were new.
    expect(await store.insert([events[1]!, event()], Date.now())).toBe(1);
  });

  test('concurrent requests (grouped into one write) each store their events once', async () => {
    const { post, count } = await start();
    const batches = Array.from({ length: 20 }, () => [event(), event()]);
    const statuses = await Promise.all([...batches, ...batches.slice(0, 5)].map((batch) => post(payload(batch)).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([204]));
    expect(await count()).toBe(40);
  });

  test('one write the database refuses does not take the others grouped with it down', async () => {
    const { store, count } = await start();
    // Past validation nothing should fail; a broken id stands in for whatever might.
    const results = await Promise.allSettled([store.insert([event()], 0), store.insert([{ ...event(), event_id: 'broken' }], 0), store.insert([event(), event()], 0)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await count()).toBe(3);
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

  // Each row: a change to a valid payload, and the exact problem the answer must name.
  const violations: Array<[string, (events: Record<string, any>[]) => unknown, string]> = [
    ['not an object', () => [], 'payload: expected an object, got array'],
    ['wrong version', (events) => JSON.parse(payload(events, { v: 2 })), 'v: expected 1, got 2'],
    ['no sent_at', (events) => ({ v: 1, events }), 'sent_at: missing (expected an ISO 8601 date-time string)'],
    ['sent_at not a date', (events) => JSON.parse(payload(events, { sent_at: 'yesterday' })), 'sent_at: not an ISO 8601 date-time'],
    ['events not a list', () => ({ v: 1, sent_at: '2025-06-15T10:00:00Z', events: {} }), 'events: expected an array, got object'],
    ['no events', () => ({ v: 1, sent_at: '2025-06-15T10:00:00Z', events: [] }), 'events: expected at least one event'],
    ['an event not an object', (events) => JSON.parse(payload(['cta_click', ...events])), 'events[0]: expected an object, got string'],
    ['event_id not v4', (events) => ((events[3]!.event_id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), null), 'events[3].event_id: not a UUID v4'],
    ['event_id a number', (events) => ((events[0]!.event_id = 7), null), 'events[0].event_id: expected a UUID v4 string, got number'],
    ['name with capitals', (events) => ((events[1]!.name = 'Bad Name'), null), 'events[1].name: "Bad Name" does not match ^[a-z][a-z0-9_]{0,39}$'],
    ['name of 41 characters', (events) => ((events[0]!.name = 'a'.repeat(41)), null), `events[0].name: "${'a'.repeat(41)}" does not match ^[a-z][a-z0-9_]{0,39}$`],
    ['ts a string', (events) => ((events[0]!.ts = '1750000000000'), null), 'events[0].ts: expected a number (epoch milliseconds), got string'],
    ['ts negative', (events) => ((events[0]!.ts = -1), null), 'events[0].ts: not a valid epoch time in milliseconds'],
    ['no session_id', (events) => (delete events[2]!.session_id, null), 'events[2].session_id: missing (expected a string)'],
    ['empty session_id', (events) => ((events[0]!.session_id = ''), null), 'events[0].session_id: expected 1 to 200 characters, got 0'],
    ['anonymous_id a number', (events) => ((events[0]!.anonymous_id = 5), null), 'events[0].anonymous_id: expected a string or null, got number'],
    ['no page', (events) => (delete events[0]!.page, null), 'events[0].page: missing (expected an object)'],
    ['page.url a number', (events) => ((events[0]!.page.url = 1), null), 'events[0].page.url: expected a string, got number'],
    ['page.title missing', (events) => (delete events[0]!.page.title, null), 'events[0].page.title: missing (expected a string)'],
    ['params a list', (events) => ((events[0]!.params = [1]), null), 'events[0].params: expected an object, got array'],
    ['params null', (events) => ((events[0]!.params = null), null), 'events[0].params: expected an object, got null'],
    ['attribution null', (events) => ((events[0]!.attribution = null), null), 'events[0].attribution: expected an object, got null'],
    ['utm_source a number', (events) => ((events[0]!.attribution.utm_source = 3), null), 'events[0].attribution.utm_source: expected a string or null, got number'],
    ['gclid missing', (events) => (delete events[0]!.attribution.gclid, null), 'events[0].attribution.gclid: missing (expected a string or null)'],
    ['landing_page null', (events) => ((events[0]!.attribution.landing_page = null), null), 'events[0].attribution.landing_page: expected a string, got null'],
  ];

  test.each(violations)('outside the schema (%s): 400 naming exactly what is wrong, nothing stored', async (_, change, problem) => {
    const { post, count } = await start();
    const events = [event(), event(), event(), event()] as unknown as Record<string, any>[];
    const changed = change(events);
    const response = await post(changed === null ? payload(events) : JSON.stringify(changed));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_payload', problems: [problem] });
    // All or nothing: the three valid events of the batch are not stored either.
    expect(await count()).toBe(0);
  });

  test('every problem is listed, up to 20', async () => {
    const { post } = await start();
    const events = Array.from({ length: 30 }, () => ({ ...event(), event_id: 'nope' }));
    const body = await (await post(payload(events))).json();
    expect(body.problems).toHaveLength(21);
    expect(body.problems[20]).toBe('... and 10 more');
  });

  test('fields the schema does not know are accepted (the contract grows by adding fields)', async () => {
    const { post, count } = await start();
    expect((await post(payload([{ ...event(), consent: 'granted' }], { sdk: '0.2.0' }))).status).toBe(204);
    expect(await count()).toBe(1);
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
    expect((await post(exact(65_536))).status).toBe(204);
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
    expect((await post(gzipSync(payload([event()])), { 'Content-Encoding': 'gzip' })).status).toBe(204);
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
    expect((await post(payload([event()]), { 'Content-Type': 'application/json' })).status).toBe(204);
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
    expect((await post(payload([event()]))).status).toBe(204);
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
    expect(response.status).toBe(204);
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
    expect(same.status).toBe(204);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(payload([event()]))).status).toBe(204);
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
    for (let i = 0; i < 3; i++) expect((await post(payload([event()]), from('203.0.113.7'))).status).toBe(204);
    const flooded = await post(payload([event()]), from('203.0.113.7'));
    expect(flooded.status).toBe(429);
    expect(flooded.headers.get('retry-after')).toBe('2'); // one token at 0.5 a second
    expect(await flooded.json()).toEqual({ error: 'rate_limited', retry_after: 2 });
    expect((await post(payload([event()]), from('198.51.100.1'))).status).toBe(204);
    clock += 2_000;
    expect((await post(payload([event()]), from('203.0.113.7'))).status).toBe(204);
    expect(await count()).toBe(5);
  });

  test('without trustProxy, X-Forwarded-For is ignored (anyone could pick their own)', async () => {
    const { post } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001, exemptLoopback: false } });
    expect((await post(payload([event()]), { 'X-Forwarded-For': '1.1.1.1' })).status).toBe(204);
    expect((await post(payload([event()]), { 'X-Forwarded-For': '2.2.2.2' })).status).toBe(429);
  });

  test('requests from this machine are not limited unless asked (a local simulator is not a flood)', async () => {
    const { post } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001 } });
    for (let i = 0; i < 3; i++) expect((await post(payload([event()]))).status).toBe(204);
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
      expect((await fetch(`${url}/collect`, { method: 'POST', body: payload([event({ name: 'generate_lead' })]) })).status).toBe(204);
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

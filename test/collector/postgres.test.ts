// @vitest-environment node
import pg from 'pg';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { MicroconvEvent } from '../../src/types';
import { chooseStore, describeStore, UsageError } from '../../collector/cli';
import { openDuckDBStore, type DuckDBStore } from '../../collector/duckdb-store';
import { startCollector } from '../../collector/http';
import { checkPlan, planSignals, type ReportPlan } from '../../collector/plan';
import { openPostgresStore, type PostgresStore } from '../../collector/postgres-store';
import { mulberry32 } from '../../collector/prng';
import { buildReport } from '../../collector/report';
import { DEMO_MODEL, generateTraffic, modelPlan } from '../../collector/simulate';
import { UnstorableEventsError, type CollectedEvent, type EventStore } from '../../collector/store';
import { validatePayload } from '../../collector/validate';
import { describePostgres, useThrowawayPostgres } from './support/postgres';

const random = mulberry32(77);

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

/** Wire events as the collector hands them to a store: checked, missing optional fields as null. */
function collected(wire: readonly object[]): CollectedEvent[] {
  const validation = validatePayload({ v: 1, events: wire }, wire.length);
  if (!validation.ok || validation.rejected.length) throw new Error(`test events refused: ${JSON.stringify(validation)}`);
  return validation.accepted.map(({ event }) => event);
}

/** A conversion a server posts itself: only the four required fields. */
const bare = (session_id: string, name: string, ts: number) => ({ event_id: random.uuid(), name, ts, session_id });

const SHA = 'ab'.repeat(32);
const GOOGLE_SHA = 'cd'.repeat(32);
/** Every optional addition of the wire schema filled in. */
const withAdditions = (overrides: object = {}) => ({
  ...event(),
  attribution: { ...event().attribution, gbraid: 'gb-1', wbraid: 'wb-1' },
  consent: { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'pending', ad_personalization: null },
  ids: { fbp: 'fb.1.1.2', fbc: 'fb.1.1.abc', ga_client_id: '123.456', user_id: 'u-7', email_sha256: SHA, phone_sha256: SHA.toUpperCase(), google_email_sha256: GOOGLE_SHA.toUpperCase(), google_phone_sha256: GOOGLE_SHA },
  ...overrides,
});

describe('choosing the store on the command line', () => {
  test('DuckDB unless asked; --postgres URL, or --store postgres with DATABASE_URL, picks PostgreSQL', () => {
    const env = { DATABASE_URL: 'postgres://app:secret@db.internal:5432/events' };
    expect(chooseStore({}, env)).toEqual({ kind: 'duckdb', path: 'data/microconv.duckdb' });
    expect(chooseStore({ db: 'x.duckdb' }, env)).toEqual({ kind: 'duckdb', path: 'x.duckdb' });
    expect(chooseStore({ postgres: 'postgresql://h/db' }, env)).toEqual({ kind: 'postgres', url: 'postgresql://h/db' });
    expect(chooseStore({ store: 'postgres' }, env)).toEqual({ kind: 'postgres', url: env.DATABASE_URL });
    // The URL in logs and errors never shows the password.
    expect(describeStore(chooseStore({ store: 'postgres' }, env))).toBe('PostgreSQL postgres://app:***@db.internal:5432/events');
  });

  test.each([
    [{ store: 'postgres' }, {}, '--store postgres: give --postgres URL, or set DATABASE_URL'],
    [{ store: 'postgres', db: 'x.duckdb' }, {}, '--db names a DuckDB file; PostgreSQL takes --postgres URL'],
    [{ store: 'duckdb', postgres: 'postgres://h/db' }, {}, '--postgres is for --store postgres; leave out --store duckdb'],
    [{ store: 'mysql' }, {}, '--store: expected duckdb or postgres, got "mysql"'],
    [{ postgres: 'mysql://u:pw@h/db' }, {}, '--postgres: expected a postgres:// or postgresql:// URL, got "mysql://u:***@h/db"'],
    [{ store: 'postgres' }, { DATABASE_URL: 'sqlite:x' }, 'DATABASE_URL: expected a postgres:// or postgresql:// URL, got "sqlite:x"'],
  ])('%j (env %j): a usage error', (args, env, message) => {
    expect(() => chooseStore(args, env)).toThrow(new UsageError(message));
  });
});

describePostgres('the PostgreSQL store', () => {
  const postgres = useThrowawayPostgres();
  const opened: EventStore[] = [];
  const open = async (url?: string, onIdleError: (error: Error) => void = () => {}) => {
    const store = await openPostgresStore(url ?? (await postgres.database()), { onIdleError });
    opened.push(store);
    return store;
  };
  const count = async (store: PostgresStore) => Number((await store.query<{ n: string }>('SELECT count(*) AS n FROM events'))[0]!.n);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  test('every field in its column, as in the DuckDB table', async () => {
    const store = await open();
    const first = event({ params: { cta_name: 'start_trial', nested: { list: [1, 'two', null] } } });
    const second = event({ name: 'purchase', ts: 1_750_000_000_500.7, anonymous_id: null, params: {} });
    expect(await store.insert([first, second], Date.UTC(2025, 5, 15, 10, 0, 1))).toBe(2);
    const rows = await store.query(`
      SELECT event_id::text, name, (ts AT TIME ZONE 'UTC')::text AS ts, ts_ms, session_id, anonymous_id, page_url, page_path, page_title,
             page_referrer, params::text AS params, params->'nested'->'list'->>1 AS second_item, utm_source, utm_medium, utm_campaign,
             utm_term, utm_content, gclid, fbclid, landing_page, landing_referrer, (received_at AT TIME ZONE 'UTC')::text AS received_at
      FROM events ORDER BY ts_ms`);
    expect(rows).toEqual([
      {
        event_id: first.event_id,
        name: 'cta_click',
        ts: '2025-06-15 15:06:40',
        ts_ms: '1750000000000',
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
        utm_content: null,
        gclid: 'abc123',
        fbclid: null,
        landing_page: 'https://tally.example/?utm_source=google',
        landing_referrer: 'https://www.google.com/',
        received_at: '2025-06-15 10:00:01',
      },
      expect.objectContaining({ event_id: second.event_id, name: 'purchase', ts_ms: '1750000000501', ts: '2025-06-15 15:06:40.501', anonymous_id: null, params: '{}' }),
    ]);
  });

  test('deduplicates by event_id: a replay, the same ids in capitals, the same id twice in one call', async () => {
    const store = await open();
    const events = [event(), event(), event()];
    expect(await store.insert(events, 0)).toBe(3);
    expect(await store.insert(events, 0)).toBe(0);
    expect(await store.insert(events.map((e) => ({ ...e, event_id: e.event_id.toUpperCase() })), 0)).toBe(0);
    const fresh = event();
    expect(await store.insert([fresh, { ...fresh, event_id: fresh.event_id.toUpperCase(), name: 'other' }, events[0]!], 0)).toBe(1);
    expect(await count(store)).toBe(4);
    // The first of the two copies is the one kept.
    expect(await store.query('SELECT name FROM events WHERE event_id = $1', [fresh.event_id])).toEqual([{ name: 'cta_click' }]);
  });

  test('concurrent calls go out grouped, and each learns how many of its own events were new', async () => {
    const store = await open();
    const batches = Array.from({ length: 20 }, () => [event(), event()]);
    // Five batches twice, and one event shared by two calls: new for exactly one of them.
    const shared = event();
    const calls = [...batches, ...batches.slice(0, 5), [shared], [shared, event()]];
    const counts = await Promise.all(calls.map((batch) => store.insert(batch, 0)));
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(42);
    expect(counts.slice(20, 25)).toEqual([0, 0, 0, 0, 0]);
    expect(counts[25]! + counts[26]!).toBe(2);
    expect(await count(store)).toBe(42);
  });

  test('one write the database refuses does not take the others grouped with it down; its refused event is named, the rest of its call stored', async () => {
    const store = await open();
    // Past validation nothing should fail; a broken id (SQLSTATE 22P02) stands in for whatever might.
    const good = [event(), event()];
    const results = await Promise.allSettled([
      store.insert([event()], 0),
      store.insert([good[0]!, { ...event(), event_id: 'broken' }, good[1]!], 0),
      store.insert([event(), event()], 0),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (results[1] as PromiseRejectedResult).reason;
    expect(refusal).toBeInstanceOf(UnstorableEventsError);
    expect(refusal).toMatchObject({ stored: 2, events: [{ event_id: 'broken', problem: 'cannot be stored: invalid input syntax for type uuid: "broken" (22P02)' }] });
    expect(await count(store)).toBe(5);
    expect((await store.query<{ event_id: string }>('SELECT event_id::text FROM events WHERE event_id = ANY($1::uuid[])', [good.map((one) => one.event_id)])).length).toBe(2);
  });

  test('a database that cannot hold a character (LATIN1, an emoji): that event is refused alone and named, the others stored; the collector answers 200, never 503', async () => {
    const store = await open(await postgres.database("TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C' LOCALE_PROVIDER libc"));
    const accented = event({ page: { ...event().page, title: 'Café crème' } });
    const rocket = event({ page: { ...event().page, title: 'Launch 🚀' } });
    const refusal = await store.insert([accented, rocket, event()], 0).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnstorableEventsError);
    const untranslatable = 'cannot be stored: character with byte sequence 0xf0 0x9f 0x9a 0x80 in encoding "UTF8" has no equivalent in encoding "LATIN1" (22P05)';
    expect(refusal).toMatchObject({ stored: 2, events: [{ event_id: rocket.event_id, problem: untranslatable }] });
    expect(await store.query('SELECT page_title FROM events ORDER BY page_title')).toEqual([{ page_title: 'Café crème' }, { page_title: 'Tally' }]);

    const onError = vi.fn();
    const running = await startCollector({ port: 0, store, onError });
    try {
      const another = event({ params: { cta_name: '🚀' } });
      const body = JSON.stringify({ v: 1, events: [event(), another, event()] });
      const post = () => fetch(`${running.url}/collect`, { method: 'POST', body });
      const first = await post();
      expect(first.status).toBe(200);
      const refused = { event_id: another.event_id, index: 1, problems: [untranslatable] };
      expect(await first.json()).toEqual({ stored: 2, duplicates: 0, rejected: [refused] });
      // The SDK's retry of a batch whose answer it lost: the same refusal, not a 5xx to retry for ever.
      expect(await (await post()).json()).toEqual({ stored: 0, duplicates: 2, rejected: [refused] });
      expect(onError).toHaveBeenCalledWith(expect.any(UnstorableEventsError));
      expect(await count(store)).toBe(4);
    } finally {
      await running.close();
    }
  });

  test('a constraint added to the table (class 23) refuses its events alone, named; the rest of the call is stored', async () => {
    const store = await open();
    await store.query("ALTER TABLE events ADD CONSTRAINT no_staging CHECK (page_url NOT LIKE 'https://staging.%')");
    const staging = event({ page: { ...event().page, url: 'https://staging.tally.example/' } });
    const refusal = await store.insert([event(), staging], 0).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnstorableEventsError);
    expect(refusal).toMatchObject({ stored: 1, events: [{ event_id: staging.event_id, problem: 'cannot be stored: new row for relation "events" violates check constraint "no_staging" (23514)' }] });
    expect(await count(store)).toBe(1);
  });

  test('a store that is closed is storage unavailable, never blamed on an event', async () => {
    const store = await open();
    await store.close();
    const refusal = await store.insert([event()], 0).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal).not.toBeInstanceOf(UnstorableEventsError);
  });

  test('a conversion a server posts with only the four required fields is stored (200), not answered 503 and retried for ever', async () => {
    const store = await open();
    const onError = vi.fn();
    const running = await startCollector({ port: 0, store, onError });
    try {
      const nulls = { ...bare('s-9', 'purchase', 1_750_000_000_000), anonymous_id: null, page: null, params: null, attribution: null, consent: null, ids: null };
      const partial = event({ page: { url: 'https://tally.example/' } as never, attribution: { utm_source: 'google' } as never });
      const response = await fetch(`${running.url}/collect`, { method: 'POST', body: JSON.stringify({ events: [bare('s-9', 'purchase', 1_750_000_000_000), nulls, partial] }) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ stored: 3, duplicates: 0, rejected: [] });
      expect(onError).not.toHaveBeenCalled();
      const rows = await store.query(`
        SELECT name, anonymous_id, page_url, page_path, page_title, page_referrer, params::text AS params, utm_source, utm_medium, landing_page, landing_referrer
        FROM events ORDER BY page_url NULLS FIRST, event_id`);
      const allNull = { anonymous_id: null, page_url: null, page_path: null, page_title: null, page_referrer: null, params: null, utm_source: null, utm_medium: null, landing_page: null, landing_referrer: null };
      expect(rows).toEqual([
        { name: 'purchase', ...allNull },
        { name: 'purchase', ...allNull },
        { name: 'cta_click', ...allNull, anonymous_id: 'a-1', page_url: 'https://tally.example/', params: JSON.stringify(partial.params), utm_source: 'google' },
      ]);
    } finally {
      await running.close();
    }
  });

  test('the optional additions are stored: gbraid, wbraid, the four consent purposes, the ids for server-side matching', async () => {
    const store = await open();
    const [tracked, oneWord] = collected([withAdditions(), { ...event(), consent: 'denied' }]);
    expect(await store.insert([tracked!, oneWord!], 0)).toBe(2);
    const rows = await store.query(
      `SELECT gbraid, wbraid, consent_analytics_storage, consent_ad_storage, consent_ad_user_data, consent_ad_personalization,
              fbp, fbc, ga_client_id, user_id, email_sha256, phone_sha256, google_email_sha256, google_phone_sha256
       FROM events ORDER BY event_id = $1 DESC`,
      [tracked!.event_id],
    );
    expect(rows).toEqual([
      { gbraid: 'gb-1', wbraid: 'wb-1', consent_analytics_storage: 'granted', consent_ad_storage: 'denied', consent_ad_user_data: 'pending', consent_ad_personalization: null, fbp: 'fb.1.1.2', fbc: 'fb.1.1.abc', ga_client_id: '123.456', user_id: 'u-7', email_sha256: SHA, phone_sha256: SHA, google_email_sha256: GOOGLE_SHA, google_phone_sha256: GOOGLE_SHA },
      expect.objectContaining({ consent_analytics_storage: 'denied', consent_ad_storage: 'denied', consent_ad_user_data: 'denied', consent_ad_personalization: 'denied', gbraid: null, user_id: null, google_email_sha256: null }),
    ]);
  });

  test('a table this store made before the optional page fields and the new columns is upgraded when opened', async () => {
    const url = await postgres.database();
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    try {
      await old.query(`CREATE TABLE events (
        event_id uuid PRIMARY KEY, name text NOT NULL, ts timestamptz NOT NULL, ts_ms bigint NOT NULL, session_id text NOT NULL,
        anonymous_id text, page_url text NOT NULL, page_path text NOT NULL, page_title text NOT NULL, page_referrer text NOT NULL,
        params json NOT NULL, utm_source text, utm_medium text, utm_campaign text, utm_term text, utm_content text, gclid text, fbclid text,
        landing_page text NOT NULL, landing_referrer text NOT NULL, received_at timestamptz NOT NULL)`);
      await old.query(`INSERT INTO events VALUES ($1, 'cta_click', now(), 1, 's-0', NULL, '', '', '', '', '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', '', now())`, [random.uuid()]);
    } finally {
      await old.end();
    }
    const store = await open(url);
    const [server] = collected([{ ...bare('s-1', 'purchase', 1_750_000_000_000), ids: { fbp: 'fb.1', google_phone_sha256: GOOGLE_SHA } }]);
    expect(await store.insert([server!], 0)).toBe(1);
    expect(await store.query('SELECT name, page_url, params::text AS params, landing_page, fbp, consent_ad_storage, google_phone_sha256 FROM events ORDER BY ts_ms')).toEqual([
      { name: 'cta_click', page_url: '', params: '{}', landing_page: '', fbp: null, consent_ad_storage: null, google_phone_sha256: null },
      { name: 'purchase', page_url: null, params: null, landing_page: null, fbp: 'fb.1', consent_ad_storage: null, google_phone_sha256: GOOGLE_SHA },
    ]);
  });

  test('stores what DuckDB stores: U+0000 anywhere; and half a surrogate pair, which DuckDB refuses', async () => {
    const store = await open();
    const duck = await openDuckDBStore(':memory:');
    const withNul = event({
      session_id: 's\u0000nul',
      page: { url: 'https://tally.example/\u0000', path: '/', title: 'Ta\u0000lly', referrer: '' },
      params: { note: 'a\u0000b', 'key\u0000': ['\u0000'], nested: { deep: 'x\u0000' } },
      attribution: { ...event().attribution, utm_term: 'term\u0000' },
    });
    const halfPair = event({ page: { url: 'https://tally.example/', path: '/', title: 'half \ud800 pair', referrer: '' }, params: { odd: '\udc00\ud83d\ude00' } });
    try {
      expect(await duck.insert([withNul], 0)).toBe(1);
      expect(await store.insert([withNul], 0)).toBe(1);
      expect(await store.insert([halfPair], 0)).toBe(1);
    } finally {
      await duck.close();
    }
    const rows = await store.query<{ session_id: string; page_title: string; utm_term: string; params: string }>(
      'SELECT session_id, page_title, utm_term, params::text AS params FROM events ORDER BY page_title COLLATE "C"',
    );
    // Text columns: U+FFFD in its place (PostgreSQL's text cannot hold U+0000); params exactly as sent.
    expect(rows.map((row) => [row.session_id, row.page_title, row.utm_term])).toEqual([
      ['s\ufffdnul', 'Ta\ufffdlly', 'term\ufffd'],
      ['s-1', 'half \ufffd pair', null],
    ]);
    expect(JSON.parse(rows[0]!.params)).toEqual(withNul.params);
    expect(JSON.parse(rows[1]!.params)).toEqual(halfPair.params);
    // The session still counts as one session.
    expect(await store.signalCounts({ macro: ['purchase'], signals: [] })).toEqual([
      { signal: 'cta_click', sessionsWith: 2, convertedWith: 0, sessionsWithout: 0, convertedWithout: 0 },
    ]);
  });

  test('rejects while the database is unreachable (the collector answers 503), and works again once it is back', async () => {
    const url = await postgres.database();
    const name = new URL(url).pathname.slice(1);
    const idleErrors: Error[] = [];
    const store = await open(url, (error) => idleErrors.push(error));
    expect(await store.insert([event()], 0)).toBe(1);
    const admin = await open(postgres.url);
    const down = async (isDown: boolean) => {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${!isDown}`);
      if (isDown) await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    };
    await down(true);
    // The pool's idle connection was cut: reported, not thrown (an unhandled 'error' would end the process).
    await vi.waitFor(() => expect(idleErrors.length).toBeGreaterThan(0), { timeout: 10_000 });
    const unreachable = await store.insert([event()], 0).then(() => null, (error: unknown) => error);
    expect(unreachable).toBeInstanceOf(Error);
    expect((unreachable as Error).message).toMatch(/not currently accepting connections/);
    expect(unreachable).not.toBeInstanceOf(UnstorableEventsError);
    const running = await startCollector({ port: 0, store, onError: () => {} });
    try {
      const body = JSON.stringify({ v: 1, sent_at: '2025-06-15T10:00:00Z', events: [event()] });
      const post = () => fetch(`${running.url}/collect`, { method: 'POST', body });
      const refused = await post();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      await down(false);
      expect((await post()).status).toBe(200);
      expect(await count(store)).toBe(2);
    } finally {
      await running.close();
    }
  });

  test('collectors opening one new database at the same moment all succeed', async () => {
    const url = await postgres.database();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    const shared = event();
    const counts = await Promise.all(stores.map((store) => store.insert([shared], 0)));
    expect(counts.sort()).toEqual([0, 0, 0, 1]);
  });

  test('an older table gains the nullable columns it lacks; a NOT NULL one it lacks is an error that names it', async () => {
    const url = await postgres.database();
    const first = await open(url);
    await first.insert([event({ attribution: { ...event().attribution, fbclid: 'lost with its column' } })], 0);
    // A table from before these columns, with a row in it.
    await first.query('ALTER TABLE events DROP COLUMN fbclid, DROP COLUMN utm_content');
    const second = await open(url);
    expect(await second.insert([event({ attribution: { ...event().attribution, fbclid: 'fb.1' } })], 0)).toBe(1);
    expect(await second.query('SELECT fbclid FROM events ORDER BY fbclid')).toEqual([{ fbclid: 'fb.1' }, { fbclid: null }]);
    await second.query('ALTER TABLE events DROP COLUMN session_id');
    await expect(openPostgresStore(url)).rejects.toThrow('cannot open the PostgreSQL store: the events table has no column session_id (text NOT NULL)');
  });

  test('two pools writing overlapping batches at once, in opposite orders: every event stored once, and counted new once', async () => {
    const url = await postgres.database();
    const [left, right] = [await open(url), await open(url)];
    const events = Array.from({ length: 600 }, () => event());
    // Overlapping windows of 30 events, every 10: each event is in three batches, sent by both pools.
    const batches = Array.from({ length: 60 }, (_, index) => events.slice(index * 10, index * 10 + 30));
    const counts = await Promise.all([
      ...batches.map((batch) => left.insert(batch, 0)),
      ...batches.map((batch) => right.insert([...batch].reverse(), 0)),
    ]);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(600);
    // Large batches of the same events at the same moment, one pool forwards and the other backwards:
    // writers that took the rows' locks in the order given would deadlock where they meet.
    for (let round = 0; round < 3; round++) {
      const batch = Array.from({ length: 3000 }, () => event());
      const [forwards, backwards] = await Promise.all([left.insert(batch, 0), right.insert([...batch].reverse(), 0)]);
      expect(forwards + backwards).toBe(3000);
    }
    expect(await left.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM events')).toEqual([{ n: 9600, ids: 9600 }]);
  }, 60_000);
});

/** A row of either store in one form: times as epoch ms, ids as text, params parsed (both drivers return them differently). */
function comparable(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([column, value]) => {
      if (value === null) return [column, null];
      if (column === 'params') return [column, typeof value === 'string' ? JSON.parse(value) : value];
      if (value instanceof Date) return [column, value.getTime()];
      if (column === 'ts_ms') return [column, Number(value)];
      return [column, String(value)];
    }),
  );
}

describePostgres('PostgreSQL and DuckDB count alike', () => {
  const postgres = useThrowawayPostgres();

  const at = (session: string, name: string, ts: number) => event({ session_id: session, name, ts });
  // Edge cases the simulator does not make: a signal in the same millisecond as the conversion, a
  // second conversion, names whose order differs between byte order and a language's collation;
  // events without the optional fields (a server posting its own conversion sends only four), as
  // the collector hands them over. (Cta_upper is no valid name: inserted directly, as a tool may.)
  const EDGES: CollectedEvent[] = [
    at('e1', 'form_begin', 5000),
    at('e1', 'generate_lead', 5000),
    at('e1', 'generate_lead', 9000),
    at('e1', 'cta2', 9500),
    at('e2', 'cta2', 1000),
    at('e2', 'Cta_upper', 1000),
    at('e3', 'form_abandon', 100),
    ...collected([
      { ...at('e4', 'cta_click', 100), page: null, params: null, attribution: null },
      bare('e4', 'generate_lead', 200),
      bare('e5', 'form_step', 300),
      withAdditions({ session_id: 'e5', name: 'section_view', ts: 400 }),
    ]),
  ];

  async function bothStores(events: readonly CollectedEvent[]) {
    const duck = await openDuckDBStore(':memory:');
    const pg = await openPostgresStore(await postgres.database());
    // The same calls into each: batches as sent, with the replays a lost answer causes.
    for (let start = 0; start < events.length; start += 200) {
      const batch = events.slice(start, start + 200);
      await duck.insert(batch, 0);
      await pg.insert(batch, 0);
      if (start % 1000 === 0) await Promise.all([duck.insert(batch, 0), pg.insert(batch, 0)]);
    }
    return { duck, pg, close: () => Promise.all([duck.close(), pg.close()]) };
  }

  async function expectSameCounts(duck: DuckDBStore, pg: PostgresStore, plan: ReportPlan) {
    const signals = { macro: plan.macro, signals: [...planSignals(plan), 'never_seen'] };
    const funnel = { macro: plan.macro, stages: [...plan.stages, { stage: 'empty', events: ['never_seen'] }] };
    const [duckSignals, pgSignals, duckFunnel, pgFunnel] = await Promise.all([duck.signalCounts(signals), pg.signalCounts(signals), duck.funnelCounts(funnel), pg.funnelCounts(funnel)]);
    // Exactly, order included.
    expect(pgSignals).toEqual(duckSignals);
    expect(pgFunnel).toEqual(duckFunnel);
    const now = Date.UTC(2025, 6, 1);
    expect(await buildReport(pg, plan, now)).toEqual(await buildReport(duck, plan, now));
    return { signals: duckSignals, funnel: duckFunnel };
  }

  test("the seeded simulator's traffic, with edge cases: the same signal and funnel counts, the same report", async () => {
    const plan = checkPlan(modelPlan(DEMO_MODEL));
    const sessions = [...generateTraffic(DEMO_MODEL, { seed: 3, sessions: 2000 })];
    const events = [...sessions.flatMap((session) => session.events), ...EDGES];
    const { duck, pg, close } = await bothStores(events);
    try {
      const { signals, funnel } = await expectSameCounts(duck, pg, plan);
      // What was compared is real traffic, not two empty answers.
      expect(funnel.sessions).toBe(sessions.filter((session) => session.events.length > 0).length + 5);
      expect(funnel.converted).toBeGreaterThan(50);
      expect(signals.map((row) => row.signal)).toEqual([
        'Cta_upper', 'cta2', 'cta_click', 'download_click', 'form_abandon', 'form_begin', 'form_step', 'never_seen',
        'scroll_depth', 'section_view', 'video_milestone', 'video_play', 'web_vitals',
      ]);
      expect(funnel.stages.map((stage) => stage.sessions).every((n, index, all) => index === 0 || n <= all[index - 1]!)).toBe(true);
    } finally {
      await close();
    }
  }, 60_000);

  test('every column alike: the same rows in both tables, missing optional fields NULL, the new fields in their columns', async () => {
    const events = collected([
      event({ ts: 1_750_000_000_000.6, params: { cta_name: 'start_trial', nested: { list: [1, 'two', null] } } }),
      bare('s-2', 'purchase', 1_750_000_000_100),
      { ...bare('s-2', 'purchase', 1_750_000_000_200), anonymous_id: null, page: null, params: null, attribution: null, consent: null, ids: null },
      event({ page: { url: 'https://tally.example/' } as never, attribution: { utm_source: 'google' } as never, params: {} }),
      withAdditions(),
      { ...event(), consent: 'granted', ids: { user_id: 'u-8', email_sha256: SHA.toUpperCase() } },
    ]);
    const { duck, pg, close } = await bothStores(events);
    try {
      const duckRows = (await duck.query('SELECT * FROM events ORDER BY event_id')).map(comparable);
      const pgRows = (await pg.query('SELECT * FROM events ORDER BY event_id')).map(comparable);
      expect(pgRows).toHaveLength(events.length);
      // The same columns in the same order, and the same value in each.
      expect(pgRows.map((row) => Object.keys(row))).toEqual(duckRows.map((row) => Object.keys(row)));
      expect(pgRows).toEqual(duckRows);
      // What was compared holds NULLs and the new fields, not only what the older table had.
      expect(pgRows.filter((row) => row.page_url === null && row.params === null && row.landing_page === null)).toHaveLength(2);
      expect(pgRows.filter((row) => row.email_sha256 === SHA && row.consent_ad_storage !== null)).toHaveLength(2);
    } finally {
      await close();
    }
  });

  test('an empty store: the same zeros', async () => {
    const { duck, pg, close } = await bothStores([]);
    try {
      const { funnel } = await expectSameCounts(duck, pg, checkPlan(modelPlan(DEMO_MODEL)));
      expect(funnel.sessions).toBe(0);
    } finally {
      await close();
    }
  });
});

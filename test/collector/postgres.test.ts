// @vitest-environment node
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
import type { EventStore } from '../../collector/store';
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

  test('all or nothing: a call the database refuses stores none of its events, and does not take the calls grouped with it down', async () => {
    const store = await open();
    // Past validation nothing should fail; a broken id stands in for whatever might.
    const broken = [event(), { ...event(), event_id: 'broken' }];
    const results = await Promise.allSettled([store.insert([event()], 0), store.insert(broken, 0), store.insert([event(), event()], 0)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await count(store)).toBe(3);
    expect(await store.query('SELECT 1 FROM events WHERE event_id = $1', [broken[0]!.event_id])).toEqual([]);
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
    await expect(store.insert([event()], 0)).rejects.toThrow(/not currently accepting connections/);
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
    await second.query('ALTER TABLE events DROP COLUMN page_title');
    await expect(openPostgresStore(url)).rejects.toThrow('cannot open the PostgreSQL store: the events table has no column page_title (text NOT NULL)');
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
  });
});

describePostgres('PostgreSQL and DuckDB count alike', () => {
  const postgres = useThrowawayPostgres();

  const at = (session: string, name: string, ts: number) => event({ session_id: session, name, ts });
  // Edge cases the simulator does not make: a signal in the same millisecond as the conversion, a
  // second conversion, names whose order differs between byte order and a language's collation.
  const EDGES = [
    at('e1', 'form_begin', 5000),
    at('e1', 'generate_lead', 5000),
    at('e1', 'generate_lead', 9000),
    at('e1', 'cta2', 9500),
    at('e2', 'cta2', 1000),
    at('e2', 'Cta_upper', 1000),
    at('e3', 'form_abandon', 100),
  ];

  async function bothStores(events: readonly MicroconvEvent[]) {
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
      expect(funnel.sessions).toBe(sessions.filter((session) => session.events.length > 0).length + 3);
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

import { startCollector, type CollectorOptions, type RunningCollector } from '../../../collector/http';
import type { DuckDBStore } from '../../../collector/duckdb-store';
import type { PostgresStore } from '../../../collector/postgres-store';
import type { Forwarder } from '../../../collector/forward/forwarder';
import type { ForwardOutbox } from '../../../collector/forward/outbox';
import { startStandIns, type StandIns } from '../../../collector/forward/stand-ins';
import type { WireEvent, ForwardOptions } from '../../../collector/forward/types';
import { mulberry32 } from '../../../collector/prng';

/** The collector's and the stand-ins' clock in these tests: fixed, moved by hand. */
export const T0 = Date.UTC(2025, 5, 15, 12, 0, 0);
export const PLAN = { macro: ['generate_lead', 'purchase'], stages: { engagement: ['scroll_depth'], intent: ['cta_click'] } };
export const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) microconv-test';

const random = mulberry32(12);

/** A wire event with every contract 5 addition, consent all granted; override what a test needs. */
export function event(name: string, overrides: Partial<WireEvent> & { at?: number } = {}): WireEvent {
  const { at, ...rest } = overrides;
  return {
    event_id: random.uuid(),
    name,
    ts: at ?? T0 - 60_000,
    session_id: 's-1',
    anonymous_id: 'anon-1',
    page: { url: 'https://tally.example/pricing', path: '/pricing', title: 'Pricing', referrer: 'https://tally.example/' },
    params: name === 'purchase' ? { value: 49.5, currency: 'eur' } : { cta_name: 'start_trial' },
    attribution: {
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      utm_term: null,
      utm_content: null,
      gclid: 'Cj0KCQjw-gclid-1',
      fbclid: 'IwAR-fbclid-1',
      gbraid: null,
      wbraid: null,
      landing_page: 'https://tally.example/?utm_source=google',
      referrer: 'https://www.google.com/',
    },
    consent: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
    ids: { fbp: 'fb.1.1718452800000.1234567890', ga_client_id: '123456789.1718452800', user_id: 'user-42', email_sha256: null },
    ...rest,
  };
}

export interface Setup {
  clock: { now: number };
  standIns: StandIns;
  running: RunningCollector;
  forwarder: Forwarder;
  outbox: ForwardOutbox;
  /** The collector's store: DuckDB unless a PostgreSQL one was given. */
  store: DuckDBStore | PostgresStore;
  post(events: WireEvent[], headers?: Record<string, string>): Promise<Response>;
  rows(destination?: string): Promise<Array<Record<string, unknown>>>;
  errors: unknown[];
  close(): Promise<void>;
}

/** Forward options pointing every destination at the stand-ins, with fast, fixed retries. */
export function standInForward(standIns: StandIns, extra: Partial<ForwardOptions> = {}): ForwardOptions {
  const { meta, googleAds, ga4 } = standIns.credentials;
  return {
    meta: { pixelId: meta.pixelId, accessToken: meta.accessToken, baseUrl: standIns.url, send: 'all', events: 'standard' },
    googleAds: {
      customerId: googleAds.customerId,
      developerToken: googleAds.developerToken,
      loginCustomerId: googleAds.loginCustomerId,
      oauth: { clientId: googleAds.clientId, clientSecret: googleAds.clientSecret, refreshToken: googleAds.refreshToken, tokenUrl: `${standIns.url}/token` },
      conversions: { generate_lead: { action: '555', name: 'Demo request' }, purchase: { action: '556' }, cta_click: { action: '557' } },
      baseUrl: standIns.url,
      send: 'all',
    },
    ga4: { measurementId: ga4.measurementId, apiSecret: ga4.apiSecret, baseUrl: standIns.url, send: 'all' },
    autoSend: false,
    backoff: { baseMs: 1000, capMs: 60_000 },
    random: () => 0.5,
    gateRefreshMs: 0,
    ...extra,
  };
}

/** Stand-ins and a collector forwarding to them; `configure` edits the forward options. */
export async function setup(
  configure: (forward: ForwardOptions, standIns: StandIns) => ForwardOptions = (forward) => forward,
  options: Partial<CollectorOptions> & { standIns?: StandIns; clock?: { now: number } } = {},
): Promise<Setup> {
  const clock = options.clock ?? { now: T0 };
  const standIns = options.standIns ?? (await startStandIns({ now: () => clock.now }));
  const { standIns: _given, clock: _clock, ...collectorOptions } = options;
  const errors: unknown[] = [];
  const running = await startCollector({
    port: 0,
    database: ':memory:',
    onError: (error) => void errors.push(error),
    plan: PLAN,
    now: () => clock.now,
    forward: configure(standInForward(standIns), standIns),
    ...collectorOptions,
  });
  const forwarder = running.collector.forwarder!;
  await forwarder.ready;
  const outbox = await forwarder.outbox;
  const store = (await running.collector.store) as DuckDBStore | PostgresStore;
  const columns = 'destination, event_id, event_name, status, why, attempts, next_attempt_at, error, payload';
  const order = 'ORDER BY event_ts, destination, event_id';
  return {
    clock,
    standIns,
    running,
    forwarder,
    outbox,
    store,
    post: (events, headers = {}) =>
      fetch(`${running.url}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'User-Agent': USER_AGENT, ...headers },
        body: JSON.stringify({ v: 1, sent_at: new Date(clock.now).toISOString(), events }),
      }),
    async rows(destination) {
      const where = destination ? 'WHERE destination = $1' : '';
      const rows =
        store.kind === 'duckdb'
          ? await store.query(`SELECT ${columns.replace('payload', 'payload::VARCHAR AS payload')} FROM forward_outbox ${where} ${order}`, destination ? [destination] : undefined)
          : await store.query(`SELECT ${columns.replace('payload', 'payload::text AS payload')} FROM forward_outbox ${where} ${order}`, destination ? [destination] : undefined);
      // PostgreSQL gives bigints as text.
      return rows.map((row) => ({ ...row, next_attempt_at: row.next_attempt_at === null ? null : Number(row.next_attempt_at) }));
    },
    errors,
    async close() {
      await running.close();
      if (!options.standIns) await standIns.close();
      // Unexpected errors (a bug, storage down) would otherwise pass unseen.
      if (errors.length) throw errors[0];
    },
  };
}

/** The JSON bodies the stand-ins got for a destination. */
export const bodies = (standIns: StandIns, destination: 'meta' | 'google_ads' | 'ga4') =>
  standIns.requests.filter((request) => request.destination === destination).map((request) => request.body as any);

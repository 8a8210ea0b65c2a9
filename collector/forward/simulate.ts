import type { MicroconvEvent } from '../../src/types';
import { openDuckDBStore } from '../duckdb-store';
import { startCollector, type RunningCollector } from '../http';
import { checkPlan } from '../plan';
import { mulberry32 } from '../prng';
import { buildReport } from '../report';
import { sendTraffic } from '../send-traffic';
import { DEMO_MODEL, generateTraffic, modelPlan } from '../simulate';
import type { OutboxCounts } from './outbox';
import { startStandIns, type StandIns } from './stand-ins';
import type { DestinationName, WireEvent, ForwardOptions } from './types';

const DAY_MS = 86_400_000;
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
/** The conversion actions the simulation's Google Ads account has: the macro conversion and three intent signals. */
const GOOGLE_ADS_CONVERSIONS = { generate_lead: '1001', cta_click: '1002', form_begin: '1003', form_step: '1004' };

export interface ForwardSimulationOptions {
  /** A DuckDB file (the restart reopens it). */
  database: string;
  /** Sessions stored first, without forwarding: the history the verdicts come from. Default 3000. */
  historySessions?: number;
  /** Sessions then sent through the collector and forwarded. Default 1000. */
  sessions?: number;
  seed?: number;
  log?: (line: string) => void;
}

type Gates = Record<DestinationName, string[]>;

export interface DestinationFigures {
  destination: DestinationName;
  /** Events that should reach the destination, worked out from the traffic itself (names, consent, ids). */
  expected: number;
  /** Distinct events the stand-in accepted. */
  accepted: number;
  forwardedTwice: number;
  /** Expected, never accepted, and not failed for a reason the stand-in gave. */
  lost: number;
  /** Accepted but not expected. */
  unexpected: number;
  /** The outbox's own count, which must agree. */
  outbox: OutboxCounts;
}

export interface ForwardSimulationFigures {
  historyEvents: number;
  sessions: number;
  eventsSent: number;
  batchesReplayed: number;
  /** Rows waiting to be retried when the collector was stopped. */
  retryingAtRestart: number;
  destinations: DestinationFigures[];
  /** Departures from the platforms' documented shapes (none expected). */
  problems: string[];
}

/**
 * The simulator's traffic forwarded through the gate, with a restart in the middle (issue 12's
 * figures): a history of sessions makes the verdicts, then new sessions go through a collector that
 * forwards to the stand-ins, which fail for a while (a 429, a 503, a dropped connection, then an
 * outage during which the collector is stopped and started again). Every event carries consent and
 * ids drawn per session. The figures compare what each stand-in accepted with what should have
 * reached it, worked out from the traffic alone.
 */
export async function simulateForwarding(options: ForwardSimulationOptions): Promise<ForwardSimulationFigures> {
  const log = options.log ?? (() => {});
  const now = Date.now();
  const historyEvents = await storeHistory(options.database, options.seed ?? 1, options.historySessions ?? 3000, now);
  log(`history: ${historyEvents} events stored without forwarding (the verdicts come from them)`);
  const standIns = await startStandIns();
  const run = simulationRun(options, standIns, now, log);
  try {
    const retryingAtRestart = await beforeRestart(run, standIns, log);
    const counts = await afterRestart(run, standIns, log);
    return {
      historyEvents,
      sessions: run.sessions,
      eventsSent: run.totals.events,
      batchesReplayed: run.totals.replays,
      retryingAtRestart,
      destinations: (['meta', 'google_ads', 'ga4'] as const).map((name) => figures(name, run.sent, standIns, counts.find((c) => c.destination === name)!)),
      problems: [...standIns.problems],
    };
  } finally {
    await run.close();
    await standIns.close();
  }
}

/** What the phases share: the collectors, the traffic sent (each event with the gate it met) and its totals. */
interface Run {
  sessions: number;
  quarter: number;
  sent: Map<string, { event: WireEvent; gates: Gates }>;
  totals: { events: number; replays: number };
  /** Starts a collector on the simulation's database and reads its gate (fixed from then on). */
  start(label: string): Promise<RunningCollector>;
  /** Sends `count` new sessions (the `part`-th lot) to a collector, decorated. */
  send(collector: RunningCollector, part: number, count: number): Promise<void>;
  close(): Promise<void>;
}

function simulationRun(options: ForwardSimulationOptions, standIns: StandIns, now: number, log: (line: string) => void): Run {
  const plan = checkPlan(modelPlan(DEMO_MODEL));
  const seed = options.seed ?? 1;
  const sessions = options.sessions ?? 1000;
  const forward = simulationForward(standIns);
  const running = new Set<RunningCollector>();
  let gates: Gates = { meta: [], google_ads: [], ga4: [] };
  const run: Run = {
    sessions,
    quarter: Math.max(1, Math.floor(sessions / 4)),
    sent: new Map(),
    totals: { events: 0, replays: 0 },
    async start(label) {
      const collector = await startCollector({ port: 0, database: options.database, rateLimit: false, plan, forward, onError: (error) => log(`${label}: ${(error as Error).message}`) });
      running.add(collector);
      const forwarder = collector.collector.forwarder!;
      await forwarder.refreshGate();
      const section = await forwarder.section(await buildReport(await collector.collector.store, plan, Date.now()));
      const through = (name: DestinationName) => section.signals.filter((s) => s.forwarding.find((f) => f.destination === name)?.forwarded).map((s) => s.signal);
      gates = { meta: through('meta'), google_ads: through('google_ads'), ga4: through('ga4') };
      log(`${label}:`);
      for (const [name, names] of Object.entries(gates)) log(`  gate, ${name}: ${names.join(', ')}`);
      return collector;
    },
    async send(collector, part, count) {
      const decorate = (event: MicroconvEvent) => {
        const decorated = decorateEvent(event);
        run.sent.set(decorated.event_id, { event: decorated, gates });
        return decorated;
      };
      const result = await sendTraffic({ url: `${collector.url}/collect`, seed: seed + part, sessions: count, start: now - DAY_MS, days: 1, decorate, headers: { 'User-Agent': BROWSER } });
      run.totals.events += result.events;
      run.totals.replays += result.replays;
      if (result.failed) throw new Error(`traffic: ${result.failed} batches failed: ${result.problems.join('; ')}`);
    },
    async close() {
      for (const collector of running) await collector.close();
      running.clear();
    },
  };
  return run;
}

/** Half the sessions with hiccups, then an outage, a quarter more, and a stop with rows waiting: resolves to how many. */
async function beforeRestart(run: Run, standIns: StandIns, log: (line: string) => void): Promise<number> {
  const first = await run.start('first collector');
  // A few hiccups at first: each platform's first answer is a transient failure.
  standIns.script('meta', { status: 429, headers: { 'Retry-After': '1' }, body: { error: { message: 'Too many calls', code: 80004 } } });
  standIns.script('google_ads', { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } });
  standIns.script('ga4', { hangUp: true });
  await run.send(first, 1, run.quarter * 2);
  log(`sent ${run.quarter * 2} sessions; the platforms now go down`);
  standIns.outage({ status: 503, body: { error: { message: 'Service Unavailable' } } });
  await run.send(first, 2, run.quarter);
  const outbox = await first.collector.forwarder!.outbox;
  await until(async () => (await outbox.counts()).every((c) => c.queued === 0), 'the outage to reach every queued row');
  const retrying = (await outbox.counts()).reduce((sum, c) => sum + c.retrying, 0);
  log(`collector stopped with ${retrying} rows waiting to be retried`);
  await run.close();
  return retrying;
}

/** The platforms back, a new collector on the same file, the last sessions; resolves once every row is settled. */
async function afterRestart(run: Run, standIns: StandIns, log: (line: string) => void): Promise<OutboxCounts[]> {
  standIns.outage(null);
  const second = await run.start('second collector, on the same database, the platforms back');
  await run.send(second, 3, run.sessions - run.quarter * 3);
  const outbox = await second.collector.forwarder!.outbox;
  await until(async () => (await outbox.counts()).every((c) => c.queued === 0 && c.retrying === 0), 'every row to be settled');
  log(`sent ${run.sessions} sessions in all (${run.totals.events} events, ${run.totals.replays} batches replayed)`);
  return outbox.counts();
}

/** Forward options for the stand-ins, each destination on its default gate, retrying fast. */
function simulationForward(standIns: StandIns): ForwardOptions {
  const { meta, googleAds, ga4 } = standIns.credentials;
  return {
    meta: { pixelId: meta.pixelId, accessToken: meta.accessToken, baseUrl: standIns.url, events: 'standard' },
    googleAds: {
      customerId: googleAds.customerId,
      developerToken: googleAds.developerToken,
      loginCustomerId: googleAds.loginCustomerId,
      oauth: { clientId: googleAds.clientId, clientSecret: googleAds.clientSecret, refreshToken: googleAds.refreshToken, tokenUrl: `${standIns.url}/token` },
      conversions: Object.fromEntries(Object.entries(GOOGLE_ADS_CONVERSIONS).map(([name, action]) => [name, { action }])),
      baseUrl: standIns.url,
    },
    ga4: { measurementId: ga4.measurementId, apiSecret: ga4.apiSecret, baseUrl: standIns.url },
    // Verdicts read once, at start: the run's expected set can then be worked out on its own.
    gateRefreshMs: 86_400_000,
    backoff: { baseMs: 200, capMs: 5000 },
  };
}

async function storeHistory(database: string, seed: number, sessions: number, now: number): Promise<number> {
  const store = await openDuckDBStore(database);
  let events = 0;
  try {
    let chunk: MicroconvEvent[] = [];
    for (const session of generateTraffic(DEMO_MODEL, { seed, sessions, start: now - 2 * DAY_MS, days: 1 })) {
      chunk.push(...session.events);
      if (chunk.length >= 2000) {
        events += await store.insert(chunk, now);
        chunk = [];
      }
    }
    events += await store.insert(chunk, now);
  } finally {
    await store.close();
  }
  return events;
}

/** What a browser with microconv's capture would add, drawn per session (so a session is consistent). */
interface SessionTraits {
  consent: 'all' | 'analytics_only' | 'no_ad_user_data' | 'none';
  fbp: string | null;
  gaClientId: string | null;
  userId: string | null;
  identity: 'raw_email' | 'hashed_email' | 'raw_phone' | 'none';
  wbraidInsteadOfGclid: boolean;
  unparseableGclid: boolean;
}

function traits(sessionId: string): SessionTraits {
  const random = mulberry32(parseInt(sessionId.replace(/-/g, '').slice(0, 8), 16));
  return {
    consent: random.weighted([
      ['all', 70],
      ['analytics_only', 15],
      ['no_ad_user_data', 10],
      ['none', 5],
    ] as const),
    fbp: random.chance(0.6) ? `fb.1.${1_700_000_000_000 + random.int(0, 99_999_999)}.${random.int(1_000_000_000, 1_999_999_999)}` : null,
    gaClientId: random.chance(0.8) ? `${random.int(100_000_000, 999_999_999)}.${random.int(1_700_000_000, 1_799_999_999)}` : null,
    userId: random.chance(0.3) ? `user-${random.int(1, 1_000_000)}` : null,
    identity: random.weighted([
      ['raw_email', 30],
      ['hashed_email', 30],
      ['raw_phone', 20],
      ['none', 20],
    ] as const),
    wbraidInsteadOfGclid: random.chance(0.1),
    unparseableGclid: random.chance(0.02),
  };
}

const CONSENT = {
  all: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
  analytics_only: { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' },
  no_ad_user_data: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'denied', ad_personalization: 'denied' },
} as const;

function decorateEvent(event: MicroconvEvent): WireEvent {
  const t = traits(event.session_id);
  const macro = event.name === 'generate_lead';
  const gclid = event.attribution.gclid;
  const identity = !macro
    ? {}
    : t.identity === 'raw_email'
      ? { email: `Lead.${event.session_id.slice(0, 6)}@Example.com` }
      : t.identity === 'hashed_email'
        ? { email_sha256: event.session_id.replace(/-/g, '').padEnd(64, '0').slice(0, 64) }
        : t.identity === 'raw_phone'
          ? { phone: `+33 6 ${String(parseInt(event.session_id.slice(0, 6), 16) % 100_000_000).padStart(8, '0')}` }
          : {};
  return {
    ...event,
    attribution: {
      ...event.attribution,
      gclid: gclid && !t.wbraidInsteadOfGclid ? (t.unparseableGclid ? `invalid-${gclid}` : gclid) : null,
      wbraid: gclid && t.wbraidInsteadOfGclid ? `wb-${gclid}` : null,
      gbraid: null,
    },
    ...(t.consent === 'none' ? {} : { consent: { ...CONSENT[t.consent] } }),
    ids: { fbp: t.fbp, ga_client_id: t.gaClientId, user_id: t.userId, ...identity },
  };
}

/** Whether an event should reach a destination, from the traffic's own truth (the rules of README, "Server-side forwarding"). */
function shouldReach(destination: DestinationName, event: WireEvent, gate: readonly string[]): boolean {
  if (!gate.includes(event.name)) return false;
  const t = traits(event.session_id);
  if (destination === 'ga4') return Boolean(t.gaClientId || event.anonymous_id);
  if (destination === 'meta') return t.consent === 'all';
  const identified = event.name === 'generate_lead' && t.identity !== 'none';
  return (t.consent === 'all') && Boolean(event.attribution.gclid || event.attribution.wbraid || identified);
}

function figures(destination: DestinationName, sent: Map<string, { event: WireEvent; gates: Gates }>, standIns: StandIns, outbox: OutboxCounts): DestinationFigures {
  const expected = new Set([...sent.values()].filter(({ event, gates }) => shouldReach(destination, event, gates[destination])).map(({ event }) => event.event_id));
  // The Google Ads stand-in refuses unparseable gclids for good: those are failures with a reason, not losses.
  const refused = new Set([...expected].filter((id) => destination === 'google_ads' && String(sent.get(id)!.event.attribution.gclid ?? '').startsWith('invalid-')));
  const accepted = standIns.accepted[destination];
  return {
    destination,
    expected: expected.size,
    accepted: accepted.size,
    forwardedTwice: [...accepted.values()].filter((count) => count > 1).length,
    lost: [...expected].filter((id) => !accepted.has(id) && !refused.has(id)).length,
    unexpected: [...accepted.keys()].filter((id) => !expected.has(id)).length,
    outbox,
  };
}

/** Waits for a condition, looking every 50 ms, for at most two minutes. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

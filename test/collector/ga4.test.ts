// @vitest-environment node
/**
 * `collector/ga4-report.sql` (BigQuery, for a GA4 export) gives the same numbers as the collector's
 * own report on the same sessions. The file itself is run, on DuckDB, against a table shaped like
 * the export (`event_params` a list of key/value structs, `ga_session_id` among them, timestamps in
 * microseconds, one `_TABLE_SUFFIX` per day), built from simulated traffic that also goes through the
 * native path.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MicroconvEvent, ParamValue } from '../../src/types';
import { openDuckDBStore, type DuckDBStore } from '../../collector/duckdb-store';
import { bigQueryToDuckDB, ga4ReportForDuckDB, runGa4ReportOnDuckDB, type Ga4Report } from '../../collector/ga4';
import { checkPlan, type ReportPlan } from '../../collector/plan';
import { buildReport, type Report } from '../../collector/report';
import { DEMO_MODEL, generateTraffic, modelPlan } from '../../collector/simulate';

const GA4_TABLE = `
CREATE TABLE ga4_events (
  event_date VARCHAR,
  event_timestamp BIGINT,
  event_name VARCHAR,
  event_params STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, double_value DOUBLE))[],
  user_pseudo_id VARCHAR,
  traffic_source STRUCT(name VARCHAR, medium VARCHAR, source VARCHAR),
  _TABLE_SUFFIX VARCHAR
)`;

interface Ga4Row {
  event_date: string;
  event_timestamp: number;
  event_name: string;
  event_params: Array<{ key: string; value: { string_value: string | null; int_value: number | null; float_value: number | null; double_value: number | null } }>;
  user_pseudo_id: string | null;
  traffic_source: { name: string | null; medium: string | null; source: string | null };
  _TABLE_SUFFIX: string;
}

const value = (v: ParamValue | undefined) => ({
  string_value: typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : typeof v === 'boolean' ? String(v) : null,
  int_value: typeof v === 'number' && Number.isInteger(v) ? v : null,
  float_value: null,
  double_value: typeof v === 'number' && !Number.isInteger(v) ? v : null,
});

/** What GA4 would have exported for the same sessions, plus what GA4 adds and what the report must skip. */
function toGa4(events: MicroconvEvent[]): Ga4Row[] {
  const rows: Ga4Row[] = [];
  const sessionNumber = new Map<string, number>();
  const row = (event: MicroconvEvent, name: string, timestampMicros: number, gaSessionId: number | null, suffix?: string): Ga4Row => {
    const day = new Date(timestampMicros / 1000).toISOString().slice(0, 10).replaceAll('-', '');
    const params = [
      ...(gaSessionId === null ? [] : [{ key: 'ga_session_id', value: value(gaSessionId) }]),
      { key: 'page_location', value: value(event.page.url) },
      { key: 'page_title', value: value(event.page.title) },
      ...Object.entries(event.params).map(([key, v]) => ({ key, value: value(v) })),
    ];
    return {
      event_date: day,
      event_timestamp: timestampMicros,
      event_name: name,
      event_params: params,
      // GA4 has no id without consent; the sample gives those sessions one so both paths see the same sessions.
      user_pseudo_id: event.anonymous_id ?? `nc.${event.session_id}`,
      traffic_source: { name: event.attribution.utm_campaign, medium: event.attribution.utm_medium, source: event.attribution.utm_source },
      _TABLE_SUFFIX: suffix ?? day,
    };
  };
  for (const event of events) {
    // ga_session_id is the session's start in seconds in GA4; here a number unique to the session.
    let id = sessionNumber.get(event.session_id);
    if (id === undefined) {
      id = 1_700_000_000 + sessionNumber.size;
      sessionNumber.set(event.session_id, id);
      // GA4's own session events: in every session, so the report must leave them out.
      rows.push(row(event, 'session_start', event.ts * 1000 - 1, id), row(event, 'page_view', event.ts * 1000 - 1, id));
    }
    rows.push(row(event, event.name, event.ts * 1000, id));
  }
  const sample = events.slice(0, 30);
  for (const event of sample) {
    // Measurement Protocol hits without ga_session_id: not in any session.
    rows.push(row(event, 'generate_lead', event.ts * 1000 + 5, null));
    // The intraday table's copy and a day outside the range: the date filter leaves both out.
    rows.push(row(event, 'cta_click', event.ts * 1000, sessionNumber.get(event.session_id)!, `intraday_${rows[0]!.event_date}`));
    rows.push(row({ ...event, session_id: `old.${event.session_id}` }, 'generate_lead', 1_600_000_000_000_000, 42, '20201231'));
  }
  return rows;
}

async function loadGa4(connection: DuckDBConnection, rows: Ga4Row[]) {
  await connection.run('DROP TABLE IF EXISTS ga4_events');
  await connection.run(GA4_TABLE);
  const shape = JSON.stringify({
    event_date: 'VARCHAR',
    event_timestamp: 'BIGINT',
    event_name: 'VARCHAR',
    event_params: [{ key: 'VARCHAR', value: { string_value: 'VARCHAR', int_value: 'BIGINT', float_value: 'DOUBLE', double_value: 'DOUBLE' } }],
    user_pseudo_id: 'VARCHAR',
    traffic_source: { name: 'VARCHAR', medium: 'VARCHAR', source: 'VARCHAR' },
    _TABLE_SUFFIX: 'VARCHAR',
  });
  await connection.run(
    `INSERT INTO ga4_events SELECT r.event_date, r.event_timestamp, r.event_name, r.event_params, r.user_pseudo_id, r.traffic_source, r._TABLE_SUFFIX
     FROM (SELECT from_json(item, '${shape}') AS r FROM (SELECT unnest(CAST($1 AS JSON[])) AS item))`,
    [JSON.stringify(rows)],
  );
}

describe('ga4-report.sql on a GA4-shaped export, against the native report on the same sessions', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  const cases: Array<{ label: string; plan: ReportPlan; native: Report; ga4: Ga4Report }> = [];

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    const plans: Array<[string, ReportPlan]> = [
      ['the demo plan', checkPlan(modelPlan(DEMO_MODEL))],
      // A plan that names a signal nobody sent, splits the stages differently, and has no conversion stage.
      ['another plan', checkPlan({ macro: ['generate_lead'], stages: { engagement: ['scroll_depth'], intent: ['form_begin', 'never_sent'] } })],
      // Each signal at 5 %, where the other two plans share 5 % across their signals.
      ['a per-signal plan', checkPlan({ ...modelPlan(DEMO_MODEL), errorControl: 'per-signal' })],
    ];
    for (const [seed, [label, plan]] of plans.entries()) {
      const events = [...generateTraffic(DEMO_MODEL, { seed: 300 + seed, sessions: 800 })].flatMap((session) => session.events);
      const store: DuckDBStore = await openDuckDBStore(':memory:');
      await store.insert(events, 0);
      const native = await buildReport(store, plan);
      await store.close();
      await loadGa4(connection, toGa4(events));
      cases.push({ label, plan, native, ga4: await runGa4ReportOnDuckDB(connection, plan) });
    }
  }, 60_000);

  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });

  test('the same signals, with exactly the same 2×2 tables', () => {
    for (const { native, ga4 } of cases) {
      const fromGa4 = ga4.signals.map((row) => [row.signal, row.sessions_with, row.converted_with, row.sessions_without, row.converted_without]);
      const fromNative = native.signals
        .map((s) => [s.signal, s.sessions_with, s.converted_with, s.sessions_without, s.converted_without])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(fromGa4).toEqual(fromNative);
      expect(fromGa4.length).toBeGreaterThan(5);
    }
  });

  test('the statistics computed in SQL equal those of stats.ts (and so the hand-worked values)', () => {
    let compared = 0;
    for (const { native, ga4 } of cases) {
      for (const row of ga4.signals) {
        const s = native.signals.find((entry) => entry.signal === row.signal)!;
        const near = (actual: unknown, expected: number | null | undefined) => {
          if (expected === null || expected === undefined) expect(actual).toBeNull();
          else expect(actual as number).toBeCloseTo(expected, 10);
        };
        near(row.rate_with, s.rate_with?.estimate);
        near(row.rate_with_low, s.rate_with?.low);
        near(row.rate_with_high, s.rate_with?.high);
        near(row.rate_without, s.rate_without?.estimate);
        near(row.rate_without_low, s.rate_without?.low);
        near(row.rate_without_high, s.rate_without?.high);
        near(row.difference, s.difference?.estimate);
        near(row.difference_low, s.difference?.low);
        near(row.difference_high, s.difference?.high);
        near(row.difference_fixed_horizon_low, s.difference_fixed_horizon?.low);
        near(row.difference_fixed_horizon_high, s.difference_fixed_horizon?.high);
        near(row.alpha, s.alpha);
        near(row.ratio, s.ratio?.estimate);
        near(row.ratio_low, s.ratio?.low);
        near(row.ratio_high, s.ratio?.high);
        expect(row.ratio_corrected ?? false).toBe(s.ratio?.corrected ?? false);
        expect(row.verdict).toBe(s.verdict);
        // Rounded up from the same double: equal, or one apart when the value sits on a whole number.
        if (s.sessions_for_80pct_power === null) expect(row.sessions_for_80pct_power).toBeNull();
        else expect(Math.abs((row.sessions_for_80pct_power as number) - s.sessions_for_80pct_power)).toBeLessThanOrEqual(1);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(15);
  });

  test('the same funnel, drop-off and weakest step', () => {
    for (const { native, ga4 } of cases) {
      expect(ga4.funnel.map((row) => [row.step, row.sessions])).toEqual(native.funnel.steps.map((step) => [step.step, step.sessions]));
      ga4.funnel.forEach((row, index) => {
        const step = native.funnel.steps[index]!;
        if (step.share === null) expect(row.share).toBeNull();
        else expect(row.share as number).toBeCloseTo(step.share, 12);
        if (step.drop_off === null) expect(row.drop_off).toBeNull();
        else expect(row.drop_off as number).toBeCloseTo(step.drop_off, 12);
      });
      expect(ga4.funnel.filter((row) => row.is_weakest).map((row) => row.step)).toEqual(native.funnel.weakest ? [native.funnel.weakest.to] : []);
    }
  });

  test('the cases exercise what they should: a plan signal nobody sent, events left out by the date and session rules', () => {
    const other = cases.find((entry) => entry.label === 'another plan')!;
    expect(other.ga4.signals.find((row) => row.signal === 'never_sent')).toMatchObject({ sessions_with: 0, verdict: 'unclear' });
    expect(other.ga4.signals.some((row) => row.signal === 'session_start' || row.signal === 'page_view')).toBe(false);
    // Settled and open verdicts, at both error controls: the demo plan's 7 signals share 5 %.
    const verdicts = new Set(cases.flatMap((entry) => entry.ga4.signals.map((row) => row.verdict)));
    expect(verdicts).toContain('more');
    expect(verdicts).toContain('unclear');
    expect(cases.find((entry) => entry.label === 'the demo plan')!.ga4.signals[0]!.alpha).toBeCloseTo(0.05 / 7, 15);
    expect(cases.find((entry) => entry.label === 'a per-signal plan')!.ga4.signals[0]!.alpha).toBe(0.05);
  });
});

describe('the BigQuery text', () => {
  test('the rewrites for DuckDB touch only the table name, UNNEST aliases and temporary tables', () => {
    const plan = checkPlan(modelPlan(DEMO_MODEL));
    const duck = ga4ReportForDuckDB(plan);
    const code = duck.replace(/--.*$/gm, '');
    expect(code).not.toContain('`');
    expect(duck).toContain('FROM ga4_events');
    expect(duck).toContain('UNNEST(event_params) AS _unnested(p)');
    expect(bigQueryToDuckDB('SELECT 1 FROM `p.d.events_*` WHERE x', 't')).toBe('SELECT 1 FROM t WHERE x');
  });
});

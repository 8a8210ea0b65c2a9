// @vitest-environment node
/**
 * The GA4 BigQuery statements (`collector/ga4/*.sql`) give the same report as the collector's own on
 * the same sessions. The files themselves are run, on DuckDB, against a table shaped like the export
 * (`event_params` a list of key/value structs, `ga_session_id` among them, timestamps in microseconds,
 * one `_TABLE_SUFFIX` per day), built from simulated traffic that also goes through the native path;
 * `report.ts` turns both sets of counts into reports, which must be equal.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MicroconvEvent, ParamValue } from '../../src/types';
import { openDuckDBStore, type DuckDBStore } from '../../collector/duckdb-store';
import { readFileSync } from 'node:fs';
import {
  bigQueryToDuckDB,
  funnelParameters,
  ga4Statement,
  ga4StoreFromResults,
  ga4StoreOnDuckDB,
  GA4_PARAMETER_TYPES,
  GA4_STATEMENTS,
  inlineParameters,
  runGa4StatementOnDuckDB,
  signalParameters,
  statementParameters,
  type Ga4StatementName,
} from '../../collector/ga4';
import { checkPlan, planSignals, type ReportPlan } from '../../collector/plan';
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

/** GA4's own automatic and enhanced-measurement events (web), which the sample adds to every session. */
const GA4_AUTOMATIC = [
  'first_visit', 'session_start', 'user_engagement', 'page_view', 'scroll', 'click', 'view_search_results',
  'video_start', 'video_progress', 'video_complete', 'file_download', 'form_start', 'form_submit',
];

/**
 * What GA4 would have exported for the same sessions, plus what GA4 adds and what the report must skip:
 * GA4's automatic events in every session (but not a name microconv itself sent, which GA4 would not
 * tell apart), Measurement Protocol hits without a session, the intraday copy and an old day.
 */
function toGa4(events: MicroconvEvent[]): Ga4Row[] {
  const rows: Ga4Row[] = [];
  const sessionNumber = new Map<string, number>();
  const sent = new Set(events.map((event) => event.name));
  const automatic = GA4_AUTOMATIC.filter((name) => !sent.has(name));
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
      for (const name of automatic) rows.push(row(event, name, event.ts * 1000 - 1, id));
    }
    rows.push(row(event, event.name, event.ts * 1000, id));
    // GA4's own events also come after a conversion, where they could not be left out by time.
    if (event.name === 'generate_lead') rows.push(row(event, 'scroll', event.ts * 1000 + 1, id), row(event, 'user_engagement', event.ts * 1000 + 2, id));
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

const DAYS = { firstDay: '20240101', lastDay: '20991231' };
const NOW = Date.UTC(2025, 0, 1);
const statementNames = Object.keys(GA4_STATEMENTS) as Ga4StatementName[];

describe('the GA4 statements on a GA4-shaped export, against the native report on the same sessions', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  const cases: Array<{ label: string; plan: ReportPlan; native: Report; ga4: Report; automaticRows: number }> = [];

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    const plans: Array<[string, ReportPlan, (name: string) => string]> = [
      ['the demo plan', checkPlan(modelPlan(DEMO_MODEL)), (name) => name],
      // A plan that names a signal nobody sent, splits the stages differently, and has no conversion stage.
      ['another plan', checkPlan({ macro: ['generate_lead'], stages: { engagement: ['scroll_depth'], intent: ['form_begin', 'never_sent'] } }), (name) => name],
      // A site whose downloads are sent under GA4's own name, which its plan names.
      [
        'a plan naming a GA4 event',
        checkPlan({ macro: ['generate_lead'], stages: { engagement: ['section_view'], consideration: ['file_download'], intent: ['cta_click'] } }),
        (name) => (name === 'download_click' ? 'file_download' : name),
      ],
    ];
    for (const [seed, [label, plan, rename]] of plans.entries()) {
      const events = [...generateTraffic(DEMO_MODEL, { seed: 300 + seed, sessions: 800 })].flatMap((session) => session.events).map((event) => ({ ...event, name: rename(event.name) }));
      const store: DuckDBStore = await openDuckDBStore(':memory:');
      await store.insert(events, 0);
      const native = await buildReport(store, plan, NOW);
      await store.close();
      await loadGa4(connection, toGa4(events));
      const automaticRows = Number((await connection.runAndReadAll(`SELECT count(*) FROM ga4_events WHERE event_name IN ('scroll', 'video_progress', 'form_start', 'user_engagement')`)).getRows()[0]![0]);
      cases.push({ label, plan, native, ga4: await buildReport(ga4StoreOnDuckDB(connection, DAYS), plan, NOW), automaticRows });
    }
  }, 90_000);

  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });

  test('the same signals, with exactly the same 2×2 tables', () => {
    for (const { native, ga4 } of cases) {
      const table = (report: Report) => report.signals.map((s) => [s.signal, s.sessions_with, s.converted_with, s.sessions_without, s.converted_without]);
      expect(table(ga4)).toEqual(table(native));
      expect(ga4.signals.length).toBeGreaterThan(5);
    }
  });

  test('the same funnel, drop-offs and weakest step', () => {
    for (const { native, ga4 } of cases) {
      expect(ga4.funnel).toEqual(native.funnel);
      expect(ga4.funnel.steps.length).toBeGreaterThan(3);
    }
  });

  test('the whole report is the same, statistics and verdicts included (report.ts computes them from either)', () => {
    for (const { native, ga4 } of cases) expect(ga4).toEqual(native);
  });

  test("GA4's automatic and enhanced-measurement events are not signals, though every session has them", () => {
    for (const { plan, ga4, automaticRows } of cases) {
      expect(automaticRows).toBeGreaterThan(800);
      const named = planSignals(plan);
      expect(ga4.signals.map((s) => s.signal).filter((name) => GA4_AUTOMATIC.includes(name) && !named.includes(name))).toEqual([]);
    }
  });

  test('a GA4 event the plan names is a signal, counted like any other', () => {
    const { ga4, native } = cases.find((entry) => entry.label === 'a plan naming a GA4 event')!;
    const download = ga4.signals.find((s) => s.signal === 'file_download');
    expect(download).toMatchObject({ in_plan: true, stage: 'consideration' });
    expect(download!.sessions_with).toBeGreaterThan(20);
    expect(download).toEqual(native.signals.find((s) => s.signal === 'file_download'));
    expect(ga4.funnel.steps.map((step) => step.step)).toEqual(['all sessions', 'engagement', 'consideration', 'intent', 'macro conversion']);
  });

  test('a plan signal nobody sent is reported with no sessions; a stage with no events is no step', () => {
    const { ga4 } = cases.find((entry) => entry.label === 'another plan')!;
    expect(ga4.signals.find((s) => s.signal === 'never_sent')).toMatchObject({ sessions_with: 0, verdict: 'unclear' });
    expect(ga4.funnel.steps.map((step) => step.step)).toEqual(['all sessions', 'engagement', 'intent', 'macro conversion']);
  });

  test('results fetched from BigQuery (bq --format=json gives INT64 as strings) make the same report', async () => {
    const { plan, native } = cases.at(-1)!;
    const asBq = (rows: Array<Record<string, unknown>>) => rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, v]) => [key, String(v)])));
    const signalQuery = { macro: plan.macro, signals: planSignals(plan) };
    const signals = asBq(await runGa4StatementOnDuckDB(connection, 'signal-counts', signalParameters(signalQuery, DAYS)));
    const funnel = asBq(await runGa4StatementOnDuckDB(connection, 'funnel-counts', funnelParameters({ macro: plan.macro, stages: plan.stages }, DAYS)));
    expect(await buildReport(ga4StoreFromResults({ signals, funnel }), plan, NOW)).toEqual(native);
    // Rows counted for another plan are refused, not read as zeros.
    const otherPlan = checkPlan({ macro: ['generate_lead'], stages: { engagement: ['not_counted'], conversion: ['form_step'] } });
    await expect(buildReport(ga4StoreFromResults({ signals, funnel }), otherPlan, NOW)).rejects.toThrow(/another plan/);
  });
});

describe('the BigQuery text', () => {
  const code = (sql: string) => sql.replace(/--.*$/gm, '');

  test('each file is one statement, a query: no script, no temporary table, no variable', () => {
    for (const name of statementNames) {
      const body = code(ga4Statement(name)).trim();
      expect(body).toMatch(/^WITH\b/);
      expect(body).not.toContain(';');
      expect(body).not.toMatch(/\b(CREATE|DECLARE|SET|BEGIN|INSERT|EXECUTE)\b/i);
    }
  });

  test('every join has an equality condition (BigQuery refuses an outer join without one)', () => {
    for (const name of statementNames) {
      const conditions = [...code(ga4Statement(name)).matchAll(/\bJOIN\b[^\n]*?\bON\b([^\n]*)/g)].map((match) => match[1]!.trim());
      expect(conditions.length).toBeGreaterThan(0);
      for (const condition of conditions) expect(condition).toMatch(/^\w+\.\w+ = \w+\.\w+$/);
    }
  });

  test('the parameters each file uses are the declared ones, listed in its header with their types', () => {
    for (const name of statementNames) {
      const sql = ga4Statement(name);
      const used = statementParameters(sql);
      expect(used.length).toBeGreaterThan(3);
      for (const parameter of used) {
        const type = GA4_PARAMETER_TYPES[parameter as keyof typeof GA4_PARAMETER_TYPES];
        expect(type, `@${parameter} in ${name}.sql`).toBeDefined();
        expect(sql).toMatch(new RegExp(`^--\\s+@${parameter}\\s+${type.replace(/[<>]/g, '\\$&')}`, 'm'));
      }
    }
  });

  test('the dataset is replaced in the text, and refused when it is not a dataset name', () => {
    const sql = ga4Statement('signal-counts', 'acme-web.analytics_987654321');
    expect(sql).toContain('FROM `acme-web.analytics_987654321.events_*`');
    expect(sql).not.toContain('your-project');
    expect(() => ga4Statement('signal-counts', 'x`; DROP TABLE y')).toThrow(/dataset/);
  });

  test('parameters written in as typed literals, for the console and scheduled queries', () => {
    const plan = checkPlan({ macro: ['generate_lead'], stages: { engagement: ['scroll_depth'], intent: ['cta_click'] } });
    const inlined = inlineParameters(ga4Statement('funnel-counts'), funnelParameters({ macro: plan.macro, stages: plan.stages }, DAYS));
    expect(statementParameters(inlined)).toEqual([]);
    expect(code(inlined)).toContain("UNNEST(ARRAY<STRING>['scroll_depth']) AS event_name");
    expect(code(inlined)).toContain('UNNEST(ARRAY<STRING>[]) AS event_name');
    expect(code(inlined)).toContain("BETWEEN '20240101' AND '20991231'");
    // The header still documents the parameters by name.
    expect(inlined).toContain('--   @macro');
    expect(() => inlineParameters(ga4Statement('signal-counts'), { macro: ['generate_lead'], first_day: '20240101', last_day: '20240131' })).toThrow(/no value for @signals/);
    expect(() => inlineParameters('SELECT @macro', { macro: ["x' OR 1=1"] })).toThrow(/neither an event name/);
  });

  test('the rewrites for DuckDB touch only the table name, UNNEST aliases and parameter marks', () => {
    const sql = ga4Statement('signal-counts');
    const duck = bigQueryToDuckDB(sql, 'ga4_events');
    expect(code(duck)).not.toContain('`');
    expect(code(duck)).not.toContain('@');
    expect(duck).toContain('FROM ga4_events');
    expect(duck).toContain('UNNEST(event_params) AS _unnested(p)');
    expect(duck).toContain('UNNEST($signals) AS _unnested(signal_name)');
    expect(bigQueryToDuckDB('SELECT 1 FROM `p.d.events_*` WHERE x = @first_day -- @kept', 't')).toBe('SELECT 1 FROM t WHERE x = $first_day -- @kept');
    // Nothing else: undo the three rewrites and the text is the BigQuery one again.
    const undone = duck
      .replace('FROM ga4_events', 'FROM `your-project.analytics_123456789.events_*`')
      .replace(/AS _unnested\((\w+)\)/g, 'AS $1')
      .replace(/(--.*$)|\$(\w+)/gm, (match, comment: string | undefined, name: string) => (comment !== undefined ? match : `@${name}`));
    expect(undone).toBe(sql);
    expect(readFileSync(GA4_STATEMENTS['signal-counts'], 'utf8')).toBe(sql);
  });
});

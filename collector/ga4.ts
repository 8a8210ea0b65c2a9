import { LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import type { EventStore, FunnelCounts, FunnelQuery, SignalCounts, SignalQuery } from './store';
import { STAGES } from './plan';

/**
 * The report over a Google Analytics 4 BigQuery export: two GoogleSQL statements in `ga4/`, one per
 * result, each runnable on its own by the bq CLI, the API or a scheduled query. They return counts, the
 * same counts an `EventStore` gives, so `report.ts` turns them into the report (statistics included) as
 * it does the collector's. This module runs them on DuckDB for the tests (one text, two engines) and
 * turns their BigQuery results back into an `EventStore` for `buildReport`.
 */
export const GA4_STATEMENTS = {
  'signal-counts': new URL('./ga4/signal-counts.sql', import.meta.url),
  'funnel-counts': new URL('./ga4/funnel-counts.sql', import.meta.url),
} as const;
export type Ga4StatementName = keyof typeof GA4_STATEMENTS;

/** The dataset the statements name; BigQuery takes no parameter for a table, so it is replaced in the text. */
export const GA4_DATASET_PLACEHOLDER = 'your-project.analytics_123456789';

/** Every query parameter the statements use, with its BigQuery type (as the files' headers say). */
export const GA4_PARAMETER_TYPES = {
  macro: 'ARRAY<STRING>',
  signals: 'ARRAY<STRING>',
  engagement: 'ARRAY<STRING>',
  consideration: 'ARRAY<STRING>',
  intent: 'ARRAY<STRING>',
  conversion: 'ARRAY<STRING>',
  first_day: 'STRING',
  last_day: 'STRING',
} as const;
export type Ga4ParameterName = keyof typeof GA4_PARAMETER_TYPES;
export type Ga4Parameters = Partial<Record<Ga4ParameterName, string | string[]>>;

/** The daily tables to read, `YYYYMMDD` to `YYYYMMDD` (both included). */
export interface Ga4Days {
  firstDay: string;
  lastDay: string;
}

const DAY = /^\d{8}$/;
/** A project id (letters, digits, dashes, maybe a domain) and a dataset id, dot-separated. */
const DATASET = /^[A-Za-z0-9_:.-]+\.[A-Za-z0-9_]+$/;
/** What may stand in a quoted literal: event names and days, nothing that needs escaping. */
const LITERAL = /^[A-Za-z0-9_]*$/;

function checkDays({ firstDay, lastDay }: Ga4Days): void {
  if (!DAY.test(firstDay) || !DAY.test(lastDay)) throw new Error(`GA4 days must be YYYYMMDD, got "${firstDay}" and "${lastDay}"`);
}

/** The parameters of `signal-counts.sql` for a signal query (the one `buildReport` asks an `EventStore`). */
export function signalParameters({ macro, signals }: SignalQuery, days: Ga4Days): Ga4Parameters {
  checkDays(days);
  return { macro: [...macro], signals: [...signals], first_day: days.firstDay, last_day: days.lastDay };
}

/** The parameters of `funnel-counts.sql` for a funnel query: one list of event names per stage. */
export function funnelParameters({ macro, stages }: FunnelQuery, days: Ga4Days): Ga4Parameters {
  checkDays(days);
  const unknown = stages.filter(({ stage }) => !(STAGES as readonly string[]).includes(stage));
  if (unknown.length) throw new Error(`funnel-counts.sql knows the stages ${STAGES.join(', ')}, not ${unknown.map(({ stage }) => stage).join(', ')}`);
  const eventsOf = (stage: string) => [...(stages.find((entry) => entry.stage === stage)?.events ?? [])];
  return {
    macro: [...macro],
    ...(Object.fromEntries(STAGES.map((stage) => [stage, eventsOf(stage)])) as Record<(typeof STAGES)[number], string[]>),
    first_day: days.firstDay,
    last_day: days.lastDay,
  };
}

/** A statement's text, reading `dataset` (`project.analytics_<property id>`) instead of the placeholder. */
export function ga4Statement(name: Ga4StatementName, dataset: string = GA4_DATASET_PLACEHOLDER): string {
  if (!DATASET.test(dataset)) throw new Error(`not a BigQuery dataset (project.dataset): "${dataset}"`);
  return readFileSync(GA4_STATEMENTS[name], 'utf8').replaceAll(GA4_DATASET_PLACEHOLDER, dataset);
}

/** The `@name` parameters a statement uses, each once, in order of first use (comments left out). */
export function statementParameters(sql: string): string[] {
  const code = sql.replace(/--.*$/gm, '');
  return [...new Set([...code.matchAll(/@(\w+)/g)].map((match) => match[1]!))];
}

/**
 * The statement with each parameter written in as a typed literal (`ARRAY<STRING>['a', 'b']`,
 * `'20240101'`): for the BigQuery console, which takes no array parameters, and for scheduled
 * queries, which take none but `@run_time` and `@run_date`. Every parameter the text uses must be given.
 */
export function inlineParameters(sql: string, values: Ga4Parameters): string {
  for (const name of statementParameters(sql)) {
    if (!(name in GA4_PARAMETER_TYPES)) throw new Error(`unknown parameter @${name}`);
    if (values[name as Ga4ParameterName] === undefined) throw new Error(`no value for @${name}`);
  }
  const quote = (text: string) => {
    if (!LITERAL.test(text)) throw new Error(`"${text}" is neither an event name nor a day`);
    return `'${text}'`;
  };
  return sql.replace(/(--.*$)|@(\w+)/gm, (match, comment: string | undefined, name: string) => {
    if (comment !== undefined) return match;
    const value = values[name as Ga4ParameterName]!;
    return Array.isArray(value) ? `ARRAY<STRING>[${value.map(quote).join(', ')}]` : quote(value);
  });
}

/**
 * GoogleSQL to DuckDB, for these statements only, in three rewrites:
 * - the export's wildcard table (`` `project.dataset.events_*` ``) becomes a local table, which has
 *   `_TABLE_SUFFIX` as a real column;
 * - `UNNEST(list) AS p` names the element `p` in BigQuery, the table in DuckDB: `AS _unnested(p)`;
 * - named parameters are `@name` in BigQuery, `$name` in DuckDB.
 */
export function bigQueryToDuckDB(sql: string, table: string): string {
  return sql
    .replace(/`[^`\n]*\.events_\*`/g, table)
    .replace(/UNNEST\(([^()]+)\) AS (\w+)\b(?!\()/g, 'UNNEST($1) AS _unnested($2)')
    .replace(/(--.*$)|@(\w+)/gm, (match, comment: string | undefined, name: string) => (comment !== undefined ? match : `$${name}`));
}

/** Rows as plain values: DuckDB's BIGINT and HUGEINT come back as bigint. */
const plain = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value]));

/** Runs one statement on DuckDB over a GA4-export-shaped `table`, with BigQuery-style parameter values. */
export async function runGa4StatementOnDuckDB(connection: DuckDBConnection, name: Ga4StatementName, values: Ga4Parameters, table = 'ga4_events'): Promise<Array<Record<string, unknown>>> {
  const text = ga4Statement(name);
  const bound: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const parameter of statementParameters(text)) {
    const value = values[parameter as Ga4ParameterName];
    if (value === undefined) throw new Error(`${name}.sql: no value for @${parameter}`);
    // Lists are typed explicitly: DuckDB cannot infer the type of an empty one.
    if (Array.isArray(value)) (bound[parameter] = listValue(value)), (types[parameter] = LIST(VARCHAR));
    else (bound[parameter] = value), (types[parameter] = VARCHAR);
  }
  const reader = await connection.runAndReadAll(bigQueryToDuckDB(text, table), bound, types);
  return reader.getRowObjectsJS().map(plain);
}

/** Rows of `signal-counts.sql` (from any engine; bq's JSON gives INT64 as strings) as `SignalCounts`. */
export function signalCountsFromRows(rows: ReadonlyArray<Record<string, unknown>>): SignalCounts[] {
  return rows.map((row) => ({
    signal: String(row.signal),
    sessionsWith: Number(row.sessions_with),
    convertedWith: Number(row.converted_with),
    sessionsWithout: Number(row.sessions_without),
    convertedWithout: Number(row.converted_without),
  }));
}

/** Rows of `funnel-counts.sql` as `FunnelCounts`, stages in the order asked. */
export function funnelCountsFromRows(rows: ReadonlyArray<Record<string, unknown>>, stages: FunnelQuery['stages']): FunnelCounts {
  const count = new Map(rows.map((row) => [String(row.step), Number(row.sessions)]));
  const missing = stages.filter(({ stage }) => !count.has(stage)).map(({ stage }) => stage);
  if (missing.length) throw new Error(`the funnel rows have no step for the stage(s) ${missing.join(', ')}: were they counted for another plan?`);
  return {
    sessions: count.get('all sessions') ?? 0,
    converted: count.get('macro conversion') ?? 0,
    stages: stages.map(({ stage }) => ({ stage, sessions: count.get(stage)! })),
  };
}

const readOnly = () => Promise.reject(new Error('a GA4 export is written by GA4: this store only reads counts'));

/**
 * The GA4 export as a read-only `EventStore` over DuckDB (the tests' GA4-shaped table): its counts
 * come from the two BigQuery statements, so `buildReport` gives the report BigQuery would.
 */
export function ga4StoreOnDuckDB(connection: DuckDBConnection, days: Ga4Days, table = 'ga4_events'): EventStore {
  return {
    insert: readOnly,
    async signalCounts(query) {
      return signalCountsFromRows(await runGa4StatementOnDuckDB(connection, 'signal-counts', signalParameters(query, days), table));
    },
    async funnelCounts(query) {
      return funnelCountsFromRows(await runGa4StatementOnDuckDB(connection, 'funnel-counts', funnelParameters(query, days), table), query.stages);
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Results already fetched from BigQuery (e.g. `bq query --format=json`), as a read-only `EventStore`
 * for `buildReport(store, plan)`. They must have been counted with the same plan: a plan signal or
 * stage the rows do not have is an error, not a silent zero.
 */
export function ga4StoreFromResults(results: { signals: ReadonlyArray<Record<string, unknown>>; funnel: ReadonlyArray<Record<string, unknown>> }): EventStore {
  return {
    insert: readOnly,
    async signalCounts(query) {
      const counts = signalCountsFromRows(results.signals);
      const missing = query.signals.filter((name) => !query.macro.includes(name) && !counts.some((row) => row.signal === name));
      if (missing.length) throw new Error(`the signal rows have no ${missing.join(', ')}: were they counted for another plan?`);
      return counts;
    },
    funnelCounts: async (query) => funnelCountsFromRows(results.funnel, query.stages),
    close: () => Promise.resolve(),
  };
}

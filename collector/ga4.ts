import type { DuckDBConnection } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { STAGES, type ReportPlan } from './plan';

/**
 * The report over a Google Analytics 4 BigQuery export lives in `ga4-report.sql` (BigQuery SQL, for
 * teams to run where their data is). This module runs that same file on DuckDB, against a table
 * shaped like the export, so the tests can check it gives the collector's numbers: one text, two
 * engines, nothing to drift apart.
 */
export const GA4_REPORT_SQL = new URL('./ga4-report.sql', import.meta.url);

const PLAN_BLOCK = /-- plan:begin\n[\s\S]*?-- plan:end\n/;

/**
 * The `-- plan:begin` … `-- plan:end` block of `ga4-report.sql` for a plan: the macro event names,
 * the stages' event names and the error control as temporary tables. Names are event names
 * (`^[a-z][a-z0-9_]{0,39}$`) and the error control one of two words, all checked by `checkPlan`,
 * so they can stand in quotes as they are.
 */
export function ga4PlanBlock(plan: ReportPlan): string {
  const macro = plan.macro.length
    ? plan.macro.map((name, index) => (index === 0 ? `SELECT '${name}' AS event_name` : `SELECT '${name}'`)).join(' UNION ALL\n')
    : `SELECT '' AS event_name LIMIT 0`;
  const rows = plan.stages.flatMap(({ stage, events }) => events.map((name) => [STAGES.indexOf(stage) + 1, stage, name] as const));
  const stages = rows.length
    ? rows
        .map(([order, stage, name], index) => (index === 0 ? `SELECT ${order} AS stage_order, '${stage}' AS stage, '${name}' AS event_name` : `SELECT ${order}, '${stage}', '${name}'`))
        .join(' UNION ALL\n')
    : `SELECT 0 AS stage_order, '' AS stage, '' AS event_name LIMIT 0`;
  const settings = `SELECT '${plan.errorControl}' AS error_control`;
  return `-- plan:begin\nCREATE TEMP TABLE mc_macro AS\n${macro};\n\nCREATE TEMP TABLE mc_stages AS\n${stages};\n\nCREATE TEMP TABLE mc_settings AS\n${settings};\n-- plan:end\n`;
}

/**
 * BigQuery to DuckDB, for this file only, in two rewrites:
 * - the export's wildcard table (`` `project.dataset.events_*` ``) becomes a local table, which has
 *   `_TABLE_SUFFIX` as a real column;
 * - `UNNEST(list) AS p` names the element `p` in BigQuery, the table in DuckDB: `AS _unnested(p)`.
 * And temporary tables are replaced, so the script can run twice on one connection.
 */
export function bigQueryToDuckDB(sql: string, table: string): string {
  return sql
    .replace(/`[^`\n]*\.events_\*`/g, table)
    .replace(/UNNEST\(([^()]+)\) AS (\w+)\b(?!\()/g, 'UNNEST($1) AS _unnested($2)')
    .replace(/CREATE TEMP TABLE/g, 'CREATE OR REPLACE TEMP TABLE');
}

/** `ga4-report.sql` with the given plan, for DuckDB over `table`. */
export function ga4ReportForDuckDB(plan: ReportPlan, table = 'ga4_events'): string {
  const sql = readFileSync(GA4_REPORT_SQL, 'utf8');
  if (!PLAN_BLOCK.test(sql)) throw new Error('ga4-report.sql: the plan:begin/plan:end block is missing');
  return bigQueryToDuckDB(sql.replace(PLAN_BLOCK, ga4PlanBlock(plan)), table);
}

/** The two results of `ga4-report.sql`: one row per signal, one per funnel step. */
export interface Ga4Report {
  signals: Array<Record<string, unknown>>;
  funnel: Array<Record<string, unknown>>;
}

/** Runs `ga4-report.sql` on a DuckDB connection that has a GA4-export-shaped `table`. */
export async function runGa4ReportOnDuckDB(connection: DuckDBConnection, plan: ReportPlan, table = 'ga4_events'): Promise<Ga4Report> {
  const statements = await connection.extractStatements(ga4ReportForDuckDB(plan, table));
  const results: Array<Array<Record<string, unknown>>> = [];
  for (let index = 0; index < statements.count; index++) {
    const reader = await (await statements.prepare(index)).runAndReadAll();
    results.push(reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value]))));
  }
  const [signals, funnel] = results.slice(-2);
  return { signals: signals!, funnel: funnel! };
}

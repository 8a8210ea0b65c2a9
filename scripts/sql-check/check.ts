/**
 * `npm run check:bigquery-sql`: every GA4 statement (`collector/ga4/*.sql`) through Google's GoogleSQL
 * analyzer (ZetaSQL, the front end BigQuery's dialect is defined by), against a catalog of the GA4
 * export schema, in the two forms users run: with query parameters (bq CLI, API) and with the demo
 * plan written in as literals (console, scheduled queries). The analyzer resolves every name and type
 * but does not know BigQuery's planner rules; the one these statements could break (an outer join needs
 * an equality between its two sides) is checked on the analyzer's resolved tree. Two controls, which
 * must be refused, show that the check can say no.
 *
 * The analyzer is the `remote_server` binary of the npm package `@fivetrandevelopers/zetasql`, about
 * 110 MB, so it lives in this folder's own package.json, installed by the npm script, not in the
 * project's dependencies. Exit code 1 when a statement or a control fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  funnelParameters,
  GA4_DATASET_PLACEHOLDER,
  GA4_PARAMETER_TYPES,
  GA4_STATEMENTS,
  ga4Statement,
  inlineParameters,
  signalParameters,
  statementParameters,
  type Ga4Parameters,
  type Ga4StatementName,
} from '../../collector/ga4';
import { checkPlan, loadPlan, planSignals, type ReportPlan } from '../../collector/plan';
import { GA4_EXPORT_COLUMNS, GA4_PSEUDO_COLUMNS } from './ga4-export-schema';

const require = createRequire(import.meta.url);
const PACKAGE = '@fivetrandevelopers/zetasql';
// The package ships no types; what is used of it is typed where it is used.
const zetasql = require(PACKAGE) as { ZetaSQLClient: { init(port: number): void; getInstance(): AnalyzerClient }; TypeKind: Record<string, number> };
const analyzerVersion = (require(`${PACKAGE}/package.json`) as { version: string }).version;

interface AnalyzerClient {
  getLanguageOptions(request: object): Promise<{ enabledLanguageFeatures: string[] }>;
  analyze(request: object): Promise<{ resolvedStatement: Record<string, unknown> }>;
}

// ---------------------------------------------------------------------------------------------
// Types: GoogleSQL type names (as the export schema and parameters are written) to ZetaSQL's TypeProto.

interface TypeProto {
  typeKind: string;
  arrayType?: { elementType: TypeProto };
  structType?: { field: Array<{ fieldName: string; fieldType: TypeProto }> };
}

const SIMPLE_TYPES: Record<string, string> = { STRING: 'TYPE_STRING', INT64: 'TYPE_INT64', FLOAT64: 'TYPE_DOUBLE', BOOL: 'TYPE_BOOL', BYTES: 'TYPE_BYTES', DATE: 'TYPE_DATE', TIMESTAMP: 'TYPE_TIMESTAMP' };

/** `ARRAY<STRUCT<key STRING, value STRUCT<...>>>` and the like, to a TypeProto. */
export function parseType(text: string): TypeProto {
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|[<>,]/g) ?? [];
  let at = 0;
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`bad type "${text}": expected ${expected ?? 'more'} at token ${at}`);
    return token;
  };
  const type = (): TypeProto => {
    const name = take().toUpperCase();
    if (name === 'ARRAY') {
      take('<');
      const elementType = type();
      take('>');
      return { typeKind: 'TYPE_ARRAY', arrayType: { elementType } };
    }
    if (name === 'STRUCT') {
      take('<');
      const field: Array<{ fieldName: string; fieldType: TypeProto }> = [];
      do field.push({ fieldName: take(), fieldType: type() });
      while (take() === ',');
      return { typeKind: 'TYPE_STRUCT', structType: { field } };
    }
    const kind = SIMPLE_TYPES[name];
    if (!kind) throw new Error(`bad type "${text}": unknown type ${name}`);
    return { typeKind: kind };
  };
  const result = type();
  if (at !== tokens.length) throw new Error(`bad type "${text}": trailing tokens`);
  return result;
}

/** A resolved type (kinds come back as numbers) in GoogleSQL's words. */
function typeName(type: { typeKind: number; arrayType?: { elementType: never } | null; structType?: { field: never[] } | null }): string {
  const kind = Object.entries(zetasql.TypeKind).find(([, number]) => number === type.typeKind)?.[0] ?? String(type.typeKind);
  if (type.arrayType) return `ARRAY<${typeName(type.arrayType.elementType)}>`;
  if (type.structType) return `STRUCT<${type.structType.field.map((f: { fieldName: string; fieldType: never }) => `${f.fieldName} ${typeName(f.fieldType)}`).join(', ')}>`;
  const simple = Object.entries(SIMPLE_TYPES).find(([, proto]) => proto === kind)?.[0];
  return simple ?? kind;
}

// ---------------------------------------------------------------------------------------------
// The analyzer process: started on a free port, waited for until it says it listens, killed at the end.

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startAnalyzer(): Promise<{ client: AnalyzerClient; child: ChildProcess }> {
  // The package's own naming of its binaries (Linux and macOS, x64 and arm64).
  const binary = join(dirname(require.resolve(PACKAGE)), 'zetasql', `remote_server${process.arch.startsWith('arm') ? '_arm' : ''}${process.platform === 'darwin' ? '' : '.so'}`);
  const port = await freePort();
  const child = spawn(binary, ['localhost', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let said = '';
    const listen = (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('Server listening')) resolve();
    };
    child.stdout!.on('data', listen);
    child.stderr!.on('data', listen);
    child.once('error', (error) => reject(new Error(`cannot start ${binary}: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`${binary} exited (${code}) before listening: ${said.trim()}`)));
  });
  zetasql.ZetaSQLClient.init(port);
  return { client: zetasql.ZetaSQLClient.getInstance(), child };
}

// ---------------------------------------------------------------------------------------------
// The resolved tree: joins, and whether each outer join has an equality between its two sides.

type Tree = Record<string, unknown>;
const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null;

function visit(node: unknown, see: (key: string, value: Tree) => void): void {
  if (Array.isArray(node)) return node.forEach((item) => visit(item, see));
  if (!isTree(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (isTree(value) && !Array.isArray(value)) see(key, value);
    visit(value, see);
  }
}

/** The nearest object (breadth first) that has `key`: a node's own field, not one of its inputs'. */
function nearest(node: unknown, key: string): Tree | undefined {
  let level: unknown[] = [node];
  while (level.length) {
    const next: unknown[] = [];
    for (const item of level) {
      if (Array.isArray(item)) next.push(...item);
      else if (isTree(item)) {
        if (key in item) return item;
        next.push(...Object.values(item));
      }
    }
    level = next;
  }
  return undefined;
}

function columnIds(node: unknown): Set<number> {
  const ids = new Set<number>();
  visit(node, (key, value) => {
    if (key === 'resolvedColumnRefNode') ids.add(Number(((value.column as Tree).columnId as Tree).low));
  });
  return ids;
}

const scanColumns = (scan: unknown) => new Set(((nearest(scan, 'columnList')?.columnList ?? []) as Tree[]).map((column) => Number((column.columnId as Tree).low)));
const within = (ids: Set<number>, side: Set<number>) => ids.size > 0 && [...ids].every((id) => side.has(id));

/** The conjuncts of a condition: `a AND b AND c` as [a, b, c]. */
function conjuncts(expression: unknown): Tree[] {
  const call = nearest(expression, 'function');
  if (!call) return [];
  const name = (call.function as Tree).name;
  if (name === 'ZetaSQL:$and') return (call.argumentList as unknown[]).flatMap(conjuncts);
  return [call];
}

const JOIN_KINDS = ['INNER', 'LEFT', 'RIGHT', 'FULL'];
interface Join {
  kind: string;
  equality: boolean;
}

function joinsOf(statement: unknown): Join[] {
  const joins: Join[] = [];
  visit(statement, (key, scan) => {
    if (key !== 'resolvedJoinScanNode') return;
    const left = scanColumns(scan.leftScan);
    const right = scanColumns(scan.rightScan);
    const equality = conjuncts(scan.joinExpr).some((call) => {
      if ((call.function as Tree).name !== 'ZetaSQL:$equal') return false;
      const [a, b] = (call.argumentList as unknown[]).map(columnIds);
      return (within(a!, left) && within(b!, right)) || (within(a!, right) && within(b!, left));
    });
    joins.push({ kind: scan.joinExpr ? JOIN_KINDS[Number(scan.joinType)]! : 'CROSS', equality });
  });
  return joins;
}

// ---------------------------------------------------------------------------------------------
// The checks.

interface Verdict {
  ok: boolean;
  lines: string[];
}

async function main() {
  const { client, child } = await startAnalyzer();
  try {
    const version = await client.getLanguageOptions({ languageVersion: 'VERSION_CURRENT' });
    // The reference language as it stands, in the external (BigQuery) product mode, plus window
    // functions, which ZetaSQL keeps outside the versions and BigQuery has.
    const languageOptions = {
      productMode: 'PRODUCT_EXTERNAL',
      nameResolutionMode: 'NAME_RESOLUTION_DEFAULT',
      enabledLanguageFeatures: [...version.enabledLanguageFeatures, 'FEATURE_ANALYTIC_FUNCTIONS'],
    };
    const table = `${GA4_DATASET_PLACEHOLDER}.events_*`;
    const simpleCatalog = {
      name: 'ga4',
      table: [
        {
          name: table,
          column: [
            ...GA4_EXPORT_COLUMNS.map(([name, type]) => ({ name, type: parseType(type) })),
            ...GA4_PSEUDO_COLUMNS.map(([name, type]) => ({ name, type: parseType(type), isPseudoColumn: true })),
          ],
        },
      ],
      builtinFunctionOptions: { languageOptions },
    };
    const analyze = async (sql: string, parameters: string[]) => {
      try {
        const queryParameters = parameters.map((name) => ({ name, type: parseType(GA4_PARAMETER_TYPES[name as keyof typeof GA4_PARAMETER_TYPES]) }));
        const response = await client.analyze({ sqlStatement: sql, simpleCatalog, options: { languageOptions, queryParameters, parameterMode: 'PARAMETER_NAMED', errorMessageMode: 'ERROR_MESSAGE_ONE_LINE' } });
        const query = nearest(response.resolvedStatement, 'outputColumnList')!;
        const columns = (query.outputColumnList as Tree[]).map((output) => `${output.name} ${typeName((output.column as Tree).type as never)}`);
        return { accepted: true as const, columns, joins: joinsOf(response.resolvedStatement) };
      } catch (error) {
        const message = (error as { details?: string; message: string }).details || (error as Error).message;
        return { accepted: false as const, message };
      }
    };
    const joinRule = (joins: Join[]) => {
      const outer = joins.filter((join) => join.kind !== 'INNER' && join.kind !== 'CROSS');
      const bad = outer.filter((join) => !join.equality);
      const summary = joins.map((join) => `${join.kind}${join.kind === 'CROSS' ? '' : join.equality ? ' on an equality' : ' WITHOUT an equality'}`).join(', ');
      return { ok: bad.length === 0, text: `${bad.length ? 'REFUSED' : 'OK'} (${summary || 'no joins'})` };
    };

    const days = { firstDay: '20240101', lastDay: '20241231' };
    const valuesFor = (plan: ReportPlan): Record<Ga4StatementName, Ga4Parameters> => ({
      'signal-counts': signalParameters({ macro: plan.macro, signals: planSignals(plan) }, days),
      'funnel-counts': funnelParameters({ macro: plan.macro, stages: plan.stages }, days),
    });
    const demo = valuesFor(await loadPlan('demo/plan.json'));
    // Empty lists written in must type too (`ARRAY<STRING>[]`): no micro-conversion, three stages empty.
    const sparse = valuesFor(checkPlan({ macro: ['purchase'], stages: { conversion: ['purchase'] } }));

    console.log(`GoogleSQL analyzer: ZetaSQL remote_server from ${PACKAGE}@${analyzerVersion}`);
    console.log(`language: ${version.enabledLanguageFeatures.length} features of VERSION_CURRENT + FEATURE_ANALYTIC_FUNCTIONS, PRODUCT_EXTERNAL`);
    console.log(`catalog: \`${table}\`, ${GA4_EXPORT_COLUMNS.length} columns of the GA4 export schema + pseudo-column _TABLE_SUFFIX`);
    console.log(`BigQuery rule checked on the resolved tree: an outer join needs an equality between its two sides\n`);

    const verdicts: Array<[string, boolean]> = [];
    for (const name of Object.keys(GA4_STATEMENTS) as Ga4StatementName[]) {
      const sql = ga4Statement(name);
      const parameters = statementParameters(sql);
      const verdict: Verdict = { ok: true, lines: [] };
      const forms: Array<[string, string, string[]]> = [
        [`with query parameters (${parameters.map((p) => `@${p} ${GA4_PARAMETER_TYPES[p as keyof typeof GA4_PARAMETER_TYPES]}`).join(', ')})`, sql, parameters],
        ['with demo/plan.json written in as literals (console, scheduled query)', inlineParameters(sql, demo[name]), []],
        ['with a plan of empty lists written in', inlineParameters(sql, sparse[name]), []],
      ];
      for (const [label, text, declared] of forms) {
        const result = await analyze(text, declared);
        if (!result.accepted) {
          verdict.ok = false;
          verdict.lines.push(`  ${label}: analyzer REFUSED: ${result.message}`);
          continue;
        }
        const rule = joinRule(result.joins);
        verdict.ok &&= rule.ok;
        verdict.lines.push(`  ${label}: analyzer ACCEPTED; join rule ${rule.text}`);
        verdict.lines.push(`    returns ${result.columns.join(', ')}`);
      }
      console.log(`collector/ga4/${name}.sql: ${verdict.ok ? 'ACCEPTED' : 'REFUSED'}`);
      for (const line of verdict.lines) console.log(line);
      verdicts.push([name, verdict.ok]);
    }

    // Controls: each must be refused, by the analyzer or by the join rule, or the check proves nothing.
    console.log('\ncontrols (each must be refused):');
    const controls: Array<[string, string]> = [
      [
        "the old funnel's LEFT JOIN ... ON u.stage_order >= g.stage_order",
        `WITH furthest AS (SELECT user_pseudo_id, MAX(event_timestamp) AS stage_order FROM \`${table}\` GROUP BY user_pseudo_id),
         stages AS (SELECT stage_order FROM UNNEST([1, 2, 3]) AS stage_order)
         SELECT g.stage_order, COUNT(u.user_pseudo_id) AS sessions
         FROM stages AS g LEFT JOIN furthest AS u ON u.stage_order >= g.stage_order
         GROUP BY g.stage_order`,
      ],
      ['ga_session_id read as a column (it is an event parameter)', `SELECT user_pseudo_id, ga_session_id FROM \`${table}\``],
    ];
    let controlsHeld = true;
    for (const [label, sql] of controls) {
      const result = await analyze(sql, []);
      const rule = result.accepted ? joinRule(result.joins) : undefined;
      const refused = !result.accepted || !rule!.ok;
      controlsHeld &&= refused;
      const how = result.accepted ? `analyzer accepted; join rule ${rule!.text}` : `analyzer REFUSED: ${result.message}`;
      console.log(`  ${label}: ${refused ? 'refused, as it should be' : 'NOT REFUSED: the check is broken'} (${how})`);
    }

    console.log('');
    for (const [name, ok] of verdicts) console.log(`verdict: collector/ga4/${name}.sql ${ok ? 'ACCEPTED' : 'REFUSED'}`);
    if (!controlsHeld) console.log('verdict: a control was not refused, so the verdicts above prove nothing');
    process.exitCode = verdicts.every(([, ok]) => ok) && controlsHeld ? 0 : 1;
  } finally {
    child.kill('SIGKILL');
  }
}

main().catch((error: unknown) => {
  console.error(`check:bigquery-sql: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});

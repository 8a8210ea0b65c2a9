import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_DATABASE, openDuckDBStore } from './duckdb-store';
import { checkPlan, loadPlan, type ReportPlan } from './plan';
import { openPostgresStore } from './postgres-store';
import type { EventStore } from './store';

/** Bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The plan the CLIs use when not told: the demo's, if this checkout has one. */
export const DEFAULT_PLAN_PATH = 'demo/plan.json';

/** `parseArgs`, strict, with its errors turned into usage errors. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A number option: whole and within bounds, or a usage error naming the option. */
export function numberOption(value: string | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, whole = true): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || (whole && !Number.isInteger(number)) || number < min || number > max) {
    throw new UsageError(`--${name}: expected ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

/**
 * The plan from `--plan`, else `demo/plan.json` when it exists, else a plan with the default macro
 * names and no stages (the report then lists every event name it sees). Says which on stderr.
 */
export async function resolvePlan(path: string | undefined, log: (line: string) => void): Promise<ReportPlan> {
  if (path) return loadPlan(path);
  if (existsSync(DEFAULT_PLAN_PATH)) {
    log(`plan: ${DEFAULT_PLAN_PATH}`);
    return loadPlan(DEFAULT_PLAN_PATH);
  }
  log(`plan: none given and no ${DEFAULT_PLAN_PATH}; using macro purchase, generate_lead and no stages (--plan FILE to set one)`);
  return checkPlan({});
}

/** The options that pick the store, shared by the collector, the report and the simulator. */
export const STORE_OPTIONS = {
  store: { type: 'string' },
  db: { type: 'string' },
  postgres: { type: 'string' },
} as const;

/** Their lines of the usage text. */
export const STORE_USAGE = `  --store KIND       duckdb (default: one process, a file) or postgres (several collectors, one server)
  --db PATH          DuckDB file (default ${DEFAULT_DATABASE}); :memory: for a throwaway one
  --postgres URL     PostgreSQL (postgres://user:password@host:5432/db); implies --store postgres;
                     --store postgres alone takes the URL from DATABASE_URL`;

export type StoreChoice = { kind: 'duckdb'; path: string } | { kind: 'postgres'; url: string };

/**
 * The store the options name: DuckDB at `--db` unless `--store postgres` or `--postgres URL` says
 * otherwise. `DATABASE_URL` is read only when asked for PostgreSQL: a variable set for another program
 * never moves the events somewhere else unasked.
 */
export function chooseStore(args: { store?: string; db?: string; postgres?: string }, env: NodeJS.ProcessEnv = process.env): StoreChoice {
  const kind = args.store ?? (args.postgres !== undefined ? 'postgres' : 'duckdb');
  if (kind === 'duckdb') {
    if (args.postgres !== undefined) throw new UsageError('--postgres is for --store postgres; leave out --store duckdb');
    return { kind, path: args.db ?? DEFAULT_DATABASE };
  }
  if (kind !== 'postgres') throw new UsageError(`--store: expected duckdb or postgres, got "${kind}"`);
  if (args.db !== undefined) throw new UsageError('--db names a DuckDB file; PostgreSQL takes --postgres URL');
  const url = args.postgres ?? env.DATABASE_URL;
  if (!url) throw new UsageError('--store postgres: give --postgres URL, or set DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError(`${args.postgres !== undefined ? '--postgres' : 'DATABASE_URL'}: expected a postgres:// or postgresql:// URL, got "${redactPassword(url)}"`);
  }
  return { kind, url };
}

export const openChosenStore = (choice: StoreChoice): Promise<EventStore> =>
  choice.kind === 'duckdb' ? openDuckDBStore(choice.path) : openPostgresStore(choice.url);

/** The store in words, for logs: the URL without its password. */
export const describeStore = (choice: StoreChoice): string =>
  choice.kind === 'duckdb' ? `DuckDB ${choice.path}` : `PostgreSQL ${redactPassword(choice.url)}`;

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Runs a CLI's main: usage errors print the usage and exit 2, other errors their message and exit 1. */
export function run(main: () => Promise<void>, usage: string): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\n${usage}`);
      process.exit(2);
    }
    process.stderr.write(`error: ${(error as Error).message ?? error}\n`);
    process.exit(1);
  });
}

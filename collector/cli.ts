import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkPlan, loadPlan, type ReportPlan } from './plan';

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

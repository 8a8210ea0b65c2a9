import { readFile } from 'node:fs/promises';
import type { Plan } from '../src/types';
import { EVENT_NAME } from './validate';

/** The funnel stages of a plan, in funnel order (contract 6). */
export const STAGES = ['engagement', 'consideration', 'intent', 'conversion'] as const;
export type Stage = (typeof STAGES)[number];

/** Used when a plan names no macro conversion: the two the SDK's docs use. */
export const DEFAULT_MACRO = ['purchase', 'generate_lead'];

/**
 * How the report keeps false "associated" verdicts in check when it judges many signals:
 * - `family` (the default): the plan's signals share the 5 % error rate equally (Bonferroni), so the
 *   chance that any of them is ever called associated while it has no association stays at 5 %;
 * - `per-signal`: each signal is judged at 5 % on its own, and the report says what that means for
 *   the plan as a whole.
 */
export const ERROR_CONTROLS = ['family', 'per-signal'] as const;
export type ErrorControl = (typeof ERROR_CONTROLS)[number];
export const DEFAULT_ERROR_CONTROL: ErrorControl = 'family';

/** A checked plan: macro names, the stages that list any event, in funnel order, and the error control. */
export interface ReportPlan {
  macro: string[];
  stages: Array<{ stage: Stage; events: string[] }>;
  errorControl: ErrorControl;
}

/** A plan that cannot be used, with every reason. */
export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid measurement plan:\n  ${problems.join('\n  ')}`);
    this.name = 'PlanError';
  }
}

/**
 * Checks a measurement plan (the SDK's `Plan`, contract 6) and puts it in funnel order. Names must be
 * event names; an event may sit in one stage only, so that "reaching a stage" means one thing. The
 * report's own option, `errorControl`, sits beside them (the SDK ignores it). Checking a checked
 * plan gives it back unchanged.
 */
export function checkPlan(input: unknown): ReportPlan {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PlanError(['the plan must be a JSON object']);
  let plan = input as Plan & Record<string, unknown>;
  // An already checked plan (stages as a list) is checked again as the object it came from.
  if (Array.isArray(plan.stages)) {
    const list = plan.stages as ReportPlan['stages'];
    plan = { ...plan, stages: Object.fromEntries(list.map((entry) => [entry?.stage, entry?.events])) };
  }

  const names = (value: unknown, path: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return void problems.push(`${path}: expected an array of event names`), [];
    const good = value.filter((name, index) => {
      const ok = typeof name === 'string' && EVENT_NAME.test(name);
      if (!ok) problems.push(`${path}[${index}]: ${JSON.stringify(name)} is not an event name (${EVENT_NAME.source})`);
      return ok;
    }) as string[];
    return [...new Set(good)];
  };

  const macro = names(plan.macro, 'macro');
  const stages: ReportPlan['stages'] = [];
  const stageInput = plan.stages ?? {};
  if (typeof stageInput !== 'object' || stageInput === null || Array.isArray(stageInput)) problems.push('stages: expected an object');
  else {
    for (const key of Object.keys(stageInput)) {
      if (!(STAGES as readonly string[]).includes(key)) problems.push(`stages.${key}: unknown stage (expected one of ${STAGES.join(', ')})`);
    }
    const seen = new Map<string, Stage>();
    for (const stage of STAGES) {
      const events = names((stageInput as Record<string, unknown>)[stage], `stages.${stage}`);
      for (const name of events) {
        const earlier = seen.get(name);
        if (earlier) problems.push(`stages.${stage}: "${name}" is already in stages.${earlier}`);
        seen.set(name, stage);
      }
      if (events.length) stages.push({ stage, events });
    }
  }
  const errorControl = plan.errorControl ?? DEFAULT_ERROR_CONTROL;
  if (!(ERROR_CONTROLS as readonly unknown[]).includes(errorControl)) {
    problems.push(`errorControl: expected ${ERROR_CONTROLS.map((name) => `"${name}"`).join(' or ')}, got ${JSON.stringify(errorControl)}`);
  }
  if (problems.length) throw new PlanError(problems);
  return { macro: macro.length ? macro : DEFAULT_MACRO, stages, errorControl: errorControl as ErrorControl };
}

/** Reads and checks a plan file; errors say which file and what is wrong with it. */
export async function loadPlan(path: string): Promise<ReportPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlanError([`cannot read ${path}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PlanError([`${path} is not valid JSON: ${(error as Error).message}`]);
  }
  try {
    return checkPlan(parsed);
  } catch (error) {
    if (error instanceof PlanError) throw new PlanError(error.problems.map((problem) => `${path}: ${problem}`));
    throw error;
  }
}

/** The plan's micro-conversions in funnel order (macro names left out). */
export const planSignals = (plan: ReportPlan): string[] =>
  plan.stages.flatMap((stage) => stage.events).filter((name) => !plan.macro.includes(name));

import { planSignals, type ReportPlan, type Stage } from './plan';
import { compare, wilson, type Estimate, type RatioEstimate, type VerdictKind } from './stats';
import type { EventStore } from './store';
import { formatCount, formatPoints } from './format';
import type { ForwardingReport } from './forward/report-section';

/** Said in every output: the report measures association, and a reader must not take it for cause. */
export const ASSOCIATION_NOTE =
  'This is association, not cause: sessions that have a micro-conversion may differ in many other ways ' +
  '(intent, source, device). A signal associated with more conversion predicts it; making more people do it ' +
  'will not necessarily raise conversion. Test that with an experiment.';

/** The counting rule, said in every output. */
export const COUNTING_RULE =
  'Sessions are those that sent at least one event. A session has a micro-conversion when it happened at or before the session\'s first macro conversion ' +
  '(or at any time in a session that never converted): an event after the conversion cannot have predicted it.';

export const FUNNEL_RULE =
  'A session reaches a stage when it has an event of that stage or of a later one, at any time: the ' +
  'furthest stage it got to counts for every stage before it too, so each step holds no more sessions than the one before.';

/** Beyond this many times the current traffic, "more sessions" is no longer a practical answer. */
const PRACTICAL_TRAFFIC_MULTIPLE = 100;

/** The report, as JSON for other tools (`/report.json`, `npm run report -- --json`). */
export interface Report {
  generated_at: string;
  /** Association, not cause. */
  note: string;
  rule: string;
  macro: string[];
  sessions: number;
  converted: number;
  conversion_rate: Estimate | null;
  signals: SignalReport[];
  /** Said when several signals are judged at once. */
  multiple_comparisons: string;
  funnel: FunnelReport;
  /** Server-side forwarding, when the collector forwards: where each signal goes and why, per destination status. */
  forwarding?: ForwardingReport;
}

export interface SignalReport {
  signal: string;
  /** The plan's stage, or `null` for an event name the plan does not list. */
  stage: Stage | null;
  in_plan: boolean;
  sessions_with: number;
  converted_with: number;
  sessions_without: number;
  converted_without: number;
  /** Conversion rate with the signal, Wilson 95 % interval. */
  rate_with: Estimate | null;
  rate_without: Estimate | null;
  /** The lift in rate points (rate_with − rate_without), Newcombe hybrid score 95 % interval. */
  difference: Estimate | null;
  /** rate_with / rate_without, Katz log 95 % interval (0.5 added to each cell when a group has no conversions). */
  ratio: RatioEstimate | null;
  verdict: VerdictKind;
  /** The verdict in words, with what would settle it. */
  verdict_text: string;
  /** Total sessions for 80 % power at the observed rates and mix of sessions; `null` when meaningless. */
  sessions_for_80pct_power: number | null;
  /** How many sessions beyond today's that is, when practical; `null` otherwise. */
  more_sessions: number | null;
}

export interface FunnelStep {
  /** `all sessions`, a stage name, or `macro conversion`. */
  step: string;
  kind: 'all' | 'stage' | 'macro';
  sessions: number;
  /** Share of all sessions. */
  share: number | null;
  /** Share of the previous step's sessions that did not reach this one (negative: more reached it). */
  drop_off: number | null;
}

export interface FunnelReport {
  rule: string;
  steps: FunnelStep[];
  /** The step into which the most sessions are lost, among the plan's stages and the macro conversion. */
  weakest: { from: string; to: string; drop_off: number } | null;
}

/**
 * Builds the report from a store and a plan: the store counts (SQL), `stats.ts` estimates.
 *
 * @example const report = await buildReport(store, checkPlan(JSON.parse(planText)));
 */
export async function buildReport(store: EventStore, plan: ReportPlan, now: number = Date.now()): Promise<Report> {
  const listed = planSignals(plan);
  const stageOf = new Map(plan.stages.flatMap(({ stage, events }) => events.map((name) => [name, stage] as const)));
  const [counts, funnel] = await Promise.all([
    store.signalCounts({ macro: plan.macro, signals: listed }),
    store.funnelCounts({ macro: plan.macro, stages: plan.stages }),
  ]);
  const order = (name: string) => (listed.includes(name) ? listed.indexOf(name) : listed.length);
  counts.sort((a, b) => order(a.signal) - order(b.signal) || a.signal.localeCompare(b.signal));

  const signals = counts.map((row): SignalReport => {
    const c = compare(row.convertedWith, row.sessionsWith, row.convertedWithout, row.sessionsWithout);
    const total = row.sessionsWith + row.sessionsWithout;
    const practical = c.sessionsForPower !== null && c.sessionsForPower <= Math.max(total, 1) * PRACTICAL_TRAFFIC_MULTIPLE;
    return {
      signal: row.signal,
      stage: stageOf.get(row.signal) ?? null,
      in_plan: stageOf.has(row.signal),
      sessions_with: row.sessionsWith,
      converted_with: row.convertedWith,
      sessions_without: row.sessionsWithout,
      converted_without: row.convertedWithout,
      rate_with: c.rateWith,
      rate_without: c.rateWithout,
      difference: c.difference,
      ratio: c.ratio,
      verdict: c.verdict,
      verdict_text: verdictText(c.verdict, c.difference, row.sessionsWith, row.sessionsWithout, practical ? c.moreSessions : null, c.sessionsForPower),
      sessions_for_80pct_power: c.sessionsForPower,
      more_sessions: practical ? c.moreSessions : null,
    };
  });

  return {
    generated_at: new Date(now).toISOString(),
    note: ASSOCIATION_NOTE,
    rule: COUNTING_RULE,
    macro: [...plan.macro],
    sessions: funnel.sessions,
    converted: funnel.converted,
    conversion_rate: wilson(funnel.converted, funnel.sessions),
    signals,
    multiple_comparisons:
      signals.length > 1
        ? `${signals.length} signals are judged at the 95 % level each: even if none were related to conversion, about one in twenty would look associated by chance.`
        : '',
    funnel: funnelReport(funnel.sessions, funnel.converted, funnel.stages),
  };
}

function verdictText(
  verdict: VerdictKind,
  difference: Estimate | null,
  sessionsWith: number,
  sessionsWithout: number,
  moreSessions: number | null,
  needed: number | null,
): string {
  if (sessionsWith === 0) return 'not enough data yet: no session has had it before converting';
  if (sessionsWithout === 0) return 'not enough data yet: every session had it, so there is nothing to compare it with';
  const d = difference!;
  const interval = `${formatPoints(d.low)} to ${formatPoints(d.high)} points`;
  if (verdict !== 'unclear') {
    return `associated with ${verdict} conversion: ${formatPoints(d.estimate)} points (95 % interval ${interval})`;
  }
  if (moreSessions !== null && needed !== null) {
    return (
      `not enough data yet: the interval (${interval}) still includes no difference. If the ${formatPoints(d.estimate)} points seen so far ` +
      `are real, about ${formatCount(moreSessions)} more sessions (${formatCount(needed)} in all, at today's mix) would give an 80 % chance of showing it`
    );
  }
  return (
    `not enough data yet, and no sign of a difference: the interval (${interval}) includes zero, and the difference seen so far ` +
    `(${formatPoints(d.estimate)} points) is too small to settle with any practical amount of traffic`
  );
}

function funnelReport(sessions: number, converted: number, stages: Array<{ stage: string; sessions: number }>): FunnelReport {
  const raw: Array<Omit<FunnelStep, 'share' | 'drop_off'>> = [
    { step: 'all sessions', kind: 'all', sessions },
    ...stages.map((stage) => ({ step: stage.stage, kind: 'stage' as const, sessions: stage.sessions })),
    { step: 'macro conversion', kind: 'macro', sessions: converted },
  ];
  const steps = raw.map((step, index): FunnelStep => {
    const previous = raw[index - 1];
    return {
      ...step,
      share: sessions > 0 ? step.sessions / sessions : null,
      drop_off: previous && previous.sessions > 0 ? 1 - step.sessions / previous.sessions : null,
    };
  });
  let weakest: FunnelReport['weakest'] = null;
  // From the first stage on: "all sessions" is not a stage, and skipping the plan's first stage is not a loss.
  for (let index = 2; index < steps.length; index++) {
    const step = steps[index]!;
    if (step.drop_off !== null && (weakest === null || step.drop_off > weakest.drop_off)) {
      weakest = { from: steps[index - 1]!.step, to: step.step, drop_off: step.drop_off };
    }
  }
  return { rule: FUNNEL_RULE, steps, weakest };
}


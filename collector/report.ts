import { planSignals, type ErrorControl, type ReportPlan, type Stage } from './plan';
import { ALPHA, compare, wilson, type Comparison, type Estimate, type RatioEstimate, type VerdictKind } from './stats';
import type { EventStore, SignalCounts } from './store';
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

/** Which interval is which, said in every output. */
export const INTERVAL_NOTE =
  'The lift intervals are anytime-valid: each keeps its error rate however often the report is read as data come in, ' +
  'so a verdict may be acted on the moment it turns. The fixed-horizon interval beside it (Newcombe, 95 %) is valid for one ' +
  'pre-planned look only: read week after week, it shows a signal with no association as associated at some point far more often than 5 %.';

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
  /** Which interval is which (`INTERVAL_NOTE`). */
  intervals: string;
  /** How false "associated" verdicts are kept in check across the signals, from the plan's `errorControl`. */
  error_control: ErrorControlReport;
  /** Said beside the verdicts: `error_control.statement` when several signals are judged, else empty. */
  multiple_comparisons: string;
  funnel: FunnelReport;
  /** Server-side forwarding, when the collector forwards: where each signal goes and why, per destination status. */
  forwarding?: ForwardingReport;
}

export interface ErrorControlReport {
  /** `family`: the plan's signals share `alpha`; `per-signal`: each is judged at `alpha`. */
  mode: ErrorControl;
  /** The error rate the report holds to: 5 %. */
  alpha: number;
  /** The plan's signals, which share `alpha` in `family` mode (the signals judged, when the plan lists none). */
  family_size: number;
  /** The level each signal's anytime-valid interval and verdict are made at. */
  per_signal_alpha: number;
  /** What that means, in words. */
  statement: string;
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
  /** Conversion rate with the signal, Wilson 95 % interval (fixed horizon). */
  rate_with: Estimate | null;
  rate_without: Estimate | null;
  /**
   * The lift in rate points (rate_with − rate_without) with its anytime-valid interval at level
   * 1 − `alpha`: valid however often it is read. The verdict follows it.
   */
  difference: Estimate | null;
  /** The same lift with Newcombe's hybrid score 95 % interval: valid for one pre-planned look only. */
  difference_fixed_horizon: Estimate | null;
  /** rate_with / rate_without, Katz log 95 % interval, fixed horizon (0.5 added to each cell when a group has no conversions). */
  ratio: RatioEstimate | null;
  /** The error rate of this signal's `difference` and `verdict` (`error_control.per_signal_alpha`). */
  alpha: number;
  /** `more` or `less` when the anytime-valid interval excludes zero, else `unclear`. */
  verdict: VerdictKind;
  /** The verdict in words, with what would settle it. */
  verdict_text: string;
  /** Total sessions at which the verdict has an 80 % chance of settling, if the difference seen so far is real; `null` when meaningless. */
  sessions_to_settle: number | null;
  /** How many sessions beyond today's that is, when practical; `null` otherwise. */
  more_sessions_to_settle: number | null;
  /** Total sessions for 80 % power at one pre-planned look (fixed horizon), at the observed rates and mix; `null` when meaningless. */
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

  const control = errorControl(plan, listed.length, counts.filter((row) => !stageOf.has(row.signal)).length, counts.length);
  const signals = counts.map((row) => signalReport(row, stageOf.get(row.signal) ?? null, control.per_signal_alpha));

  return {
    generated_at: new Date(now).toISOString(),
    note: ASSOCIATION_NOTE,
    rule: COUNTING_RULE,
    macro: [...plan.macro],
    sessions: funnel.sessions,
    converted: funnel.converted,
    conversion_rate: wilson(funnel.converted, funnel.sessions),
    signals,
    intervals: INTERVAL_NOTE,
    error_control: control,
    multiple_comparisons: signals.length > 1 ? control.statement : '',
    funnel: funnelReport(funnel.sessions, funnel.converted, funnel.stages),
  };
}

/** One signal's row: the comparison, its verdict in words, and what would settle it when that is practical. */
function signalReport(row: SignalCounts, stage: Stage | null, alpha: number): SignalReport {
  const c = compare(row.convertedWith, row.sessionsWith, row.convertedWithout, row.sessionsWithout, alpha);
  const total = row.sessionsWith + row.sessionsWithout;
  const practical = (needed: number | null) => needed !== null && needed <= Math.max(total, 1) * PRACTICAL_TRAFFIC_MULTIPLE;
  return {
    signal: row.signal,
    stage,
    in_plan: stage !== null,
    sessions_with: row.sessionsWith,
    converted_with: row.convertedWith,
    sessions_without: row.sessionsWithout,
    converted_without: row.convertedWithout,
    rate_with: c.rateWith,
    rate_without: c.rateWithout,
    difference: c.difference,
    difference_fixed_horizon: c.differenceFixedHorizon,
    ratio: c.ratio,
    alpha,
    verdict: c.verdict,
    verdict_text: verdictText(c, practical(c.sessionsToSettle)),
    sessions_to_settle: c.sessionsToSettle,
    more_sessions_to_settle: practical(c.sessionsToSettle) ? c.moreSessionsToSettle : null,
    sessions_for_80pct_power: c.sessionsForPower,
    more_sessions: practical(c.sessionsForPower) ? c.moreSessions : null,
  };
}

/** An error rate to three significant digits: 0.05 / 3 → `1.67 %`, 0.05 / 8 → `0.625 %`. */
const formatLevel = (rate: number) => `${Number((rate * 100).toPrecision(3))} %`;

/**
 * The plan's error control, applied: in `family` mode the plan's signals (or, when it lists none,
 * every signal judged) share 5 % equally. A split fixed by the plan holds however often the report
 * is read, since each signal's anytime-valid interval holds at its share.
 */
function errorControl(plan: ReportPlan, planned: number, outside: number, judged: number): ErrorControlReport {
  const familySize = planned || judged;
  const family = plan.errorControl === 'family' && familySize > 1;
  const perSignal = family ? ALPHA / familySize : ALPHA;
  const statement = family
    ? `The plan's ${familySize} signals share a 5 % error rate: each is judged at ${formatLevel(perSignal)}, so the chance that any of them is ever called ` +
      `associated while it has no association is at most 5 %, however often the report is read.` +
      (planned && outside ? ` The ${outside} event${outside === 1 ? '' : 's'} outside the plan ${outside === 1 ? 'is' : 'are'} judged at the same level, outside that 5 %.` : '') +
      (planned ? '' : ' The plan lists no signals, so the family is every event judged today; list them in the plan to fix it in advance.')
    : `Each signal is judged at 5 % on its own: one with no association is called associated at some read with a chance of at most 5 %, ` +
      `however often the report is read.` +
      (judged > 1
        ? ` Across the ${judged} signals judged, the chance that at least one with no association is called is up to ${Math.min(100, judged * 5)} %. ` +
          `Set "errorControl": "family" in the plan to hold it at 5 % for the plan as a whole.`
        : '');
  return { mode: plan.errorControl, alpha: ALPHA, family_size: familySize, per_signal_alpha: perSignal, statement };
}

function verdictText(c: Comparison, practical: boolean): string {
  if (c.sessionsWith === 0) return 'not enough data yet: no session has had it before converting';
  if (c.sessionsWithout === 0) return 'not enough data yet: every session had it, so there is nothing to compare it with';
  const d = c.difference!;
  const interval = `${formatPoints(d.low)} to ${formatPoints(d.high)} points`;
  if (c.verdict !== 'unclear') {
    return `associated with ${c.verdict} conversion: ${formatPoints(d.estimate)} points (anytime-valid interval ${interval})`;
  }
  if (practical && c.moreSessionsToSettle !== null && c.sessionsToSettle !== null) {
    return (
      `not enough data yet: the anytime-valid interval (${interval}) still includes no difference. If the ${formatPoints(d.estimate)} points seen so far ` +
      `are real, about ${formatCount(c.moreSessionsToSettle)} more sessions (${formatCount(c.sessionsToSettle)} in all, at today's mix) would give an 80 % chance of settling it`
    );
  }
  return (
    `not enough data yet, and no sign of a difference: the anytime-valid interval (${interval}) includes zero, and the difference seen so far ` +
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


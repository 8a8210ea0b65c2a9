import { checkPlan, planSignals } from './plan';
import { mulberry32 } from './prng';
import { DEMO_MODEL, drawSession, exactTruth, modelPlan, visible, type TrafficModel } from './simulate';
import { ALPHA, anytimeDifference, newcombeDifference, verdictOf, Z95, type Estimate, type VerdictKind } from './stats';

/**
 * The report read the way teams read it: traffic arriving week by week and the verdicts read after
 * each week, on the same accumulating data. Pure count-level simulation (sessions drawn from a model,
 * 2×2 tables kept as running counts; no events, no HTTP, no SQL), so hundreds of runs take seconds.
 * Each signal is judged three times at every look, on the same sessions: by the old rule (the
 * fixed-horizon Newcombe 95 % interval excludes zero), and by the report's verdict (the
 * anytime-valid interval excludes zero, as in `compare`) under each error control: each signal at
 * 5 %, or a family of `familySize` signals sharing 5 %.
 */
export interface LooksScenario {
  model: TrafficModel;
  sessionsPerLook: number;
  looks: number;
  runs: number;
  seed: number;
  /** The plan size for the family rule: each signal judged at 5 % / `familySize`. */
  familySize: number;
  /** Signals with no association at all: counted together for "any of them called at some look". */
  nullSignals?: string[];
}

/** How one rule did for one signal, counted over the runs. */
export interface RuleTally {
  /** Runs in which the signal was called (more or less) at one look or more. */
  calledAnyLook: number;
  /** Runs in which it was called at the last look. */
  calledLastLook: number;
  /** Runs in which it was called in its true direction at one look or more (0 for a null signal). */
  rightAnyLook: number;
  /** Runs in which it was called against its true direction (or at all, for a null signal) at one look or more. */
  wrongAnyLook: number;
  /** Runs whose last-look interval covered the exact true difference. */
  finalCovered: number;
}

/** The old verdict, and the report's under each error control. */
export type Rule = 'old' | 'perSignal' | 'family';
const RULES: Rule[] = ['old', 'perSignal', 'family'];

export interface SignalLooks extends Record<Rule, RuleTally> {
  signal: string;
  /** The exact true difference (`exactTruth`), what every interval estimates. */
  truth: number;
}

export interface LooksResult {
  scenario: LooksScenario;
  signals: SignalLooks[];
  /** Runs in which any of `nullSignals` was called at some look, by each rule. */
  anyNullCalled: Record<Rule, number>;
}

const emptyTally = (): RuleTally => ({ calledAnyLook: 0, calledLastLook: 0, rightAnyLook: 0, wrongAnyLook: 0, finalCovered: 0 });

/** The 2×2 table of every signal, kept as running counts over the visible sessions drawn so far. */
interface RunningCounts {
  withCount: number[];
  convertedWith: number[];
  total: number;
  converted: number;
}

function addSessions(model: TrafficModel, counts: RunningCounts, sessions: number, random: ReturnType<typeof mulberry32>): void {
  for (let n = 0; n < sessions; n++) {
    const session = drawSession(model, random);
    if (!visible(session)) continue;
    counts.total++;
    if (session.converted) counts.converted++;
    session.has.forEach((has, i) => {
      if (!has) return;
      counts.withCount[i]!++;
      if (session.converted) counts.convertedWith[i]!++;
    });
  }
}

/** Every rule's interval and verdict for signal `i` on the counts so far. */
function judge(counts: RunningCounts, i: number, familySize: number): Record<Rule, { interval: Estimate | null; verdict: VerdictKind }> {
  const [x1, n1] = [counts.convertedWith[i]!, counts.withCount[i]!];
  const [x0, n0] = [counts.converted - x1, counts.total - n1];
  // The report's verdict is `verdictOf(anytimeDifference(...))` (see `compare`); the rest of `compare` is not needed here.
  const judged = (interval: Estimate | null) => ({ interval, verdict: verdictOf(interval) });
  return {
    old: judged(newcombeDifference(x1, n1, x0, n0, Z95)),
    perSignal: judged(anytimeDifference(x1, n1, x0, n0, ALPHA)),
    family: judged(anytimeDifference(x1, n1, x0, n0, ALPHA / familySize)),
  };
}

/** What one run did to one signal under one rule. */
interface RunOutcome {
  called: boolean;
  calledLast: boolean;
  right: boolean;
  wrong: boolean;
  covered: boolean;
}

/** One stream of `looks × sessionsPerLook` sessions, read after every look. */
function runOnce(scenario: LooksScenario, truth: number[], isNull: boolean[], seed: number): Record<Rule, RunOutcome[]> {
  const { model, sessionsPerLook, looks, familySize } = scenario;
  const k = model.signals.length;
  const random = mulberry32(seed);
  const counts: RunningCounts = { withCount: new Array(k).fill(0), convertedWith: new Array(k).fill(0), total: 0, converted: 0 };
  const blank = (): RunOutcome[] => Array.from({ length: k }, () => ({ called: false, calledLast: false, right: false, wrong: false, covered: false }));
  const outcomes: Record<Rule, RunOutcome[]> = { old: blank(), perSignal: blank(), family: blank() };
  for (let look = 1; look <= looks; look++) {
    addSessions(model, counts, sessionsPerLook, random);
    for (let i = 0; i < k; i++) {
      const judged = judge(counts, i, familySize);
      for (const rule of RULES) {
        const { interval, verdict } = judged[rule];
        const outcome = outcomes[rule][i]!;
        if (verdict !== 'unclear') {
          const right = !isNull[i] && verdict === (truth[i]! > 0 ? 'more' : 'less');
          outcome.called = true;
          if (right) outcome.right = true;
          else outcome.wrong = true;
        }
        if (look === looks) {
          outcome.calledLast = verdict !== 'unclear';
          outcome.covered = interval !== null && interval.low <= truth[i]! && truth[i]! <= interval.high;
        }
      }
    }
  }
  return outcomes;
}

/** Runs the scenario: `runs` independent streams (seeds `seed`, `seed + 1`, ...), each read after every look. */
export function simulateLooks(scenario: LooksScenario): LooksResult {
  const truth = exactTruth(scenario.model).signals;
  const nullSet = new Set(scenario.nullSignals ?? []);
  const isNull = truth.map((entry) => nullSet.has(entry.signal));
  const signals: SignalLooks[] = truth.map((entry) => ({ signal: entry.signal, truth: entry.difference, old: emptyTally(), perSignal: emptyTally(), family: emptyTally() }));
  const anyNullCalled: Record<Rule, number> = { old: 0, perSignal: 0, family: 0 };
  for (let run = 0; run < scenario.runs; run++) {
    const outcomes = runOnce(scenario, signals.map((entry) => entry.truth), isNull, scenario.seed + run);
    for (const rule of RULES) {
      outcomes[rule].forEach((outcome, i) => {
        const tally = signals[i]![rule];
        tally.calledAnyLook += Number(outcome.called);
        tally.calledLastLook += Number(outcome.calledLast);
        tally.rightAnyLook += Number(outcome.right);
        tally.wrongAnyLook += Number(outcome.wrong);
        tally.finalCovered += Number(outcome.covered);
      });
      if (outcomes[rule].some((outcome, i) => isNull[i] && outcome.called)) anyNullCalled[rule]++;
    }
  }
  return { scenario, signals, anyNullCalled };
}

/** The scenarios of the honesty table: a small site's traffic, read every week for two months. */
export const SESSIONS_PER_WEEK = 2000;
export const WEEKS = 8;
/** The plan size the family figures assume: the top of the five to eight signals a plan should hold. */
export const FAMILY_SIZE = 8;

/** Every session sends `page_view`, so sessions with none of the signals are seen, as on a real site. */
const PAGE_VIEW = { name: 'page_view', stage: null, probability: 1, oddsRatio: 1 } as const;
const oddsRatio = (rateWith: number, rateWithout: number) => rateWith / (1 - rateWith) / (rateWithout / (1 - rateWithout));

/**
 * A 2-point lift on a 5 % base: sessions with `pricing_view` (30 % of them) convert at exactly 7 %,
 * the others at 5 %; `newsletter_click` (30 %) has no association with conversion at all.
 */
export const LIFT_MODEL: TrafficModel = {
  baseline: 0.05,
  signals: [
    PAGE_VIEW,
    { name: 'pricing_view', stage: 'consideration', probability: 0.3, oddsRatio: oddsRatio(0.07, 0.05) },
    { name: 'newsletter_click', stage: 'engagement', probability: 0.3, oddsRatio: 1 },
  ],
  macro: [{ name: 'generate_lead', weight: 1 }],
  afterConversion: 0,
};

/** A plan of eight signals, none associated with conversion (5 % base), from rare (10 %) to common (80 %). */
export const NULL_PLAN_MODEL: TrafficModel = {
  baseline: 0.05,
  signals: [PAGE_VIEW, ...[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((probability, index) => ({ name: `null_${index + 1}`, stage: 'intent' as const, probability, oddsRatio: 1 }))],
  macro: [{ name: 'generate_lead', weight: 1 }],
  afterConversion: 0,
};

/** A share, with its parts. */
export interface Fraction {
  count: number;
  total: number;
}

/** One line of the honesty table: a figure for the old verdict and for the new one under each error control. */
export interface HonestyRow extends Record<Rule, Fraction> {
  figure: string;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/**
 * The three figures of issue 14 (and the same for a plan of eight null signals and the demo traffic),
 * for the old verdict (the fixed-horizon interval, read weekly) and the new one (anytime-valid), with
 * `runs` seeded runs of `WEEKS` looks each. The same seed always gives the same table.
 */
export function honestyTable(runs: number, seed = 1): HonestyRow[] {
  const looks = (model: TrafficModel, nullSignals: string[], familySize: number, sessionsPerLook: number, offset: number) =>
    simulateLooks({ model, sessionsPerLook, looks: WEEKS, runs, seed: seed + offset, familySize, nullSignals });
  const lift = looks(LIFT_MODEL, ['newsletter_click'], FAMILY_SIZE, SESSIONS_PER_WEEK, 0);
  const nullNames = NULL_PLAN_MODEL.signals.slice(1).map((signal) => signal.name);
  const nullPlan = looks(NULL_PLAN_MODEL, nullNames, nullNames.length, SESSIONS_PER_WEEK, 100_000);
  const demoNulls = ['scroll_depth', 'download_click', 'web_vitals'];
  const demo = looks(DEMO_MODEL, demoNulls, planSignals(checkPlan(modelPlan(DEMO_MODEL))).length, 375, 200_000);

  const row = (figure: string, result: LooksResult, names: string[], pick: (tally: RuleTally) => number): HonestyRow => {
    const entries = result.signals.filter((entry) => names.includes(entry.signal));
    const fraction = (rule: Rule): Fraction => ({ count: sum(entries.map((entry) => pick(entry[rule]))), total: entries.length * runs });
    return { figure, old: fraction('old'), perSignal: fraction('perSignal'), family: fraction('family') };
  };
  const anyNull = (figure: string, result: LooksResult): HonestyRow => ({
    figure,
    ...(Object.fromEntries(RULES.map((rule) => [rule, { count: result.anyNullCalled[rule], total: runs }])) as Record<Rule, Fraction>),
  });
  return [
    row('a signal with no association called associated at some look', lift, ['newsletter_click'], (tally) => tally.calledAnyLook),
    row("the last look's interval covers the true difference", lift, ['pricing_view', 'newsletter_click'], (tally) => tally.finalCovered),
    row('a real 2-point lift (7 % vs 5 %) called "more" at some look', lift, ['pricing_view'], (tally) => tally.rightAnyLook),
    row('... the same lift called "less" at some look', lift, ['pricing_view'], (tally) => tally.wrongAnyLook),
    anyNull(`a plan of ${nullNames.length} signals with no association: any called at some look`, nullPlan),
    row("demo traffic in 8 parts of 375 (issue 14's setting): its 3 signals with no effect called at some look", demo, demoNulls, (tally) => tally.calledAnyLook),
    row("demo traffic: the last look's interval covers the true difference, 10 signals", demo, DEMO_MODEL.signals.map((signal) => signal.name), (tally) => tally.finalCovered),
  ];
}

/** A rare signal with no association: `share` of sessions have it, everyone converts at `base`. */
function rareModel(share: number, base: number): TrafficModel {
  return {
    baseline: base,
    signals: [PAGE_VIEW, { name: 'rare', stage: 'intent', probability: share, oddsRatio: 1 }],
    macro: [{ name: 'generate_lead', weight: 1 }],
    afterConversion: 0,
  };
}

/** The small-count scenarios: rare signals, low rates, read far more often than weekly. */
export const SMALL_COUNT_SCENARIOS = [
  { share: 0.05, base: 0.02, every: 25, sessions: 4000 },
  { share: 0.02, base: 0.01, every: 100, sessions: 50_000 },
  { share: 0.01, base: 0.05, every: 100, sessions: 50_000 },
] as const;

/**
 * Small counts, read often: for each scenario, the runs in which a rare signal with no association
 * was called at some read, by the old verdict and by the new one (each signal at 5 %), and how often
 * the last interval covered the truth. Where a Wilson-based interval fails far out in the tails,
 * the likelihood-ratio pieces hold.
 */
export function smallCountTable(runs: number, seed = 1): HonestyRow[] {
  return SMALL_COUNT_SCENARIOS.flatMap(({ share, base, every, sessions }, index) => {
    const result = simulateLooks({ model: rareModel(share, base), sessionsPerLook: every, looks: sessions / every, runs, seed: seed + 1_000_000 * (index + 1), familySize: FAMILY_SIZE, nullSignals: ['rare'] });
    const rare = result.signals.find((entry) => entry.signal === 'rare')!;
    const label = `${share * 100} % of sessions, ${base * 100} % base, read every ${every} sessions to ${sessions.toLocaleString('en-US')}`;
    const fraction = (pick: (tally: RuleTally) => number) =>
      Object.fromEntries(RULES.map((rule) => [rule, { count: pick(rare[rule]), total: runs }])) as Record<Rule, Fraction>;
    return [
      { figure: `${label}: called at some read`, ...fraction((tally) => tally.calledAnyLook) },
      { figure: `${label}: last interval covers the truth`, ...fraction((tally) => tally.finalCovered) },
    ];
  });
}

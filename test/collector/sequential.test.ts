// @vitest-environment node
/**
 * Honest when read every week (issue 14). Seeded count-level simulations of traffic arriving in
 * weekly parts, the report read after each part, as teams read it and as the forwarding gate acts:
 * - a signal with no association is called associated at some look in at most 5 % of runs;
 * - the last look's interval covers the exact true difference at least 95 % of the time;
 * - a real 2-point lift on a 5 % base is found at a stated rate;
 * - with a plan of 8 signals, "family" error control keeps the chance of any false call under 5 %;
 * - the verdict stays honest at small counts (rare signal, low base rate, many looks);
 * - "sessions to settle" means what it says.
 * The old verdict (the fixed-horizon interval) is run on the same sessions, to show what changed.
 * `npm run honesty` prints the same table with 1,000 runs.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { mulberry32 } from '../../collector/prng';
import { DEMO_MODEL, drawSession, exactTruth, tally, type TrafficModel } from '../../collector/simulate';
import { compare, sessionsToSettle } from '../../collector/stats';
import { honestyTable, simulateLooks, type HonestyRow, type Fraction } from '../../collector/weekly-looks';

const share = ({ count, total }: Fraction) => count / total;
const percent = (fraction: Fraction) => `${(100 * share(fraction)).toFixed(1)} % (${fraction.count}/${fraction.total})`;

describe('200 runs of 8 weekly looks of 2,000 sessions (the table of npm run honesty)', () => {
  const RUNS = 200;
  let rows: HonestyRow[];
  const row = (start: string) => rows.find((entry) => entry.figure.startsWith(start))!;

  beforeAll(() => {
    const began = performance.now();
    rows = honestyTable(RUNS);
    console.log(
      [`figure | old: fixed-horizon 95 %, read weekly | new, each signal at 5 % | new, the plan's signals sharing 5 %`]
        .concat(rows.map((entry) => `${entry.figure} | ${percent(entry.old)} | ${percent(entry.perSignal)} | ${percent(entry.family)}`))
        .join('\n') + `\n${(performance.now() - began).toFixed(0)} ms`,
    );
  }, 240_000);

  test('the old verdict, read weekly, calls a signal with no association at some look far more often than 5 % (the defect)', () => {
    expect(share(row('a signal with no association').old)).toBeGreaterThan(0.1);
    expect(share(row('demo traffic in 8 parts').old)).toBeGreaterThan(0.1);
  });

  test('the new verdict calls a signal with no association at some look in at most 5 % of runs', () => {
    for (const figure of ['a signal with no association', 'demo traffic in 8 parts']) {
      expect(share(row(figure).perSignal)).toBeLessThanOrEqual(0.05);
      expect(share(row(figure).family)).toBeLessThanOrEqual(0.05);
    }
  });

  test("the last look's interval covers the true difference at least 95 % of the time", () => {
    for (const figure of ["the last look's interval", 'demo traffic: the last look']) {
      expect(share(row(figure).perSignal)).toBeGreaterThanOrEqual(0.95);
      expect(share(row(figure).family)).toBeGreaterThanOrEqual(0.95);
    }
  });

  test('a real 2-point lift on a 5 % base (30 % of sessions have it) is found by the 8th week, never the wrong way', () => {
    // Measured: 97.5 % each signal at 5 %, 90.5 % sharing 5 % across a plan of 8 (100 % for the old verdict,
    // which pays for it with the false calls above).
    expect(share(row('a real 2-point lift').perSignal)).toBeGreaterThanOrEqual(0.9);
    expect(share(row('a real 2-point lift').family)).toBeGreaterThanOrEqual(0.8);
    expect(row('... the same lift called "less"').perSignal.count).toBe(0);
    expect(row('... the same lift called "less"').family.count).toBe(0);
  });

  test('a plan of 8 signals with no association: family error control keeps any false call under 5 %', () => {
    const plan = row('a plan of 8 signals');
    expect(share(plan.family)).toBeLessThanOrEqual(0.05);
    // Each signal at 5 % leaves the plan as a whole exposed: more than family control, at most 8 × 5 %.
    expect(plan.perSignal.count).toBeGreaterThan(plan.family.count);
    expect(share(plan.perSignal)).toBeLessThanOrEqual(0.4);
  });
});

test('small counts: a rare signal (5 % of sessions) on a 2 % base, read every 100 sessions for 40 looks', () => {
  const RARE: TrafficModel = {
    baseline: 0.02,
    signals: [
      { name: 'page_view', stage: null, probability: 1, oddsRatio: 1 },
      { name: 'rare', stage: 'intent', probability: 0.05, oddsRatio: 1 },
    ],
    macro: [{ name: 'generate_lead', weight: 1 }],
    afterConversion: 0,
  };
  const RUNS = 400;
  const result = simulateLooks({ model: RARE, sessionsPerLook: 100, looks: 40, runs: RUNS, seed: 300_000, familySize: 8, nullSignals: ['rare'] });
  const rare = result.signals.find((entry) => entry.signal === 'rare')!;
  console.log(`rare null signal, 40 looks of 100 sessions: called at some look, old ${rare.old.calledAnyLook}/${RUNS}, new ${rare.perSignal.calledAnyLook}/${RUNS}`);
  // At the first looks the signal has a handful of sessions and often no conversion at all.
  expect(rare.old.calledAnyLook / RUNS).toBeGreaterThan(0.05);
  expect(rare.perSignal.calledAnyLook / RUNS).toBeLessThanOrEqual(0.05);
  expect(rare.perSignal.finalCovered / RUNS).toBeGreaterThanOrEqual(0.95);
}, 120_000);

describe('"sessions to settle" delivers what it says', () => {
  const truth = exactTruth(DEMO_MODEL);
  const RUNS = 400;
  const drawTables = (seed: number, sessions: number) => {
    const random = mulberry32(seed);
    return tally(DEMO_MODEL, Array.from({ length: sessions }, () => drawSession(DEMO_MODEL, random)));
  };

  for (const [name, alpha, label] of [
    ['cta_click', 0.05, 'at 5 %'],
    ['form_abandon', 0.05, 'at 5 %'],
    ['cta_click', 0.05 / 7, "sharing 5 % with the demo plan's 7 signals"],
  ] as const) {
    test(`${name} ${label}: read once there, the verdict settles about 80 % of the time; read weekly on the way, at least as often`, () => {
      const signal = truth.signals.find((entry) => entry.signal === name)!;
      const sessions = sessionsToSettle(signal.rateWith, signal.rateWithout, signal.share, alpha)!;
      const direction = signal.difference > 0 ? 'more' : 'less';
      let settled = 0;
      for (let run = 0; run < RUNS; run++) {
        const row = drawTables(400_000 + run, sessions).find((entry) => entry.signal === name)!;
        if (compare(row.convertedWith, row.sessionsWith, row.convertedWithout, row.sessionsWithout, alpha).verdict === direction) settled++;
      }
      const weekly = simulateLooks({ model: DEMO_MODEL, sessionsPerLook: Math.ceil(sessions / 8), looks: 8, runs: RUNS, seed: 500_000, familySize: Math.round(0.05 / alpha) });
      const rule = alpha === 0.05 ? 'perSignal' : 'family';
      const weeklySettled = weekly.signals.find((entry) => entry.signal === name)![rule].rightAnyLook;
      console.log(`${name} ${label}: ${sessions} sessions; settled when read once there ${settled}/${RUNS}, by 8 weekly reads ${weeklySettled}/${RUNS}`);
      // 400 runs: a standard error of 2 points around 80 %.
      expect(settled / RUNS).toBeGreaterThan(0.72);
      expect(settled / RUNS).toBeLessThan(0.88);
      expect(weeklySettled / RUNS).toBeGreaterThanOrEqual(0.75);
    }, 120_000);
  }
});

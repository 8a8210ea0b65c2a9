// @vitest-environment node
import { describe, expect, test } from 'vitest';
import {
  anytimeDifference,
  anytimeMultiplier,
  compare,
  katzRatio,
  likelihoodRatioRate,
  MIXTURE_SESSIONS,
  mixtureTuning,
  newcombeDifference,
  sessionsForPower,
  sessionsToSettle,
  wilson,
  Z95,
} from '../../collector/stats';

// Every expected value below is worked by hand in the comment next to it (z = 1.959964, z² = 3.841459),
// and where a published table has the same case, the table agrees: Newcombe (1998), Statistics in
// Medicine 17:873–890, table II, method 10.
const close = (actual: number | undefined, expected: number, digits = 4) => expect(actual).toBeCloseTo(expected, digits);

describe('wilson', () => {
  test('1 of 10', () => {
    // centre = 1 + z²/2 = 2.920729; half = z·sqrt(1·9/10 + z²/4) = 1.959964·sqrt(1.860365) = 2.673297;
    // n + z² = 13.841459 → low = 0.247432 / 13.841459 = 0.017876, high = 5.594026 / 13.841459 = 0.404150
    const interval = wilson(1, 10)!;
    close(interval.estimate, 0.1, 10);
    close(interval.low, 0.017876);
    close(interval.high, 0.40415);
  });

  test('0 of 10 and 10 of 10 (zero cells): bounds at exactly 0 and 1', () => {
    // x = 0: half = z·sqrt(z²/4) = z²/2, so low = 0 and high = z² / (n + z²) = 3.841459 / 13.841459 = 0.277533
    expect(wilson(0, 10)).toEqual({ estimate: 0, low: 0, high: expect.closeTo(0.277533, 5) });
    // x = n mirrors it: low = 10 / 13.841459 = 0.722467
    expect(wilson(10, 10)).toEqual({ estimate: 1, low: expect.closeTo(0.722467, 5), high: 1 });
  });

  test('no trials: no rate', () => {
    expect(wilson(0, 0)).toBeNull();
  });

  test('refuses impossible counts', () => {
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
    expect(() => wilson(0.5, 2)).toThrow(RangeError);
  });
});

describe('newcombeDifference (hybrid score, method 10)', () => {
  test('56/70 − 48/80: Newcombe 1998, example (a): 0.0524 to 0.3339', () => {
    // Wilson 56/70: centre 57.920729, half z·sqrt(11.2 + 0.960365) = 6.834732, over 73.841459 → [0.691831, 0.876953]
    // Wilson 48/80: centre 49.920729, half z·sqrt(19.2 + 0.960365) = 8.800300, over 83.841459 → [0.490454, 0.700383]
    // low  = 0.2 − sqrt((0.8 − 0.691831)² + (0.700383 − 0.6)²) = 0.2 − sqrt(0.011700 + 0.010077) = 0.052428
    // high = 0.2 + sqrt((0.876953 − 0.8)² + (0.6 − 0.490454)²) = 0.2 + sqrt(0.005922 + 0.012000) = 0.333873
    const d = newcombeDifference(56, 70, 48, 80)!;
    close(d.estimate, 0.2, 10);
    close(d.low, 0.052428);
    close(d.high, 0.333873);
  });

  test('9/10 − 3/10: Newcombe example (b): 0.1705 to 0.8090', () => {
    const d = newcombeDifference(9, 10, 3, 10)!;
    close(d.low, 0.1705, 4);
    close(d.high, 0.809, 4);
  });

  test('zero cells: 5/56 − 0/29 → −0.0381 to 0.1926; 0/10 − 0/20 → −0.1611 to 0.2775; 10/10 − 0/20 → 0.6791 to 1', () => {
    // 0/10 − 0/20: d = 0; low = −(upper Wilson of 0/20) = −3.841459/23.841459 = −0.161123;
    //              high = upper Wilson of 0/10 = 0.277533
    const both = newcombeDifference(0, 10, 0, 20)!;
    close(both.low, -0.161123, 5);
    close(both.high, 0.277533, 5);
    const one = newcombeDifference(5, 56, 0, 29)!;
    close(one.low, -0.0381, 4);
    close(one.high, 0.1926, 4);
    // 10/10 − 0/20: low = 1 − sqrt((1 − 0.722467)² + 0.161123²) = 1 − sqrt(0.077025 + 0.025961) = 0.679086; high = 1
    const extreme = newcombeDifference(10, 10, 0, 20)!;
    close(extreme.low, 0.679086, 5);
    close(extreme.high, 1, 10);
  });

  test('an empty group: nothing to compare', () => {
    expect(newcombeDifference(0, 0, 3, 10)).toBeNull();
    expect(newcombeDifference(3, 10, 0, 0)).toBeNull();
  });
});

describe('katzRatio (log method)', () => {
  test('10/100 over 5/100', () => {
    // RR = 0.1 / 0.05 = 2; se(ln RR) = sqrt(1/10 − 1/100 + 1/5 − 1/100) = sqrt(0.28) = 0.529150;
    // z·se = 1.037118 → low = 2·e^−1.037118 = 0.708951, high = 2·e^1.037118 = 5.642136
    const r = katzRatio(10, 100, 5, 100)!;
    expect(r.corrected).toBe(false);
    close(r.estimate, 2, 10);
    close(r.low, 0.708951);
    close(r.high, 5.642136);
  });

  test('a zero cell: 0.5 added to every cell', () => {
    // 0/20 vs 5/20 → a = 0.5 of 21, c = 5.5 of 21: RR = 0.5/5.5 = 0.090909;
    // se = sqrt(1/0.5 − 1/21 + 1/5.5 − 1/21) = sqrt(2.086580) = 1.444500; z·se = 2.831168
    // low = 0.090909·e^−2.831168 = 0.0053585, high = 0.090909·e^2.831168 = 1.542297
    const r = katzRatio(0, 20, 5, 20)!;
    expect(r.corrected).toBe(true);
    close(r.estimate, 0.090909, 6);
    close(r.low, 0.0053585, 6);
    close(r.high, 1.542297, 5);
  });

  test('no conversions anywhere, or an empty group: no ratio', () => {
    expect(katzRatio(0, 20, 0, 30)).toBeNull();
    expect(katzRatio(0, 0, 3, 30)).toBeNull();
  });
});

describe('sessionsForPower', () => {
  test('10 % vs 5 %, half the sessions with the signal: 869 in all (435 a group, as the tables say)', () => {
    // pooled = 0.075; null sd = sqrt(0.075·0.925·(2 + 2)) = 0.526783; alternative sd = sqrt(0.09/0.5 + 0.0475/0.5) = 0.524404
    // n = ((1.959964·0.526783 + 0.841621·0.524404) / 0.05)² = (1.473826 / 0.05)² = 868.87 → 869
    expect(sessionsForPower(0.1, 0.05, 0.5)).toBe(869);
  });

  test('no difference, or nobody in a group: no answer', () => {
    expect(sessionsForPower(0.1, 0.1, 0.5)).toBeNull();
    expect(sessionsForPower(0.1, 0.05, 0)).toBeNull();
    expect(sessionsForPower(0.1, 0.05, 1)).toBeNull();
  });
});

describe('the anytime-valid boundary (normal mixture)', () => {
  test('tuned at 5,000 sessions: u = 8.211968 solves log(1 + u) − u = 2·log(0.05), so ρ = 5000 / u = 608.867', () => {
    // log(9.211968) − 8.211968 = 2.220504 − 8.211968 = −5.991465 = 2·log(0.05)
    close(mixtureTuning(0.05), 8.211968, 5);
    close(Math.log(1 + mixtureTuning(0.05)) - mixtureTuning(0.05), 2 * Math.log(0.05), 10);
    close(MIXTURE_SESSIONS, 608.86744, 4);
  });

  test('its multiplier: 11.34 at 30 sessions, 3.035 at 5,000 (its lowest), 3.342 at 100,000', () => {
    // t = 30: (1 + 608.867/30)·(log(1 + 30/608.867) + 2·log 20) = 21.295581 · (0.048096 + 5.991465) = 128.6160 → 11.34090
    close(anytimeMultiplier(30), 11.340898, 5);
    // t = 5000: (1 + 1/8.211968)·(log(9.211968) + 5.991465) = 1.121773 · 8.211968 = 9.211968 → 3.035122
    close(anytimeMultiplier(5000), 3.035122, 5);
    close(anytimeMultiplier(100_000), 3.341622, 5);
    // Lowest at the tuning point, for the 5 % level.
    expect(anytimeMultiplier(4000)).toBeGreaterThan(anytimeMultiplier(5000));
    expect(anytimeMultiplier(6000)).toBeGreaterThan(anytimeMultiplier(5000));
    // Always wider than the fixed 1.96, and wider at a smaller per-signal level.
    for (const t of [1, 100, 5000, 1e6, 1e9]) expect(anytimeMultiplier(t)).toBeGreaterThan(Z95);
    expect(anytimeMultiplier(5000, 0.05 / 7)).toBeGreaterThan(anytimeMultiplier(5000));
  });
});

describe('likelihoodRatioRate', () => {
  test('0 of n and n of n: solved exactly, 1 − e^(−z²/2n) and e^(−z²/2n)', () => {
    // deviance at 0 of n is −2n·log(1 − p): z = 3, n = 10 → 1 − e^(−0.45) = 0.362372
    expect(likelihoodRatioRate(0, 10, 3)).toEqual({ estimate: 0, low: 0, high: expect.closeTo(0.362372, 6) });
    expect(likelihoodRatioRate(10, 10, 3)).toEqual({ estimate: 1, low: expect.closeTo(0.637628, 6), high: 1 });
  });

  test('5 of 44 at z = 4.4: the deviance is z² at both bounds; the lower bound near the exact binomial one, far from Wilson', () => {
    const interval = likelihoodRatioRate(5, 44, 4.4)!;
    const deviance = (p: number) => 2 * (5 * Math.log(5 / 44 / p) + 39 * Math.log(39 / 44 / (1 - p)));
    close(deviance(interval.low), 4.4 ** 2, 8);
    close(deviance(interval.high), 4.4 ** 2, 8);
    // The exact one-sided binomial bound at Φ(−4.4) = 5.41e-6 is 0.005696 (summing the binomial tail);
    // an independent bisection of the deviance gives 0.0067457; Wilson's 0.0202.
    close(interval.low, 0.0067457, 6);
    expect(wilson(5, 44, 4.4)!.low).toBeGreaterThan(0.02);
  });

  test('at large counts it agrees with Wilson', () => {
    const lr = likelihoodRatioRate(500, 1000, Z95)!;
    const score = wilson(500, 1000)!;
    close(lr.low, score.low, 3);
    close(lr.high, score.high, 3);
  });

  test('no trials: no rate; impossible counts refused', () => {
    expect(likelihoodRatioRate(0, 0, 3)).toBeNull();
    expect(() => likelihoodRatioRate(3, 2, 3)).toThrow(RangeError);
  });
});

describe('anytimeDifference', () => {
  test('0/10 − 0/20 after 30 sessions: −0.959861 to 0.998389', () => {
    // z = 11.340898, z² = 128.615962: upper of 0/10 = 1 − e^(−6.430798) = 0.998389; of 0/20 = 1 − e^(−3.215399) = 0.959861
    const d = anytimeDifference(0, 10, 0, 20)!;
    close(d.low, -0.959861, 6);
    close(d.high, 0.998389, 6);
  });

  test("56/70 − 48/80 (Newcombe's example): 0.052 to 0.334 for one look, −0.214 to 0.547 read any number of times", () => {
    // z = 5.605860 after 150 sessions; likelihood-ratio bounds (independent bisection): 56/70 → [0.474657, 0.969861],
    // 48/80 → [0.296966, 0.856459]; low = 0.2 − hypot(0.8 − 0.474657, 0.856459 − 0.6) = −0.214270,
    // high = 0.2 + hypot(0.969861 − 0.8, 0.6 − 0.296966) = 0.547394
    const d = anytimeDifference(56, 70, 48, 80)!;
    close(d.estimate, 0.2, 10);
    close(d.low, -0.21427, 5);
    close(d.high, 0.547394, 5);
  });

  test('an empty group: nothing to compare', () => {
    expect(anytimeDifference(0, 0, 3, 10)).toBeNull();
  });
});

describe('sessionsToSettle', () => {
  test('needs more sessions than one pre-planned look, and more again at a smaller per-signal level', () => {
    const once = sessionsForPower(0.07, 0.05, 0.3)!;
    const anytime = sessionsToSettle(0.07, 0.05, 0.3)!;
    expect(anytime).toBeGreaterThan(once);
    expect(sessionsToSettle(0.07, 0.05, 0.3, 0.05 / 8)!).toBeGreaterThan(anytime);
    // The same for a signal that lowers conversion.
    expect(sessionsToSettle(0.03, 0.05, 0.3)!).toBeGreaterThan(sessionsForPower(0.03, 0.05, 0.3)!);
  });

  test('no difference, or nobody in a group: no answer; a difference too small for any traffic: the cap', () => {
    expect(sessionsToSettle(0.1, 0.1, 0.5)).toBeNull();
    expect(sessionsToSettle(0.1, 0.05, 0)).toBeNull();
    expect(sessionsToSettle(0.1, 0.05, 1)).toBeNull();
    expect(sessionsToSettle(0.5, 0.5 + 1e-9, 0.5)).toBe(1e15);
  });
});

describe('compare', () => {
  test('verdicts follow the anytime-valid interval, not the fixed-horizon one', () => {
    // Newcombe's example settles at one pre-planned look, not when it may be read at any time.
    const example = compare(56, 70, 48, 80);
    expect(example.differenceFixedHorizon!.low).toBeGreaterThan(0);
    expect(example.verdict).toBe('unclear');
    expect(compare(560, 700, 480, 800).verdict).toBe('more');
    expect(compare(480, 800, 560, 700).verdict).toBe('less');
    expect(compare(5, 56, 0, 29).verdict).toBe('unclear');
  });

  test('the per-signal level widens the interval', () => {
    const alone = compare(560, 700, 480, 800);
    const shared = compare(560, 700, 480, 800, 0.05 / 8);
    expect(shared.alpha).toBe(0.05 / 8);
    expect(shared.difference!.low).toBeLessThan(alone.difference!.low);
    expect(shared.difference!.high).toBeGreaterThan(alone.difference!.high);
  });

  test('an unclear verdict says how many more sessions would settle it, and would give 80 % power at one look', () => {
    // 12/100 vs 8/100, 200 sessions now. pooled 0.1: null sd = sqrt(0.09·4) = 0.6; alternative sd =
    // sqrt(0.1056/0.5 + 0.0736/0.5) = 0.598665; n = ((1.175978 + 0.503849) / 0.04)² = 1763.64 → 1,764 in all.
    const c = compare(12, 100, 8, 100);
    expect(c.verdict).toBe('unclear');
    expect(c.sessionsForPower).toBe(1764);
    expect(c.moreSessions).toBe(c.sessionsForPower! - 200);
    expect(c.sessionsToSettle).toBe(sessionsToSettle(0.12, 0.08, 0.5));
    expect(c.moreSessionsToSettle).toBe(c.sessionsToSettle! - 200);
  });

  test('uses the 95 % quantile', () => {
    close(Z95, 1.959964, 6);
  });
});

// @vitest-environment node
import { describe, expect, test } from 'vitest';
import { compare, katzRatio, newcombeDifference, sessionsForPower, wilson, Z95 } from '../../collector/stats';

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

describe('compare', () => {
  test('verdicts follow the difference interval', () => {
    expect(compare(56, 70, 48, 80).verdict).toBe('more');
    expect(compare(48, 80, 56, 70).verdict).toBe('less');
    expect(compare(5, 56, 0, 29).verdict).toBe('unclear');
  });

  test('an unclear verdict says how many more sessions would settle it', () => {
    // 12/100 vs 8/100, 200 sessions now. pooled 0.1: null sd = sqrt(0.09·4) = 0.6; alternative sd =
    // sqrt(0.1056/0.5 + 0.0736/0.5) = 0.598665; n = ((1.175978 + 0.503849) / 0.04)² = 1763.64 → 1,764 in all.
    const c = compare(12, 100, 8, 100);
    expect(c.verdict).toBe('unclear');
    expect(c.sessionsForPower).toBe(1764);
    expect(c.moreSessions).toBe(c.sessionsForPower! - 200);
  });

  test('uses the 95 % quantile', () => {
    close(Z95, 1.959964, 6);
  });
});

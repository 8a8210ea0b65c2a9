import { describe, expect, it } from 'vitest';
import { medianInterval } from '../bench/stats.mjs';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => n - i); // given out of order

describe("the bench's interval for a median (the sign test's)", () => {
  it('takes the k-th smallest to the k-th largest for the largest k at 95 % or more', () => {
    // Known values of the binomial(n, 1/2): [x(2), x(8)] of 9 is 96.1 %, [x(6), x(15)] of 20 is 95.9 %.
    expect(medianInterval(oneTo(9))).toMatchObject({ median: 5, low: 2, high: 8 });
    expect(medianInterval(oneTo(9)).level).toBeCloseTo(1 - 20 / 512, 10);
    expect(medianInterval(oneTo(20))).toMatchObject({ low: 6, high: 15 });
    expect(medianInterval(oneTo(20)).level).toBeCloseTo(0.9586, 4);
  });

  it('falls back to the smallest and the largest, saying how sure that is, when too few values reach 95 %', () => {
    expect(medianInterval(oneTo(7))).toMatchObject({ low: 1, high: 7 });
    expect(medianInterval(oneTo(7)).level).toBeCloseTo(1 - 2 / 128, 10);
    expect(medianInterval(oneTo(3))).toMatchObject({ median: 2, low: 1, high: 3, level: 0.75 });
  });

  it('holds the true median at least as often as it says (simulated rounds)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let held = 0;
    const trials = 4000;
    // Skewed noise around a median of 0: the interval must not lean on symmetry.
    for (let t = 0; t < trials; t++) {
      const { low, high } = medianInterval(Array.from({ length: 9 }, () => -Math.log(random()) - Math.LN2));
      if (low <= 0 && 0 <= high) held++;
    }
    expect(held / trials).toBeGreaterThan(0.95);
  });
});

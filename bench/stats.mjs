// The bench's statistics: plain functions of numbers, tested in test/bench-stats.test.ts.

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** How sure the intervals are meant to be: at least this often they hold the true median. */
const CONFIDENCE = 0.95;

/**
 * The median of `values` and an interval for it that needs no assumption about their spread (the sign
 * test's: the k-th smallest to the k-th largest, for the largest k that still holds the true median with
 * CONFIDENCE). With fewer than 6 values no k does; then it is the smallest to the largest, and `level`
 * says how sure that is.
 */
export function medianInterval(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  // [x(k), x(n+1-k)] misses the median when fewer than k values fall on one side of it.
  const level = (k) => 1 - (2 * [...Array(k).keys()].reduce((sum, j) => sum + binomial(n, j), 0)) / 2 ** n;
  let k = 1;
  while (k + 1 <= n / 2 && level(k + 1) >= CONFIDENCE) k++;
  return { median: median(values), low: sorted[k - 1], high: sorted[n - k], level: level(k) };
}
const binomial = (n, j) => (j === 0 ? 1 : (binomial(n, j - 1) * (n - j + 1)) / j);

/**
 * The statistics of the report, as small pure functions over counts: a 2×2 table per signal
 * (sessions with / without it, converted or not). Nothing here knows about events or SQL.
 *
 * Sources: Wilson (1927) for one rate; Newcombe (1998), "Interval estimation for the difference
 * between independent proportions", method 10 (the hybrid score interval built from two Wilson
 * intervals) for the difference; the Katz log method (Katz et al. 1978) for the ratio; the usual
 * normal-approximation sample size for comparing two proportions (Fleiss, without continuity
 * correction) for "how many more sessions".
 */

/** The standard normal quantile for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;
/** The standard normal quantile for 80 % power. */
export const Z80 = 0.8416212335729143;

/** A point estimate with its interval. */
export interface Estimate {
  estimate: number;
  low: number;
  high: number;
}

/** Counts `x` of `n` must be whole, non-negative and `x <= n`; anything else is a caller's bug. */
function checkCounts(x: number, n: number): void {
  if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || n < 0 || x > n) {
    throw new RangeError(`expected whole counts with 0 <= x <= n, got x=${x}, n=${n}`);
  }
}

/**
 * The Wilson score interval for `x` successes in `n` trials. Unlike the textbook Wald interval it
 * stays inside [0, 1] and keeps close to its nominal coverage at small `n` and rates near 0, which is
 * where conversion rates live. `null` when `n` is 0 (no rate to estimate).
 *
 * @example wilson(1, 10) // { estimate: 0.1, low: 0.0179, high: 0.4042 }
 */
export function wilson(x: number, n: number, z = Z95): Estimate | null {
  checkCounts(x, n);
  if (n === 0) return null;
  const z2 = z * z;
  const centre = x + z2 / 2;
  const half = z * Math.sqrt((x * (n - x)) / n + z2 / 4);
  const denominator = n + z2;
  // Clamped: at x = 0 or x = n the bound is exactly 0 or 1, but rounding can leave 1e-17 over.
  return { estimate: x / n, low: Math.max(0, (centre - half) / denominator), high: Math.min(1, (centre + half) / denominator) };
}

/**
 * The difference of two rates, `x1/n1 − x0/n0`, with Newcombe's hybrid score interval (method 10):
 * each side of the interval combines the distances from each rate to the relevant Wilson bound.
 * `null` when either group is empty.
 *
 * @example newcombeDifference(56, 70, 48, 80) // { estimate: 0.2, low: 0.0524, high: 0.3339 }
 */
export function newcombeDifference(x1: number, n1: number, x0: number, n0: number, z = Z95): Estimate | null {
  const a = wilson(x1, n1, z);
  const b = wilson(x0, n0, z);
  if (!a || !b) return null;
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    low: d - Math.hypot(a.estimate - a.low, b.high - b.estimate),
    high: d + Math.hypot(a.high - a.estimate, b.estimate - b.low),
  };
}

/** A ratio estimate; `corrected` says 0.5 was added to every cell because a group had no conversions. */
export interface RatioEstimate extends Estimate {
  corrected: boolean;
}

/**
 * The ratio of two rates, `(x1/n1) / (x0/n0)`, with the Katz log interval. When either group has no
 * conversions the log is undefined, so 0.5 is added to every cell of the 2×2 table (Haldane–Anscombe);
 * the estimate then comes from the corrected table too, so it stays inside its interval. `null` when a
 * group is empty or neither group converted (nothing to compare).
 *
 * @example katzRatio(10, 100, 5, 100) // { estimate: 2, low: 0.709, high: 5.642, corrected: false }
 */
export function katzRatio(x1: number, n1: number, x0: number, n0: number, z = Z95): RatioEstimate | null {
  checkCounts(x1, n1);
  checkCounts(x0, n0);
  if (n1 === 0 || n0 === 0 || (x1 === 0 && x0 === 0)) return null;
  const corrected = x1 === 0 || x0 === 0;
  const a = corrected ? x1 + 0.5 : x1;
  const c = corrected ? x0 + 0.5 : x0;
  const m1 = corrected ? n1 + 1 : n1;
  const m0 = corrected ? n0 + 1 : n0;
  const ratio = a / m1 / (c / m0);
  const se = Math.sqrt(1 / a - 1 / m1 + 1 / c - 1 / m0);
  return { estimate: ratio, low: ratio * Math.exp(-z * se), high: ratio * Math.exp(z * se), corrected };
}

/**
 * Total sessions needed for a two-sided test at the 95 % level to detect `rateWith − rateWithout` with
 * 80 % power (by default), when a share `shareWith` of sessions has the signal. The normal-approximation
 * formula for two proportions with unequal groups. `null` when there is no difference to detect or one
 * group is empty; astronomically large for tiny differences (the caller decides what is practical).
 */
export function sessionsForPower(rateWith: number, rateWithout: number, shareWith: number, z = Z95, zPower = Z80): number | null {
  const d = rateWith - rateWithout;
  if (!(shareWith > 0 && shareWith < 1) || d === 0 || !Number.isFinite(d)) return null;
  const f = shareWith;
  const pooled = f * rateWith + (1 - f) * rateWithout;
  const nullSd = Math.sqrt(pooled * (1 - pooled) * (1 / f + 1 / (1 - f)));
  const altSd = Math.sqrt((rateWith * (1 - rateWith)) / f + (rateWithout * (1 - rateWithout)) / (1 - f));
  return Math.ceil(((z * nullSd + zPower * altSd) / d) ** 2);
}

/** What the data say about one signal. */
export type VerdictKind = 'more' | 'less' | 'unclear';

/** The whole comparison of sessions with a signal against sessions without it. */
export interface Comparison {
  sessionsWith: number;
  convertedWith: number;
  sessionsWithout: number;
  convertedWithout: number;
  /** Conversion rate of sessions with the signal, with its Wilson interval. */
  rateWith: Estimate | null;
  rateWithout: Estimate | null;
  /** `rateWith − rateWithout`, Newcombe interval: the "lift" in rate points. */
  difference: Estimate | null;
  /** `rateWith / rateWithout`, Katz interval. */
  ratio: RatioEstimate | null;
  /** `more`/`less` when the difference interval excludes zero, else `unclear`. */
  verdict: VerdictKind;
  /** Total sessions that would give 80 % power at the observed rates and mix; `null` when none would. */
  sessionsForPower: number | null;
  /** How many sessions beyond the current ones that is (0 once reached); `null` as above. */
  moreSessions: number | null;
}

/**
 * Compares the conversion of sessions with a signal (`convertedWith` of `sessionsWith`) against the
 * rest. The verdict follows the difference interval only: a 95 % interval that excludes zero.
 */
export function compare(convertedWith: number, sessionsWith: number, convertedWithout: number, sessionsWithout: number): Comparison {
  const difference = newcombeDifference(convertedWith, sessionsWith, convertedWithout, sessionsWithout);
  const verdict: VerdictKind = !difference ? 'unclear' : difference.low > 0 ? 'more' : difference.high < 0 ? 'less' : 'unclear';
  const total = sessionsWith + sessionsWithout;
  const needed = difference ? sessionsForPower(convertedWith / sessionsWith, convertedWithout / sessionsWithout, sessionsWith / total) : null;
  return {
    sessionsWith,
    convertedWith,
    sessionsWithout,
    convertedWithout,
    rateWith: wilson(convertedWith, sessionsWith),
    rateWithout: wilson(convertedWithout, sessionsWithout),
    difference,
    ratio: katzRatio(convertedWith, sessionsWith, convertedWithout, sessionsWithout),
    verdict,
    sessionsForPower: needed,
    moreSessions: needed === null ? null : Math.max(0, needed - total),
  };
}

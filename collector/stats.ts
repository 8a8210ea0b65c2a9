/**
 * The statistics of the report, as small pure functions over counts: a 2×2 table per signal
 * (sessions with / without it, converted or not). Nothing here knows about events or SQL.
 *
 * Sources: Wilson (1927) for one rate; Newcombe (1998), "Interval estimation for the difference
 * between independent proportions", method 10 (the hybrid score interval built from two Wilson
 * intervals) for the difference; the Katz log method (Katz et al. 1978) for the ratio; the usual
 * normal-approximation sample size for comparing two proportions (Fleiss, without continuity
 * correction) for "how many more sessions". For intervals that stay valid however often they are
 * read: the two-sided normal-mixture boundary of Robbins (1970), as in Howard, Ramdas, McAuliffe &
 * Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence sequences" (the same
 * boundary as the mixture SPRT of Johari, Pekelis & Walsh, "Always valid inference"), used in
 * session time with an estimated variance as in Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas
 * (2024), "Time-uniform central limit theory and asymptotic confidence sequences".
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

/** The error rate of every verdict before any split across a plan's signals: two-sided 5 %. */
export const ALPHA = 0.05;

/**
 * The sessions at which the anytime-valid boundary at 5 % is tightest: its one tuning parameter,
 * fixed before any data. Low on purpose: a boundary tuned too early loses little later (at 100,000
 * sessions it is 10 % wider than its best there), one tuned too late loses much more earlier.
 */
export const TUNED_FOR_SESSIONS = 5000;

/**
 * For the normal mixture tuned to time `m` at level `alpha`, `m / ρ`: the root `u > 0` of
 * log(1 + u) − u = 2 log(alpha), where (1 + ρ/m)(log(1 + m/ρ) − 2 log(alpha)), the squared
 * boundary at `m`, is smallest. 8.212 at 5 %.
 */
export function mixtureTuning(alpha: number): number {
  const target = 2 * Math.log(alpha);
  // log(1 + u) − u falls from 0 without bound as u grows: bisect.
  let [low, high] = [0, 1];
  while (Math.log(1 + high) - high > target) high *= 2;
  for (let step = 0; step < 100; step++) {
    const middle = (low + high) / 2;
    if (Math.log(1 + middle) - middle > target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** ρ, the mixture's spread in sessions (608.87): the 5 % boundary is tightest at `TUNED_FOR_SESSIONS`. */
export const MIXTURE_SESSIONS = TUNED_FOR_SESSIONS / mixtureTuning(ALPHA);

/**
 * The two-sided normal-mixture boundary, in standard errors, after `sessions` sessions: an estimate
 * that stays within this many standard errors of the truth at every time at once, with probability
 * 1 − `alpha` (Ville's inequality on the mixture martingale). It replaces 1.96 in an interval that
 * may be read any number of times: 6.60 at 100 sessions, 3.35 at 1,000, 3.04 at 5,000, 3.34 at
 * 100,000, 3.66 at 1,000,000.
 */
export function anytimeMultiplier(sessions: number, alpha = ALPHA, rho = MIXTURE_SESSIONS): number {
  if (!(sessions > 0)) return Infinity;
  return Math.sqrt((1 + rho / sessions) * (Math.log(1 + sessions / rho) + 2 * Math.log(1 / alpha)));
}

/** `x · log(y)`, with 0 · log(anything) = 0 as in the binomial likelihood. */
const xLogY = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(y));
const logistic = (logOdds: number) => 1 / (1 + Math.exp(-logOdds));
/** log(1 + e^u) without overflow: −log p = softplus(−logOdds), −log(1 − p) = softplus(logOdds). */
const softplus = (u: number) => Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));

/** The binomial deviance of the rate with log-odds `logOdds` against `x` of `n`: twice the log-likelihood ratio of x/n over it. */
function deviance(x: number, n: number, logOdds: number): number {
  const rest = n - x;
  return 2 * (xLogY(x, x / n) + x * softplus(-logOdds) + xLogY(rest, rest / n) + rest * softplus(logOdds));
}

/**
 * Where the deviance reaches `limit` on one side (`side` −1 below x/n, +1 above), for 0 < x < n. The
 * deviance is convex in the log-odds, with slope 2(np − x): Newton's method started outside the root
 * walks in to it without overshooting, in a handful of steps.
 */
function devianceRoot(x: number, n: number, limit: number, side: -1 | 1): number {
  const centre = Math.log(x / (n - x));
  const spread = Math.sqrt(limit * (1 / x + 1 / (n - x)));
  let logOdds = centre + side * spread;
  while (deviance(x, n, logOdds) < limit) logOdds = centre + 2 * (logOdds - centre);
  for (let step = 0; step < 100; step++) {
    const move = (deviance(x, n, logOdds) - limit) / (2 * (n * logistic(logOdds) - x));
    logOdds -= move;
    if (Math.abs(move) <= 1e-12 * (1 + Math.abs(logOdds))) break;
  }
  return logistic(logOdds);
}

/** The likelihood-ratio bounds for a count that may be fractional (expected counts, in `sessionsToSettle`). */
function likelihoodRatioBounds(x: number, n: number, z: number): Estimate {
  const limit = z * z;
  // At x = 0 (or n) the deviance is −2n·log(1 − p) (or −2n·log p): solved exactly.
  const low = x === 0 ? 0 : x === n ? Math.exp(-limit / (2 * n)) : devianceRoot(x, n, limit, -1);
  const high = x === n ? 1 : x === 0 ? -Math.expm1(-limit / (2 * n)) : devianceRoot(x, n, limit, 1);
  return { estimate: x / n, low, high };
}

/**
 * The likelihood-ratio interval for `x` of `n`: every rate whose deviance is at most `z²`. Far out in
 * the tails, where an anytime-valid interval lives (3 to 9 standard errors), it follows the
 * binomial's skew at small counts, which the Wilson interval does not: at 5 of 44 and z = 4.4 the
 * exact one-sided binomial bound is 0.57 %, this one 0.67 %, Wilson's 2.0 %. At large counts all
 * three agree. `null` when `n` is 0.
 */
export function likelihoodRatioRate(x: number, n: number, z: number): Estimate | null {
  checkCounts(x, n);
  return n === 0 ? null : likelihoodRatioBounds(x, n, z);
}

/** Newcombe's hybrid: each side of `a − b` combines the distances from each rate to the bound that pushes that way. */
function hybridDifference(a: Estimate, b: Estimate): Estimate {
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    low: d - Math.hypot(a.estimate - a.low, b.high - b.estimate),
    high: d + Math.hypot(a.high - a.estimate, b.estimate - b.low),
  };
}

/**
 * The difference of two rates with an anytime-valid interval at level 1 − `alpha`: Newcombe's hybrid
 * of the two rates' likelihood-ratio intervals, with the normal-mixture boundary for the `n1 + n0`
 * sessions compared in place of 1.96. `null` when either group is empty.
 */
export function anytimeDifference(x1: number, n1: number, x0: number, n0: number, alpha = ALPHA): Estimate | null {
  const z = anytimeMultiplier(n1 + n0, alpha);
  const a = likelihoodRatioRate(x1, n1, z);
  const b = likelihoodRatioRate(x0, n0, z);
  return a && b ? hybridDifference(a, b) : null;
}

/** The verdict an interval for the difference gives: `more`/`less` when it excludes zero. */
export function verdictOf(difference: Estimate | null): VerdictKind {
  return !difference ? 'unclear' : difference.low > 0 ? 'more' : difference.high < 0 ? 'less' : 'unclear';
}

/** Beyond this many sessions an answer is no answer: the caller says "too small to settle". */
const SESSIONS_CAP = 1e15;

/**
 * Total sessions at which the anytime-valid verdict has an 80 % chance (by default) of showing
 * `rateWith − rateWithout`, read there, with a share `shareWith` of sessions having the signal. At
 * a candidate total, take the data the verdict is least likely to clear while the estimate still
 * sits at its 20th percentile (each rate moved against the difference in proportion to its
 * variance), and ask whether the anytime-valid interval built on those counts excludes zero. The
 * interval is evaluated, not approximated, so the binomial's skew at small counts counts too.
 * Bisection on the total. Read weekly on the way there, the verdict settles at least as often.
 * `null` when there is no difference or a group is empty; `1e15` when no practical traffic would do.
 */
export function sessionsToSettle(rateWith: number, rateWithout: number, shareWith: number, alpha = ALPHA, zPower = Z80): number | null {
  const d = rateWith - rateWithout;
  if (!(shareWith > 0 && shareWith < 1) || d === 0 || !Number.isFinite(d)) return null;
  const clamp = (rate: number) => Math.min(1, Math.max(0, rate));
  const clears = (sessions: number) => {
    const [n1, n0] = [shareWith * sessions, (1 - shareWith) * sessions];
    const [v1, v0] = [(rateWith * (1 - rateWith)) / n1, (rateWithout * (1 - rateWithout)) / n0];
    const sd = Math.sqrt(v1 + v0);
    const push = sd > 0 ? (Math.sign(d) * zPower) / sd : 0;
    const z = anytimeMultiplier(sessions, alpha);
    const interval = hybridDifference(
      likelihoodRatioBounds(clamp(rateWith - push * v1) * n1, n1, z),
      likelihoodRatioBounds(clamp(rateWithout + push * v0) * n0, n0, z),
    );
    return verdictOf(interval) === (d > 0 ? 'more' : 'less');
  };
  if (!clears(SESSIONS_CAP)) return SESSIONS_CAP;
  let [low, high] = [0, Math.log(SESSIONS_CAP)];
  for (let step = 0; step < 50; step++) {
    const middle = (low + high) / 2;
    if (clears(Math.exp(middle))) high = middle;
    else low = middle;
  }
  return Math.ceil(Math.exp(high));
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
  /** `rateWith − rateWithout` with its anytime-valid interval at level 1 − `alpha`: the "lift" in rate points. */
  difference: Estimate | null;
  /** The same difference with Newcombe's 95 % interval: valid for one pre-planned look only. */
  differenceFixedHorizon: Estimate | null;
  /** `rateWith / rateWithout`, Katz 95 % interval (fixed horizon). */
  ratio: RatioEstimate | null;
  /** The per-signal error rate of `difference` and `verdict`. */
  alpha: number;
  /** `more`/`less` when the anytime-valid difference interval excludes zero, else `unclear`. */
  verdict: VerdictKind;
  /** Total sessions that would give 80 % power at one pre-planned look, at the observed rates and mix; `null` when none would. */
  sessionsForPower: number | null;
  /** How many sessions beyond the current ones that is (0 once reached); `null` as above. */
  moreSessions: number | null;
  /** Total sessions at which the anytime-valid verdict has an 80 % chance of settling, for the difference seen so far. */
  sessionsToSettle: number | null;
  /** How many sessions beyond the current ones that is (0 once reached). */
  moreSessionsToSettle: number | null;
}

/**
 * Compares the conversion of sessions with a signal (`convertedWith` of `sessionsWith`) against the
 * rest. The verdict follows the anytime-valid difference interval only, at level 1 − `alpha`: it may
 * be read after every session and is wrong at any read with a chance of at most `alpha` (approximately:
 * the variance is estimated, as in every interval here).
 */
export function compare(convertedWith: number, sessionsWith: number, convertedWithout: number, sessionsWithout: number, alpha = ALPHA): Comparison {
  const difference = anytimeDifference(convertedWith, sessionsWith, convertedWithout, sessionsWithout, alpha);
  const verdict = verdictOf(difference);
  const total = sessionsWith + sessionsWithout;
  const observed = difference ? ([convertedWith / sessionsWith, convertedWithout / sessionsWithout, sessionsWith / total] as const) : null;
  const needed = observed ? sessionsForPower(...observed) : null;
  const toSettle = observed ? sessionsToSettle(...observed, alpha) : null;
  return {
    sessionsWith,
    convertedWith,
    sessionsWithout,
    convertedWithout,
    rateWith: wilson(convertedWith, sessionsWith),
    rateWithout: wilson(convertedWithout, sessionsWithout),
    difference,
    differenceFixedHorizon: newcombeDifference(convertedWith, sessionsWith, convertedWithout, sessionsWithout),
    ratio: katzRatio(convertedWith, sessionsWith, convertedWithout, sessionsWithout),
    alpha,
    verdict,
    sessionsForPower: needed,
    moreSessions: needed === null ? null : Math.max(0, needed - total),
    sessionsToSettle: toSettle,
    moreSessionsToSettle: toSettle === null ? null : Math.max(0, toSettle - total),
  };
}

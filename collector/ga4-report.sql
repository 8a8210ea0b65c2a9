-- microconv: does each micro-conversion predict the macro conversion? Over a Google Analytics 4
-- BigQuery export (the daily `events_YYYYMMDD` tables). BigQuery standard SQL, one multi-statement
-- query: run it as is in the console or with `bq query --use_legacy_sql=false < ga4-report.sql`.
--
-- It is the same report as the collector's (collector/sql.ts for the counts, collector/stats.ts for
-- the statistics), with the same rules:
-- - a session is `user_pseudo_id` + the `ga_session_id` event parameter; events without one are left out;
-- - a session converts when it has any macro event (mc_macro below);
-- - a session "has" a micro-conversion when it happened at or before the session's first macro event
--   (any time, in a session that never converted): what happens after the purchase cannot predict it;
-- - every event name seen is reported, except the macro events and GA4's automatic session events
--   (mc_ignored), plus the plan's micro-conversions even when no session has them yet;
-- - rates come with Wilson 95 % intervals; the lift (difference of rates) with an anytime-valid
--   interval, valid however often it is read (Newcombe's hybrid of the two rates' likelihood-ratio
--   intervals, at the normal-mixture boundary for the sessions compared, at the plan's per-signal
--   level: see collector/README.md), which the verdict follows, and with Newcombe's hybrid score 95 %
--   interval (1998, method 10), valid for one pre-planned look only; the ratio with the Katz log
--   interval (0.5 added to every cell when a group has no conversions); "sessions for 80 % power" (at
--   one pre-planned look) is the two-proportion normal formula. The sessions for the anytime-valid
--   verdict to settle are in the collector's report only.
-- This is association, not cause: a signal that predicts conversion need not cause it.
--
-- Edit three things: the plan (between plan:begin and plan:end), the table name and the dates.
-- Results: the signals (one row each), then the funnel (sessions reaching each stage of the plan: a
-- session reaches a stage when it has an event of that stage or of a later one, at any time).
--
-- The test suite runs this very file on DuckDB (collector/ga4.ts) against a GA4-shaped sample table and
-- checks it gives the collector's numbers. The rewrites for DuckDB are mechanical: the table name,
-- `UNNEST(list) AS p` (DuckDB names the element with `AS t(p)`), and CREATE OR REPLACE for the temporary
-- tables. Keep it that portable: no SAFE_ functions, no GREATEST on values that can be NULL (DuckDB
-- skips NULLs where BigQuery returns NULL), NULLIF before dividing, constants written as doubles.

-- plan:begin
CREATE TEMP TABLE mc_macro AS
SELECT 'generate_lead' AS event_name;

CREATE TEMP TABLE mc_stages AS
SELECT 1 AS stage_order, 'engagement' AS stage, 'section_view' AS event_name UNION ALL
SELECT 1, 'engagement', 'scroll_depth' UNION ALL
SELECT 2, 'consideration', 'video_milestone' UNION ALL
SELECT 2, 'consideration', 'download_click' UNION ALL
SELECT 3, 'intent', 'cta_click' UNION ALL
SELECT 3, 'intent', 'form_begin' UNION ALL
SELECT 3, 'intent', 'form_step' UNION ALL
SELECT 4, 'conversion', 'generate_lead';

-- 'family': the plan's signals share the 5 % error rate; 'per-signal': each is judged at 5 %.
CREATE TEMP TABLE mc_settings AS
SELECT 'family' AS error_control;
-- plan:end

-- Collected by GA4 itself in (nearly) every session: they tell nothing about intent.
CREATE TEMP TABLE mc_ignored AS
SELECT 'session_start' AS event_name UNION ALL
SELECT 'first_visit' UNION ALL
SELECT 'user_engagement' UNION ALL
SELECT 'page_view';

CREATE TEMP TABLE mc_events AS
SELECT
  -- `||`, not CONCAT: both engines give NULL when a part is NULL (DuckDB's CONCAT skips NULLs).
  user_pseudo_id || '.' || CAST((SELECT p.value.int_value FROM UNNEST(event_params) AS p WHERE p.key = 'ga_session_id') AS STRING) AS session_key,
  event_name,
  event_timestamp,
  event_name IN (SELECT event_name FROM mc_macro) AS is_macro
FROM `your-project.analytics_123456789.events_*`
-- The dates to report on. `events_intraday_*` tables match the wildcard too; their suffix starts
-- with "intraday_", which this range leaves out.
WHERE _TABLE_SUFFIX BETWEEN '20240101' AND '20991231';

CREATE TEMP TABLE mc_sessions AS
SELECT session_key, MIN(CASE WHEN is_macro THEN event_timestamp END) AS first_macro_at
FROM mc_events
WHERE session_key IS NOT NULL
GROUP BY session_key;

CREATE TEMP TABLE mc_exposures AS
SELECT DISTINCT e.session_key, e.event_name
FROM mc_events AS e
JOIN mc_sessions AS s ON s.session_key = e.session_key
WHERE NOT e.is_macro AND (s.first_macro_at IS NULL OR e.event_timestamp <= s.first_macro_at);

-- Result 1: the signals.
WITH RECURSIVE
signals AS (
  SELECT event_name FROM mc_stages WHERE event_name NOT IN (SELECT event_name FROM mc_macro)
  UNION DISTINCT
  SELECT event_name FROM mc_events
  WHERE session_key IS NOT NULL AND NOT is_macro AND event_name NOT IN (SELECT event_name FROM mc_ignored)
),
totals AS (SELECT COUNT(*) AS sessions, COUNT(first_macro_at) AS converted FROM mc_sessions),
-- The per-signal level: 5 %, or in 'family' mode 5 % shared by the plan's signals (by every signal
-- reported, when the plan lists none).
level AS (
  SELECT
    CASE WHEN s.error_control = 'family' AND f.family_size > 1 THEN 0.05e0 / f.family_size ELSE 0.05e0 END AS alpha
  FROM mc_settings AS s
  CROSS JOIN (
    SELECT COALESCE(NULLIF(
      (SELECT COUNT(DISTINCT event_name) FROM mc_stages WHERE event_name NOT IN (SELECT event_name FROM mc_macro)), 0),
      (SELECT COUNT(*) FROM signals)) AS family_size
  ) AS f
),
cells AS (
  SELECT g.event_name AS signal, COUNT(x.session_key) AS n1, COUNT(s.first_macro_at) AS x1
  FROM signals AS g
  LEFT JOIN mc_exposures AS x ON x.event_name = g.event_name
  LEFT JOIN mc_sessions AS s ON s.session_key = x.session_key
  GROUP BY g.event_name
),
rates AS (
  -- n1, x1: sessions with the signal, and how many of them converted; n0, x0: the rest.
  -- z: the 95 % normal quantile; z_power: the 80 % power quantile.
  SELECT
    c.signal, c.n1, c.x1, t.sessions - c.n1 AS n0, t.converted - c.x1 AS x0,
    c.x1 / NULLIF(c.n1, 0) AS p1,
    (t.converted - c.x1) / NULLIF(t.sessions - c.n1, 0) AS p0,
    -- Written with an exponent so that DuckDB, too, reads them as doubles (not decimals).
    1.959963984540054e0 AS z,
    0.8416212335729143e0 AS z_power
  FROM cells AS c CROSS JOIN totals AS t
),
wilson AS (
  -- Wilson: (x + z²/2 ± z·sqrt(x(n − x)/n + z²/4)) / (n + z²), clamped to [0, 1] against rounding.
  SELECT
    *,
    CASE WHEN n1 > 0 THEN GREATEST(0, (x1 + z * z / 2 - z * SQRT(x1 * (n1 - x1) / n1 + z * z / 4)) / (n1 + z * z)) END AS p1_low,
    CASE WHEN n1 > 0 THEN LEAST(1, (x1 + z * z / 2 + z * SQRT(x1 * (n1 - x1) / n1 + z * z / 4)) / (n1 + z * z)) END AS p1_high,
    CASE WHEN n0 > 0 THEN GREATEST(0, (x0 + z * z / 2 - z * SQRT(x0 * (n0 - x0) / n0 + z * z / 4)) / (n0 + z * z)) END AS p0_low,
    CASE WHEN n0 > 0 THEN LEAST(1, (x0 + z * z / 2 + z * SQRT(x0 * (n0 - x0) / n0 + z * z / 4)) / (n0 + z * z)) END AS p0_high
  FROM rates
),
newcombe AS (
  -- Newcombe method 10: each bound of p1 − p0 combines the distances to the relevant Wilson bounds.
  SELECT
    *,
    p1 - p0 AS diff,
    p1 - p0 - SQRT(POW(p1 - p1_low, 2) + POW(p0_high - p0, 2)) AS diff_low,
    p1 - p0 + SQRT(POW(p1_high - p1, 2) + POW(p0 - p0_low, 2)) AS diff_high,
    -- Katz: add 0.5 to every cell when a group has no conversions (a row total grows by 1).
    CASE WHEN x1 = 0 OR x0 = 0 THEN 0.5e0 ELSE 0e0 END AS k,
    n1 > 0 AND n0 > 0 AND (x1 > 0 OR x0 > 0) AS has_ratio,
    n1 / NULLIF(n1 + n0, 0) AS f
  FROM wilson
),
katz AS (
  SELECT
    *,
    CASE WHEN has_ratio THEN ((x1 + k) / (n1 + 2 * k)) / NULLIF((x0 + k) / (n0 + 2 * k), 0) END AS ratio,
    CASE WHEN has_ratio THEN SQRT(1 / NULLIF(x1 + k, 0) - 1 / (n1 + 2 * k) + 1 / NULLIF(x0 + k, 0) - 1 / (n0 + 2 * k)) END AS ratio_se,
    -- Sessions for 80 % power at the observed rates and share f of sessions with the signal.
    f * p1 + (1 - f) * p0 AS pooled
  FROM newcombe
),
anytime AS (
  -- lim: the square of the two-sided normal-mixture boundary after n1 + n0 sessions, at the level
  -- alpha; 608.867... sessions is the mixture's spread (collector/stats.ts, MIXTURE_SESSIONS).
  SELECT
    r.signal, r.x1, r.n1, r.x0, r.n0, r.p1, r.p0,
    (1 + 608.8674434932844e0 / (r.n1 + r.n0)) * (LN(1 + (r.n1 + r.n0) / 608.8674434932844e0) + 2 * LN(1 / l.alpha)) AS lim
  FROM rates AS r CROSS JOIN level AS l
  WHERE r.n1 > 0 AND r.n0 > 0
),
bisect AS (
  -- Each rate's likelihood-ratio interval: the rates whose deviance 2·[x·ln(x/(n·p)) + (n − x)·ln((n − x)/(n·(1 − p)))]
  -- is at most lim. Sixty halvings of each bracket (inside: the estimate; outside: 0 or 1), to 1e-18.
  SELECT signal, 0 AS step, x1, n1, x0, n0, p1, p0, lim,
    p1 AS low1_in, 0e0 AS low1_out, p1 AS high1_in, 1e0 AS high1_out,
    p0 AS low0_in, 0e0 AS low0_out, p0 AS high0_in, 1e0 AS high0_out
  FROM anytime
  UNION ALL
  SELECT signal, step + 1, x1, n1, x0, n0, p1, p0, lim,
    CASE WHEN 2 * (CASE WHEN x1 > 0 THEN x1 * LN(x1 / (n1 * (low1_in + low1_out) / 2)) ELSE 0 END
                 + CASE WHEN x1 < n1 THEN (n1 - x1) * LN((n1 - x1) / (n1 * (1 - (low1_in + low1_out) / 2))) ELSE 0 END) > lim
      THEN low1_in ELSE (low1_in + low1_out) / 2 END,
    CASE WHEN 2 * (CASE WHEN x1 > 0 THEN x1 * LN(x1 / (n1 * (low1_in + low1_out) / 2)) ELSE 0 END
                 + CASE WHEN x1 < n1 THEN (n1 - x1) * LN((n1 - x1) / (n1 * (1 - (low1_in + low1_out) / 2))) ELSE 0 END) > lim
      THEN (low1_in + low1_out) / 2 ELSE low1_out END,
    CASE WHEN 2 * (CASE WHEN x1 > 0 THEN x1 * LN(x1 / (n1 * (high1_in + high1_out) / 2)) ELSE 0 END
                 + CASE WHEN x1 < n1 THEN (n1 - x1) * LN((n1 - x1) / (n1 * (1 - (high1_in + high1_out) / 2))) ELSE 0 END) > lim
      THEN high1_in ELSE (high1_in + high1_out) / 2 END,
    CASE WHEN 2 * (CASE WHEN x1 > 0 THEN x1 * LN(x1 / (n1 * (high1_in + high1_out) / 2)) ELSE 0 END
                 + CASE WHEN x1 < n1 THEN (n1 - x1) * LN((n1 - x1) / (n1 * (1 - (high1_in + high1_out) / 2))) ELSE 0 END) > lim
      THEN (high1_in + high1_out) / 2 ELSE high1_out END,
    CASE WHEN 2 * (CASE WHEN x0 > 0 THEN x0 * LN(x0 / (n0 * (low0_in + low0_out) / 2)) ELSE 0 END
                 + CASE WHEN x0 < n0 THEN (n0 - x0) * LN((n0 - x0) / (n0 * (1 - (low0_in + low0_out) / 2))) ELSE 0 END) > lim
      THEN low0_in ELSE (low0_in + low0_out) / 2 END,
    CASE WHEN 2 * (CASE WHEN x0 > 0 THEN x0 * LN(x0 / (n0 * (low0_in + low0_out) / 2)) ELSE 0 END
                 + CASE WHEN x0 < n0 THEN (n0 - x0) * LN((n0 - x0) / (n0 * (1 - (low0_in + low0_out) / 2))) ELSE 0 END) > lim
      THEN (low0_in + low0_out) / 2 ELSE low0_out END,
    CASE WHEN 2 * (CASE WHEN x0 > 0 THEN x0 * LN(x0 / (n0 * (high0_in + high0_out) / 2)) ELSE 0 END
                 + CASE WHEN x0 < n0 THEN (n0 - x0) * LN((n0 - x0) / (n0 * (1 - (high0_in + high0_out) / 2))) ELSE 0 END) > lim
      THEN high0_in ELSE (high0_in + high0_out) / 2 END,
    CASE WHEN 2 * (CASE WHEN x0 > 0 THEN x0 * LN(x0 / (n0 * (high0_in + high0_out) / 2)) ELSE 0 END
                 + CASE WHEN x0 < n0 THEN (n0 - x0) * LN((n0 - x0) / (n0 * (1 - (high0_in + high0_out) / 2))) ELSE 0 END) > lim
      THEN (high0_in + high0_out) / 2 ELSE high0_out END
  FROM bisect
  WHERE step < 60
),
hybrid AS (
  -- Newcombe's hybrid of the two likelihood-ratio intervals: the anytime-valid interval of p1 − p0.
  SELECT
    signal,
    p1 - p0 - SQRT(POW(p1 - low1_in, 2) + POW(high0_in - p0, 2)) AS anytime_low,
    p1 - p0 + SQRT(POW(high1_in - p1, 2) + POW(p0 - low0_in, 2)) AS anytime_high
  FROM bisect
  WHERE step = 60
)
SELECT
  signal,
  n1 AS sessions_with,
  x1 AS converted_with,
  n0 AS sessions_without,
  x0 AS converted_without,
  p1 AS rate_with, p1_low AS rate_with_low, p1_high AS rate_with_high,
  p0 AS rate_without, p0_low AS rate_without_low, p0_high AS rate_without_high,
  diff AS difference, h.anytime_low AS difference_low, h.anytime_high AS difference_high,
  diff_low AS difference_fixed_horizon_low, diff_high AS difference_fixed_horizon_high,
  ratio, ratio * EXP(-z * ratio_se) AS ratio_low, ratio * EXP(z * ratio_se) AS ratio_high,
  has_ratio AND k > 0 AS ratio_corrected,
  l.alpha,
  CASE WHEN h.anytime_low > 0 THEN 'more' WHEN h.anytime_high < 0 THEN 'less' ELSE 'unclear' END AS verdict,
  CASE
    WHEN n1 > 0 AND n0 > 0 AND p1 <> p0 THEN CEIL(POW(
      (z * SQRT(pooled * (1 - pooled) * (1 / f + 1 / NULLIF(1 - f, 0))) + z_power * SQRT(p1 * (1 - p1) / f + p0 * (1 - p0) / NULLIF(1 - f, 0)))
      / (p1 - p0), 2))
  END AS sessions_for_80pct_power
FROM katz
LEFT JOIN hybrid AS h USING (signal)
CROSS JOIN level AS l
ORDER BY signal;

-- Result 2: the funnel, with the drop-off from each step to the next and the weakest step marked
-- (the stage, or the macro conversion, that loses the largest share of the step before it).
WITH
totals AS (SELECT COUNT(*) AS sessions, COUNT(first_macro_at) AS converted FROM mc_sessions),
-- The furthest stage each session reached: it has reached that stage and every one before it.
furthest AS (
  SELECT e.session_key, MAX(g.stage_order) AS stage_order
  FROM mc_events AS e JOIN mc_stages AS g ON g.event_name = e.event_name
  WHERE e.session_key IS NOT NULL
  GROUP BY e.session_key
),
reach AS (
  SELECT g.stage_order, g.stage, COUNT(u.session_key) AS sessions
  FROM (SELECT DISTINCT stage_order, stage FROM mc_stages) AS g
  LEFT JOIN furthest AS u ON u.stage_order >= g.stage_order
  GROUP BY g.stage_order, g.stage
),
steps AS (
  SELECT 0 AS step_order, 'all sessions' AS step, sessions FROM totals
  UNION ALL
  SELECT stage_order, stage, sessions FROM reach
  UNION ALL
  SELECT 1000, 'macro conversion', converted FROM totals
),
ordered AS (
  SELECT
    step_order, step, sessions,
    ROW_NUMBER() OVER (ORDER BY step_order) AS position,
    1 - sessions / NULLIF(LAG(sessions) OVER (ORDER BY step_order), 0) AS drop_off
  FROM steps
),
weakest AS (
  -- From the first stage on: "all sessions" is not a stage.
  SELECT MAX(drop_off) AS drop_off FROM ordered WHERE position >= 3
)
SELECT
  o.step,
  o.sessions,
  o.sessions / NULLIF(t.sessions, 0) AS share,
  o.drop_off,
  o.position >= 3 AND o.drop_off = w.drop_off AS is_weakest
FROM ordered AS o CROSS JOIN totals AS t CROSS JOIN weakest AS w
ORDER BY o.step_order;

-- microconv over a Google Analytics 4 BigQuery export: each signal's 2×2 table (one row per signal).
-- One GoogleSQL statement; its sibling funnel-counts.sql gives the funnel. The statistics (intervals,
-- verdicts, power) are not computed here: collector/report.ts computes them from these counts, as it
-- does from the collector's own (collector/sql.ts, SIGNAL_COUNTS), so the two reports cannot drift.
--
-- Parameters (BigQuery named query parameters):
--   @macro      ARRAY<STRING>  the plan's macro conversion event names
--   @signals    ARRAY<STRING>  the plan's micro-conversions, reported even when no session has them
--   @first_day  STRING         the first daily table to read, YYYYMMDD
--   @last_day   STRING         the last daily table to read, YYYYMMDD
-- The table is not a parameter (BigQuery allows none): replace your-project.analytics_123456789 below
-- with your project and the export's dataset. collector/README.md shows the bq command, and the
-- literal form for the console and scheduled queries.
--
-- The rules, the same as the collector's:
-- - a session is `user_pseudo_id` + the `ga_session_id` event parameter; events without one are left out;
-- - a session converts when it has any macro event;
-- - a session has a signal when the signal happened at or before the session's first macro event (at
--   any time, in a session that never converted): what happens after the purchase cannot predict it;
-- - the signals are the plan's micro-conversions and every other non-macro event name seen, except
--   GA4's own automatic and enhanced-measurement events (listed below), which the plan may still name.
--
-- The tests run this file on DuckDB (collector/ga4.ts) against a GA4-shaped sample and check it gives
-- the collector's numbers. Keep it portable: equality joins only, `||` rather than CONCAT (both give
-- NULL for a NULL part), no SAFE_ functions, no `IN UNNEST(...)` (write `IN (SELECT x FROM UNNEST(...) AS x)`).
WITH
events AS (
  SELECT
    user_pseudo_id || '.' || CAST((SELECT p.value.int_value FROM UNNEST(event_params) AS p WHERE p.key = 'ga_session_id') AS STRING) AS session_key,
    event_name,
    event_timestamp,
    event_name IN (SELECT macro_name FROM UNNEST(@macro) AS macro_name) AS is_macro
  FROM `your-project.analytics_123456789.events_*`
  -- `events_intraday_*` tables match the wildcard too; their suffix starts with "intraday_", which
  -- a range of dates leaves out.
  WHERE _TABLE_SUFFIX BETWEEN @first_day AND @last_day
),
sessions AS (
  SELECT session_key, MIN(CASE WHEN is_macro THEN event_timestamp END) AS first_macro_at
  FROM events
  WHERE session_key IS NOT NULL
  GROUP BY session_key
),
totals AS (SELECT COUNT(*) AS sessions, COUNT(first_macro_at) AS converted FROM sessions),
exposures AS (
  SELECT DISTINCT e.session_key, e.event_name
  FROM events AS e
  JOIN sessions AS s ON s.session_key = e.session_key
  WHERE NOT e.is_macro AND (s.first_macro_at IS NULL OR e.event_timestamp <= s.first_macro_at)
),
-- Collected by GA4 itself (automatically, or by enhanced measurement) on every site that has it on:
-- they say nothing about a plan, so they are signals only when the plan names them.
automatic AS (
  SELECT event_name
  FROM UNNEST([
    'first_visit', 'session_start', 'user_engagement', 'page_view', 'scroll', 'click', 'view_search_results',
    'video_start', 'video_progress', 'video_complete', 'file_download', 'form_start', 'form_submit'
  ]) AS event_name
),
signals AS (
  SELECT signal_name AS event_name
  FROM UNNEST(@signals) AS signal_name
  WHERE signal_name NOT IN (SELECT macro_name FROM UNNEST(@macro) AS macro_name)
  UNION DISTINCT
  SELECT event_name
  FROM events
  WHERE session_key IS NOT NULL AND NOT is_macro AND event_name NOT IN (SELECT event_name FROM automatic)
),
per_signal AS (
  SELECT g.event_name AS signal, COUNT(x.session_key) AS sessions_with, COUNT(s.first_macro_at) AS converted_with
  FROM signals AS g
  LEFT JOIN exposures AS x ON x.event_name = g.event_name
  LEFT JOIN sessions AS s ON s.session_key = x.session_key
  GROUP BY g.event_name
)
SELECT
  p.signal,
  p.sessions_with,
  p.converted_with,
  t.sessions - p.sessions_with AS sessions_without,
  t.converted - p.converted_with AS converted_without
FROM per_signal AS p
CROSS JOIN totals AS t
ORDER BY p.signal

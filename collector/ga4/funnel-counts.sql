-- microconv over a Google Analytics 4 BigQuery export: the funnel (one row per step: all sessions,
-- each stage of the plan that lists events, in funnel order, then the macro conversion). One GoogleSQL
-- statement; its sibling signal-counts.sql gives the signals. Shares and drop-offs are worked out by
-- collector/report.ts from these counts, as from the collector's own (collector/sql.ts, FUNNEL_COUNTS).
--
-- Parameters (BigQuery named query parameters):
--   @macro          ARRAY<STRING>  the plan's macro conversion event names
--   @engagement     ARRAY<STRING>  the event names of each stage of the plan (empty: no such stage)
--   @consideration  ARRAY<STRING>
--   @intent         ARRAY<STRING>
--   @conversion     ARRAY<STRING>
--   @first_day      STRING         the first daily table to read, YYYYMMDD
--   @last_day       STRING         the last daily table to read, YYYYMMDD
-- The table is not a parameter (BigQuery allows none): replace your-project.analytics_123456789 below
-- with your project and the export's dataset. collector/README.md shows the bq command, and the
-- literal form for the console and scheduled queries.
--
-- A session (`user_pseudo_id` + the `ga_session_id` event parameter) reaches a stage when it has an
-- event of that stage or of a later one, at any time: the furthest stage it got to counts for every
-- stage before it too, so no step holds more sessions than the one before.
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
stage_events AS (
  SELECT 1 AS stage_order, 'engagement' AS stage, event_name FROM UNNEST(@engagement) AS event_name
  UNION ALL
  SELECT 2, 'consideration', event_name FROM UNNEST(@consideration) AS event_name
  UNION ALL
  SELECT 3, 'intent', event_name FROM UNNEST(@intent) AS event_name
  UNION ALL
  SELECT 4, 'conversion', event_name FROM UNNEST(@conversion) AS event_name
),
-- The furthest stage each session reached.
furthest AS (
  SELECT e.session_key, MAX(g.stage_order) AS stage_order
  FROM events AS e
  JOIN stage_events AS g ON g.event_name = e.event_name
  WHERE e.session_key IS NOT NULL
  GROUP BY e.session_key
),
furthest_counts AS (SELECT stage_order, COUNT(*) AS sessions FROM furthest GROUP BY stage_order),
-- Sessions reaching a stage: those whose furthest stage is this one or a later one, a running total
-- from the last stage back (no join on `>=`: BigQuery refuses an outer join without an equality).
reach AS (
  SELECT
    g.stage_order,
    g.stage,
    SUM(COALESCE(c.sessions, 0)) OVER (ORDER BY g.stage_order DESC) AS sessions
  FROM (SELECT DISTINCT stage_order, stage FROM stage_events) AS g
  LEFT JOIN furthest_counts AS c ON c.stage_order = g.stage_order
),
steps AS (
  SELECT 0 AS step_order, 'all sessions' AS step, COUNT(*) AS sessions FROM sessions
  UNION ALL
  SELECT stage_order, stage, sessions FROM reach
  UNION ALL
  SELECT 5, 'macro conversion', COUNT(first_macro_at) FROM sessions
)
SELECT step, sessions
FROM steps
ORDER BY step_order

/**
 * The SQL of the DuckDB store: the table, the insert, and the report's two queries. The statistics
 * that need care (intervals, power) live in `stats.ts`; the SQL does the analytical work of turning
 * events into sessions and sessions into 2×2 tables, which is where a warehouse is faster than Node.
 *
 * The same counts for a Google Analytics 4 BigQuery export are in `ga4/*.sql`.
 */

/**
 * One row per event, keyed by `event_id` (a UUID: 16 bytes, a smaller and faster key than its text).
 * `ts` is the event's time as a TIMESTAMP (UTC) for humans and date functions; `ts_ms` is the raw
 * epoch ms the client sent, which the report orders by (no rounding surprises).
 * `params` keeps the event's parameters as JSON; page, attribution, consent and ids are flattened
 * into columns. Only what the report needs is NOT NULL (id, name, times, session): every other field
 * is optional on the wire and stored as NULL when missing. The consent and id columns are what
 * server-side forwarding reads (the consent each event was tracked under, the ids to match on).
 */
export const CREATE_EVENTS_TABLE = `
CREATE TABLE IF NOT EXISTS events (
  event_id                   UUID PRIMARY KEY,
  name                       VARCHAR NOT NULL,
  ts                         TIMESTAMP NOT NULL,
  ts_ms                      BIGINT NOT NULL,
  session_id                 VARCHAR NOT NULL,
  anonymous_id               VARCHAR,
  page_url                   VARCHAR,
  page_path                  VARCHAR,
  page_title                 VARCHAR,
  page_referrer              VARCHAR,
  params                     JSON,
  utm_source                 VARCHAR,
  utm_medium                 VARCHAR,
  utm_campaign               VARCHAR,
  utm_term                   VARCHAR,
  utm_content                VARCHAR,
  gclid                      VARCHAR,
  fbclid                     VARCHAR,
  landing_page               VARCHAR,
  landing_referrer           VARCHAR,
  received_at                TIMESTAMP NOT NULL,
  gbraid                     VARCHAR,
  wbraid                     VARCHAR,
  consent_analytics_storage  VARCHAR,
  consent_ad_storage         VARCHAR,
  consent_ad_user_data       VARCHAR,
  consent_ad_personalization VARCHAR,
  fbp                        VARCHAR,
  fbc                        VARCHAR,
  ga_client_id               VARCHAR,
  user_id                    VARCHAR,
  email_sha256               VARCHAR,
  phone_sha256               VARCHAR,
  google_email_sha256        VARCHAR,
  google_phone_sha256        VARCHAR
)`;

/** Columns an older collector's table lacks (added) or holds as NOT NULL (relaxed): run after `CREATE_EVENTS_TABLE`. */
export const UPGRADE_EVENTS_TABLE = [
  ...['gbraid', 'wbraid', 'consent_analytics_storage', 'consent_ad_storage', 'consent_ad_user_data', 'consent_ad_personalization', 'fbp', 'fbc', 'ga_client_id', 'user_id', 'email_sha256', 'phone_sha256',
    'google_email_sha256', 'google_phone_sha256'].map(
    (column) => `ALTER TABLE events ADD COLUMN IF NOT EXISTS ${column} VARCHAR`,
  ),
  ...['page_url', 'page_path', 'page_title', 'page_referrer', 'params', 'landing_page', 'landing_referrer'].map((column) => `ALTER TABLE events ALTER COLUMN ${column} DROP NOT NULL`),
];

/** The shape `from_json` reads a collected event into (contract 5; missing keys read as NULL). */
const EVENT_JSON_SHAPE = JSON.stringify({
    event_id: 'VARCHAR',
    name: 'VARCHAR',
    ts: 'BIGINT',
    session_id: 'VARCHAR',
    anonymous_id: 'VARCHAR',
    page: { url: 'VARCHAR', path: 'VARCHAR', title: 'VARCHAR', referrer: 'VARCHAR' },
    params: 'JSON',
    attribution: {
      utm_source: 'VARCHAR',
      utm_medium: 'VARCHAR',
      utm_campaign: 'VARCHAR',
      utm_term: 'VARCHAR',
      utm_content: 'VARCHAR',
      gclid: 'VARCHAR',
      fbclid: 'VARCHAR',
      gbraid: 'VARCHAR',
      wbraid: 'VARCHAR',
      landing_page: 'VARCHAR',
      referrer: 'VARCHAR',
    },
    consent: { analytics_storage: 'VARCHAR', ad_storage: 'VARCHAR', ad_user_data: 'VARCHAR', ad_personalization: 'VARCHAR' },
    ids: { fbp: 'VARCHAR', fbc: 'VARCHAR', ga_client_id: 'VARCHAR', user_id: 'VARCHAR', email_sha256: 'VARCHAR', phone_sha256: 'VARCHAR', google_email_sha256: 'VARCHAR', google_phone_sha256: 'VARCHAR' },
    received_at: 'BIGINT',
});

/**
 * Inserts events passed as one JSON parameter (`$1`: the collected events, each with a `received_at`
 * in epoch ms added). One parameter instead of thirty per row: DuckDB plans it once, and 200 events cost
 * little more than one. The array is split first and each item read on its own: several times faster
 * than `from_json` over the whole array with a nested shape. `OR IGNORE` is the deduplication by `event_id`: a replayed event, even twice in
 * one statement, stores nothing new. `RETURNING` tells which events were new. The columns are named,
 * so a table upgraded from an older collector (new columns at the end) takes the same statement.
 */
export const INSERT_EVENTS = `
INSERT OR IGNORE INTO events (
  event_id, name, ts, ts_ms, session_id, anonymous_id, page_url, page_path, page_title, page_referrer, params,
  utm_source, utm_medium, utm_campaign, utm_term, utm_content, gclid, fbclid, landing_page, landing_referrer, received_at,
  gbraid, wbraid, consent_analytics_storage, consent_ad_storage, consent_ad_user_data, consent_ad_personalization,
  fbp, fbc, ga_client_id, user_id, email_sha256, phone_sha256, google_email_sha256, google_phone_sha256)
SELECT e.event_id, e.name, epoch_ms(e.ts), e.ts, e.session_id, e.anonymous_id,
       e.page.url, e.page.path, e.page.title, e.page.referrer, e.params,
       e.attribution.utm_source, e.attribution.utm_medium, e.attribution.utm_campaign,
       e.attribution.utm_term, e.attribution.utm_content, e.attribution.gclid, e.attribution.fbclid,
       e.attribution.landing_page, e.attribution.referrer, epoch_ms(e.received_at),
       e.attribution.gbraid, e.attribution.wbraid,
       e.consent.analytics_storage, e.consent.ad_storage, e.consent.ad_user_data, e.consent.ad_personalization,
       e.ids.fbp, e.ids.fbc, e.ids.ga_client_id, e.ids.user_id, e.ids.email_sha256, e.ids.phone_sha256,
       e.ids.google_email_sha256, e.ids.google_phone_sha256
FROM (SELECT from_json(item, '${EVENT_JSON_SHAPE}') AS e FROM (SELECT unnest(CAST($1 AS JSON[])) AS item))
RETURNING event_id`;

/**
 * Sessions, and the first macro conversion of each. Shared by both report queries.
 * `$macro`: the plan's macro event names.
 */
const SESSIONS = `
macro AS (SELECT unnest(CAST($macro AS VARCHAR[])) AS name),
flagged AS (
  SELECT e.session_id, e.name, e.ts_ms, m.name IS NOT NULL AS is_macro
  FROM events AS e LEFT JOIN macro AS m ON m.name = e.name
),
sessions AS (
  SELECT session_id, min(ts_ms) FILTER (WHERE is_macro) AS first_macro_ms
  FROM flagged
  GROUP BY session_id
),
totals AS (SELECT count(*) AS sessions, count(first_macro_ms) AS converted FROM sessions)`;

/**
 * The 2×2 table of every signal: the plan's micro-conversions (`$signals`) and every other non-macro
 * event name seen. A session "has" a signal when the signal happened at or before the session's first
 * macro conversion (any time, in a session that never converts): something that happens after the
 * purchase cannot be what predicted it. A session whose signal came only after it counts as without.
 */
export const SIGNAL_COUNTS = `
WITH ${SESSIONS},
exposures AS (
  SELECT DISTINCT f.session_id, f.name
  FROM flagged AS f JOIN sessions AS s ON s.session_id = f.session_id
  WHERE NOT f.is_macro AND (s.first_macro_ms IS NULL OR f.ts_ms <= s.first_macro_ms)
),
signals AS (
  SELECT unnest(CAST($signals AS VARCHAR[])) AS name
  UNION
  SELECT DISTINCT name FROM flagged WHERE NOT is_macro
),
per_signal AS (
  SELECT g.name, count(x.session_id) AS sessions_with, count(s.first_macro_ms) AS converted_with
  FROM signals AS g
  LEFT JOIN exposures AS x ON x.name = g.name
  LEFT JOIN sessions AS s ON s.session_id = x.session_id
  WHERE g.name NOT IN (SELECT name FROM macro)
  GROUP BY g.name
)
SELECT p.name AS signal,
       p.sessions_with,
       p.converted_with,
       t.sessions - p.sessions_with AS sessions_without,
       t.converted - p.converted_with AS converted_without,
       p.converted_with / nullif(p.sessions_with, 0) AS rate_with,
       (t.converted - p.converted_with) / nullif(t.sessions - p.sessions_with, 0) AS rate_without
FROM per_signal AS p CROSS JOIN totals AS t
ORDER BY p.name`;

/**
 * Sessions reaching each stage of the plan: a session reaches a stage when it has any event of that
 * stage, at any time. `$stage_order`, `$stage_name`, `$stage_event` are parallel lists (one entry per
 * event of each stage). Returns one row per stage that has events, plus the totals on every row.
 */
export const FUNNEL_COUNTS = `
WITH ${SESSIONS},
stage_events AS (
  SELECT unnest(CAST($stage_order AS INTEGER[])) AS stage_order,
         unnest(CAST($stage_name AS VARCHAR[])) AS stage,
         unnest(CAST($stage_event AS VARCHAR[])) AS name
),
-- The furthest stage each session reached: it has reached that stage and every one before it.
furthest AS (
  SELECT f.session_id, max(g.stage_order) AS stage_order
  FROM flagged AS f JOIN stage_events AS g ON g.name = f.name
  GROUP BY f.session_id
),
reach AS (
  SELECT g.stage_order, g.stage, count(u.session_id) AS sessions
  FROM (SELECT DISTINCT stage_order, stage FROM stage_events) AS g
  LEFT JOIN furthest AS u ON u.stage_order >= g.stage_order
  GROUP BY g.stage_order, g.stage
)
SELECT r.stage, r.sessions, t.sessions AS total_sessions, t.converted AS total_converted
FROM totals AS t LEFT JOIN reach AS r ON true
ORDER BY r.stage_order`;

import { DatabaseError, Pool, type PoolConfig, type QueryResultRow } from 'pg';
import { UnstorableEventsError, type CollectedEvent, type EventStore, type FunnelCounts, type FunnelQuery, type SignalCounts, type SignalQuery } from './store';

/**
 * The PostgreSQL store: for several collector processes behind a load balancer, all writing one
 * database. DuckDB (`duckdb-store.ts`) lets one process write its file; PostgreSQL takes any number of
 * writers, and the primary key on `event_id` keeps each event once whichever process stores it.
 */
export interface PostgresStore extends EventStore {
  readonly kind: 'postgres';
  /** Runs any SQL with positional parameters (`$1`); rows as node-postgres returns them (bigint as text). */
  query<Row extends QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>;
}

export interface PostgresStoreOptions {
  /** Told when an idle connection breaks (the server restarted): the pool drops it and opens another. Default: `console.error`. */
  onIdleError?: (error: Error) => void;
}

/**
 * One column of the `events` table: its type, and how an event fills it. The list drives the table,
 * the upgrade of an older table and the insert, so a field the wire format gains is one entry here.
 * `input` is the type the value is sent as (one array per column); `select` turns it into the column.
 * A nullable column is added to an existing table on open (or loses the NOT NULL an older table gave
 * it); a NOT NULL one cannot be added, without a default.
 */
interface Column {
  name: string;
  type: string;
  nullable: boolean;
  value(event: CollectedEvent, receivedAt: number): string | number | null;
  input?: string;
  select?: (input: string) => string;
}

/**
 * PostgreSQL's text cannot hold U+0000 (DuckDB's can), and UTF-8 cannot hold half a surrogate pair
 * (JSON can: `"\ud800"`). Both become U+FFFD in the text columns, so an event DuckDB stores is stored
 * here too, not refused; `params` keeps them exactly (see `params` below).
 */
const UNSTORABLE_IN_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const text = (value: string): string => value.replace(UNSTORABLE_IN_TEXT, '\ufffd');
const optionalText = (value: string | null | undefined): string | null => (typeof value === 'string' ? text(value) : null);

/** Epoch ms, sent as a whole number, stored as a timestamptz (exact: no float seconds on the way). */
const fromEpochMs = (input: string) => `timestamptz 'epoch' + ${input} * interval '1 millisecond'`;

/**
 * An optional text field: NULL when missing. The groups are read with `?.` although the collector
 * always fills them in: a tool inserting events of its own must not fail the whole call on a missing one.
 */
const optional = (name: string, field: (event: CollectedEvent) => string | null | undefined): Column => ({
  name,
  type: 'text',
  nullable: true,
  value: (event) => optionalText(field(event)),
});

/** The DuckDB table's columns (sql.ts), in its order and PostgreSQL's types. */
const COLUMNS: readonly Column[] = [
  // Lower case, as DuckDB stores them, so that an id written in capitals still deduplicates.
  { name: 'event_id', type: 'uuid', nullable: false, value: (event) => event.event_id.toLowerCase() },
  { name: 'name', type: 'text', nullable: false, value: (event) => event.name },
  // The wire allows a fractional ts; both stores keep whole ms. timestamptz: an instant, whatever the session's time zone.
  { name: 'ts', type: 'timestamptz', nullable: false, input: 'bigint', select: fromEpochMs, value: (event) => Math.round(event.ts) },
  { name: 'ts_ms', type: 'bigint', nullable: false, value: (event) => Math.round(event.ts) },
  { name: 'session_id', type: 'text', nullable: false, value: (event) => text(event.session_id) },
  optional('anonymous_id', (event) => event.anonymous_id),
  optional('page_url', (event) => event.page?.url),
  optional('page_path', (event) => event.page?.path),
  optional('page_title', (event) => event.page?.title),
  optional('page_referrer', (event) => event.page?.referrer),
  // json, not jsonb: json keeps the text as sent, and jsonb refuses \u0000 in a string. Query it as
  // `params->>'cta_name'`, or `params::jsonb` where no value holds \u0000. No params: SQL NULL, as in DuckDB.
  { name: 'params', type: 'json', nullable: true, value: (event) => (event.params == null ? null : JSON.stringify(event.params)) },
  optional('utm_source', (event) => event.attribution?.utm_source),
  optional('utm_medium', (event) => event.attribution?.utm_medium),
  optional('utm_campaign', (event) => event.attribution?.utm_campaign),
  optional('utm_term', (event) => event.attribution?.utm_term),
  optional('utm_content', (event) => event.attribution?.utm_content),
  optional('gclid', (event) => event.attribution?.gclid),
  optional('fbclid', (event) => event.attribution?.fbclid),
  optional('landing_page', (event) => event.attribution?.landing_page),
  optional('landing_referrer', (event) => event.attribution?.referrer),
  { name: 'received_at', type: 'timestamptz', nullable: false, input: 'bigint', select: fromEpochMs, value: (_, receivedAt) => Math.round(receivedAt) },
  // Added after the first version of the table: an older one gains them on open.
  optional('gbraid', (event) => event.attribution?.gbraid),
  optional('wbraid', (event) => event.attribution?.wbraid),
  optional('consent_analytics_storage', (event) => event.consent?.analytics_storage),
  optional('consent_ad_storage', (event) => event.consent?.ad_storage),
  optional('consent_ad_user_data', (event) => event.consent?.ad_user_data),
  optional('consent_ad_personalization', (event) => event.consent?.ad_personalization),
  optional('fbp', (event) => event.ids?.fbp),
  optional('fbc', (event) => event.ids?.fbc),
  optional('ga_client_id', (event) => event.ids?.ga_client_id),
  optional('user_id', (event) => event.ids?.user_id),
  optional('email_sha256', (event) => event.ids?.email_sha256),
  optional('phone_sha256', (event) => event.ids?.phone_sha256),
  optional('google_email_sha256', (event) => event.ids?.google_email_sha256),
  optional('google_phone_sha256', (event) => event.ids?.google_phone_sha256),
];

const CREATE_EVENTS_TABLE = `
CREATE TABLE IF NOT EXISTS events (
  ${COLUMNS.map((column) => `${column.name} ${column.type}${column.name === 'event_id' ? ' PRIMARY KEY' : column.nullable ? '' : ' NOT NULL'}`).join(',\n  ')}
)`;

/** Any constant: collectors opening the store at the same moment take turns at creating the table. */
const SCHEMA_LOCK = 0x6d6963726f; // "micro"

/**
 * One array per column, unnested into rows: one statement and one plan whatever the batch size.
 * `ON CONFLICT DO NOTHING` is the deduplication by `event_id`, also against a row another process is
 * inserting at this moment (this statement waits for that one to commit or roll back, then skips or
 * inserts). `RETURNING` tells which events were new.
 */
const INSERT_EVENTS = `
INSERT INTO events (${COLUMNS.map((column) => column.name).join(', ')})
SELECT ${COLUMNS.map((column) => (column.select ? column.select(`e.${column.name}`) : `e.${column.name}`)).join(', ')}
FROM unnest(${COLUMNS.map((column, index) => `$${index + 1}::${column.input ?? column.type}[]`).join(', ')})
  AS e(${COLUMNS.map((column) => column.name).join(', ')})
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id`;

/** `SESSIONS` of sql.ts: sessions and the first macro conversion of each. `$1`: the macro names. */
const SESSIONS = `
macro AS (SELECT unnest($1::text[]) AS name),
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
 * `SIGNAL_COUNTS` of sql.ts, whose comment states the rule: a session has a signal when it happened at
 * or before the session's first macro conversion. `$2`: the plan's signals. Ordered by byte order
 * (`COLLATE "C"`), as DuckDB orders, whatever the database's collation.
 */
const SIGNAL_COUNTS = `
WITH ${SESSIONS},
exposures AS (
  SELECT DISTINCT f.session_id, f.name
  FROM flagged AS f JOIN sessions AS s ON s.session_id = f.session_id
  WHERE NOT f.is_macro AND (s.first_macro_ms IS NULL OR f.ts_ms <= s.first_macro_ms)
),
signals AS (
  SELECT unnest($2::text[]) AS name
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
       t.converted - p.converted_with AS converted_without
FROM per_signal AS p CROSS JOIN totals AS t
ORDER BY p.name COLLATE "C"`;

/**
 * `FUNNEL_COUNTS` of sql.ts: a session reaches the furthest stage it has an event of, and every stage
 * before it. `$2`, `$3`, `$4`: parallel arrays (stage order, stage, event name), one entry per event.
 */
const FUNNEL_COUNTS = `
WITH ${SESSIONS},
stage_events AS (
  SELECT * FROM unnest($2::integer[], $3::text[], $4::text[]) AS g(stage_order, stage, name)
),
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

/**
 * Connects to PostgreSQL (a `postgres://` URL, or node-postgres pool settings) and creates the
 * `events` table if it is missing, upgrading an older one (see `prepareTable`).
 *
 * @example const store = await openPostgresStore(process.env.DATABASE_URL!);
 */
export async function openPostgresStore(connection: string | PoolConfig, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const config = typeof connection === 'string' ? { connectionString: connection } : connection;
  const pool = new Pool({ application_name: 'microconv-collector', ...config });
  // Without a listener, a connection that breaks while idle (a server restart) would crash the process.
  pool.on('error', options.onIdleError ?? ((error) => console.error('[microconv postgres] idle connection lost:', error.message)));
  try {
    await prepareTable(pool);
  } catch (error) {
    await pool.end();
    throw new Error(`cannot open the PostgreSQL store: ${(error as Error).message}`, { cause: error });
  }

  const query = async <Row extends QueryResultRow>(sql: string, values?: unknown[]) => (await pool.query<Row>(sql, values)).rows;

  const writes = groupCommit(async (requests) => {
    const rows = firstOfEachId(requests);
    const values = COLUMNS.map((column) => rows.map(({ event, receivedAt }) => column.value(event, receivedAt)));
    const inserted = await query<{ event_id: string }>(INSERT_EVENTS, values);
    return new Set(inserted.map((row) => row.event_id));
  });

  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    query,

    insert(events: readonly CollectedEvent[], receivedAt: number) {
      if (events.length === 0) return Promise.resolve(0);
      if (closed) return Promise.reject(new Error('the PostgreSQL store is closed'));
      return writes.add(events, receivedAt);
    },

    async signalCounts({ macro, signals }: SignalQuery): Promise<SignalCounts[]> {
      const rows = await query(SIGNAL_COUNTS, [[...macro], [...signals]]);
      return rows.map((row) => ({
        signal: String(row.signal),
        sessionsWith: Number(row.sessions_with),
        convertedWith: Number(row.converted_with),
        sessionsWithout: Number(row.sessions_without),
        convertedWithout: Number(row.converted_without),
      }));
    },

    async funnelCounts({ macro, stages }: FunnelQuery): Promise<FunnelCounts> {
      const flat = stages.flatMap(({ stage, events }, order) => events.map((name) => ({ order, stage, name })));
      const rows = await query(FUNNEL_COUNTS, [[...macro], flat.map((entry) => entry.order), flat.map((entry) => entry.stage), flat.map((entry) => entry.name)]);
      const reached = new Map(rows.filter((row) => row.stage !== null).map((row) => [String(row.stage), Number(row.sessions)]));
      return {
        sessions: Number(rows[0]?.total_sessions ?? 0),
        converted: Number(rows[0]?.total_converted ?? 0),
        stages: stages.map(({ stage }) => ({ stage, sessions: reached.get(stage) ?? 0 })),
      };
    },

    close() {
      // Writes already asked for finish first.
      closed ??= writes.drained().then(() => pool.end());
      return closed;
    },
  };
}

/**
 * Creates the table, or upgrades an older one: adds the nullable columns it lacks, and lets the
 * columns that became optional (page, params, landing page and referrer) be NULL. Under an advisory
 * lock, because two `CREATE TABLE IF NOT EXISTS` racing each other can both try to create it (one then
 * fails). A table that is up to date is only read: no `ALTER` that would hold up writers.
 */
async function prepareTable(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(CREATE_EVENTS_TABLE);
    const { rows } = await client.query<{ column_name: string; is_nullable: 'YES' | 'NO' }>(
      "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events'",
    );
    const present = new Map(rows.map((row) => [row.column_name, row.is_nullable === 'YES']));
    for (const column of COLUMNS) {
      const nullable = present.get(column.name);
      if (nullable === undefined) {
        if (!column.nullable) throw new Error(`the events table has no column ${column.name} (${column.type} NOT NULL), and one cannot be added to rows already there`);
        await client.query(`ALTER TABLE events ADD COLUMN ${column.name} ${column.type}`);
      } else if (column.nullable && !nullable) {
        await client.query(`ALTER TABLE events ALTER COLUMN ${column.name} DROP NOT NULL`);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * What PostgreSQL refuses for an event's content, so that a retry would fail alike: SQLSTATE class 22
 * (data exception: a value its type or the database's encoding cannot hold, such as 22P05 in a LATIN1
 * database) and class 23 (a constraint the table has; the deduplication conflict never gets here,
 * `ON CONFLICT` takes it). A RangeError is params too deep for `JSON.stringify`. Anything else (no
 * connection, a server shutting down, a full disk, a deadlock, a missing table) is storage failing.
 */
const isContentError = (error: unknown): boolean =>
  error instanceof RangeError || (error instanceof DatabaseError && /^2[23]/.test(error.code ?? ''));

/** How the refusal reads in the collector's answer: PostgreSQL's message and its SQLSTATE, never the row. */
const problemOf = (error: unknown): string => {
  const message = String((error as Error).message).split('\n')[0]!.slice(0, 200);
  return `cannot be stored: ${message}${error instanceof DatabaseError ? ` (${error.code})` : ''}`;
};

interface Row {
  event: CollectedEvent;
  receivedAt: number;
}

/**
 * Group commit, as in the DuckDB store: the inserts that arrive while a write runs go out together in
 * the next one (one statement, one commit), and each learns how many of its own events were new
 * (`insertRows` resolves to the ids that were). If the database refuses a group for its content, each
 * insert is tried on its own, and one it still refuses event by event: an event PostgreSQL cannot
 * take never fails the others with it, and is named (`UnstorableEventsError`). A failure of storage
 * itself fails every insert of the group, to be retried. Other processes write at the same time; the
 * database orders them.
 */
function groupCommit(insertRows: (requests: readonly PendingInsert[]) => Promise<Set<string>>) {
  const pending: PendingInsert[] = [];
  let writing: Promise<void> = Promise.resolve();
  const settle = ({ events, resolve, reject }: PendingInsert, fresh: Set<string>, unstorable: UnstorableEventsError['events'] = []) => {
    let count = 0;
    // The same id twice (a replay racing its original) is new for the first asker only.
    for (const event of events) if (fresh.delete(event.event_id.toLowerCase())) count++;
    if (unstorable.length) reject(new UnstorableEventsError(count, unstorable));
    else resolve(count);
  };
  const writeEventByEvent = async (request: PendingInsert) => {
    const fresh = new Set<string>();
    const unstorable: Array<{ event_id: string; problem: string }> = [];
    for (const event of request.events) {
      try {
        for (const id of await insertRows([{ ...request, events: [event] }])) fresh.add(id);
      } catch (error) {
        if (!isContentError(error)) return request.reject(error);
        unstorable.push({ event_id: event.event_id, problem: problemOf(error) });
      }
    }
    settle(request, fresh, unstorable);
  };
  const writeAlone = (request: PendingInsert) =>
    insertRows([request]).then(
      (fresh) => settle(request, fresh),
      (error) => (isContentError(error) ? writeEventByEvent(request) : request.reject(error)),
    );
  const writeGroup = async (group: PendingInsert[]) => {
    try {
      const fresh = await insertRows(group);
      for (const request of group) settle(request, fresh);
    } catch (error) {
      if (!isContentError(error)) return group.forEach((request) => request.reject(error));
      if (group.length === 1) return await writeEventByEvent(group[0]!);
      for (const request of group) await writeAlone(request);
    }
  };
  // Never rejects: a rejected `writing` would skip every write after it. (Rejecting a settled insert does nothing.)
  const writePending = () => {
    const group = pending.splice(0);
    return writeGroup(group).catch((error: unknown) => group.forEach((request) => request.reject(error)));
  };
  return {
    add(events: readonly CollectedEvent[], receivedAt: number): Promise<number> {
      return new Promise((resolve, reject) => {
        pending.push({ events, receivedAt, resolve, reject });
        if (pending.length === 1) writing = writing.then(writePending);
      });
    },
    /** Resolves once every write asked for so far is done. */
    drained: () => writing,
  };
}

interface PendingInsert {
  events: readonly CollectedEvent[];
  receivedAt: number;
  resolve(count: number): void;
  reject(error: unknown): void;
}

/**
 * The first occurrence of each id in the requests (the copy DuckDB keeps too), in id order. The order is
 * what lets several collectors write overlapping batches at once: every writer takes the rows' key
 * locks in the same order, so they wait for each other instead of deadlocking (writers taking them in
 * the order the events came would meet from both ends). Lower-case hex text sorts as the uuid's bytes.
 */
function firstOfEachId(requests: readonly PendingInsert[]): Row[] {
  const rows = new Map<string, Row>();
  for (const { events, receivedAt } of requests) {
    for (const event of events) {
      const id = event.event_id.toLowerCase();
      if (!rows.has(id)) rows.set(id, { event, receivedAt });
    }
  }
  return [...rows.keys()].sort().map((id) => rows.get(id)!);
}

import type { PostgresStore } from '../postgres-store';
import { groupAdds, summariseCounts, type AddedKey, type ClaimedRow, type ForwardOutbox, type NewOutboxRow, type OutboxCounts, type OutboxStatus, type RowChange } from './outbox';
import type { DestinationName } from './types';

/**
 * The forward outbox as a table beside `events` in the PostgreSQL store, shared by every collector
 * process writing there: the same table, key and rules as `duckdb-outbox.ts`. The key
 * `(destination, event_id)` is the at-most-once rule across processes too (`ON CONFLICT DO NOTHING`:
 * a replay that reaches another collector adds nothing). A claim takes due rows `FOR UPDATE SKIP
 * LOCKED` and leases them, so two collectors never send the same row while the lease holds.
 * `payload` is `json` (not `jsonb`, which refuses U+0000, a character the collector accepts in
 * strings), and text columns get U+FFFD for U+0000, as in the events table.
 */
const CREATE_OUTBOX_TABLE = `
CREATE TABLE IF NOT EXISTS forward_outbox (
  destination     text NOT NULL,
  event_id        text NOT NULL,
  event_name      text NOT NULL,
  event_ts        bigint NOT NULL,
  status          text NOT NULL,
  why             text NOT NULL,
  batch_key       text NOT NULL,
  payload         json,
  attempts        integer NOT NULL,
  next_attempt_at bigint NOT NULL,
  lease_until     bigint,
  error           text,
  created_at      bigint NOT NULL,
  done_at         bigint,
  PRIMARY KEY (destination, event_id)
);
CREATE INDEX IF NOT EXISTS forward_outbox_due ON forward_outbox (next_attempt_at) WHERE status = 'pending'`;

/** Any constant, another than the events table's: collectors opening at once take turns at creating the table. */
const OUTBOX_SCHEMA_LOCK = 0x6d63666f7277; // "mcforw"

/** One array per column, unnested into rows: one statement whatever the number of rows. */
const INSERT_ROWS = `
INSERT INTO forward_outbox (destination, event_id, event_name, event_ts, status, why, batch_key, payload, attempts, next_attempt_at, lease_until, error, created_at, done_at)
SELECT r.destination, r.event_id, r.event_name, r.event_ts, r.status, r.why, r.batch_key, r.payload::json, 0, r.created_at, NULL, r.error, r.created_at, NULL
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
  AS r(destination, event_id, event_name, event_ts, status, why, batch_key, payload, error, created_at)
ON CONFLICT (destination, event_id) DO NOTHING
RETURNING destination, event_id`;

/**
 * Leases up to `$3` rows due at `$1` until `$2`. `SKIP LOCKED`: rows another collector is claiming at
 * this moment are left to it; a row it has claimed and committed is no longer due (its lease is on).
 */
const CLAIM = `
UPDATE forward_outbox AS o SET lease_until = $2
FROM (
  SELECT destination, event_id FROM forward_outbox
  WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
  ORDER BY next_attempt_at, created_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED
) AS due
WHERE o.destination = due.destination AND o.event_id = due.event_id
RETURNING o.destination, o.event_id, o.event_name, o.event_ts, o.batch_key, o.payload::text AS payload, o.attempts`;

const COUNTS = `
SELECT destination, status, attempts > 0 AS retried, error, count(*) AS n, min(next_attempt_at) AS next
FROM forward_outbox GROUP BY destination, status, attempts > 0, error`;

const UNSTORABLE_IN_TEXT = /\u0000/g;
const text = (value: string): string => value.replace(UNSTORABLE_IN_TEXT, '\ufffd');
const optionalText = (value: string | null): string | null => (value === null ? null : text(value));

/** Opens (creating if needed) the outbox table in a PostgreSQL store. */
export async function openPostgresOutbox(store: PostgresStore): Promise<ForwardOutbox> {
  // One simple query (no parameters) is one transaction, so the advisory lock holds for all of it.
  await store.query(`SELECT pg_advisory_xact_lock(${OUTBOX_SCHEMA_LOCK}); ${CREATE_OUTBOX_TABLE}`);
  const parse = (payload: unknown) => (typeof payload === 'string' ? JSON.parse(payload) : (payload ?? null));
  const add = groupAdds(async (rows) => store.query<AddedKey & Record<string, unknown>>(INSERT_ROWS, columnsOf(inKeyOrder(rows))));
  const where = 'WHERE destination = $1 AND event_id = ANY($2::text[])';

  return {
    add,

    async claim(dueBy: number, limit: number, leaseUntil: number): Promise<ClaimedRow[]> {
      const rows = await store.query(CLAIM, [dueBy, leaseUntil, limit]);
      return rows
        .map((row) => ({
          destination: row.destination as DestinationName,
          event_id: String(row.event_id),
          event_name: String(row.event_name),
          event_ts: Number(row.event_ts),
          batch_key: String(row.batch_key),
          payload: parse(row.payload),
          attempts: Number(row.attempts),
        }))
        .sort((a, b) => a.event_ts - b.event_ts);
    },

    async update(destination: DestinationName, eventIds: readonly string[], change: RowChange, now: number) {
      if (eventIds.length === 0) return;
      const key = [destination, eventIds.map((id) => id.toLowerCase())];
      if (change.status === 'pending') {
        await store.query(`UPDATE forward_outbox SET attempts = attempts + 1, next_attempt_at = $3, error = $4, lease_until = NULL ${where}`, [...key, change.nextAttemptAt, text(change.error)]);
      } else if (change.status === 'failed') {
        await store.query(`UPDATE forward_outbox SET status = 'failed', error = $3, done_at = $4, lease_until = NULL ${where}`, [...key, text(change.error), now]);
      } else {
        // Sent: the payload (hashed ids, the client's address) has done its job.
        const keep = change.status === 'dry_run' ? '' : ', payload = NULL';
        await store.query(`UPDATE forward_outbox SET status = $3, error = $4, done_at = $5, lease_until = NULL${keep} ${where}`, [
          ...key,
          change.status,
          optionalText(change.note ?? null),
          now,
        ]);
      }
    },

    async nextDue() {
      const [row] = await store.query(`SELECT min(next_attempt_at) AS next FROM forward_outbox WHERE status = 'pending'`);
      return row?.next === null || row?.next === undefined ? null : Number(row.next);
    },

    async counts(): Promise<OutboxCounts[]> {
      return summariseCounts(await store.query(COUNTS));
    },

    async list(destination: DestinationName, status: OutboxStatus, sinceTs: number) {
      const rows = await store.query(
        `SELECT event_id, event_ts, payload::text AS payload FROM forward_outbox
         WHERE destination = $1 AND status = $2 AND event_ts >= $3 ORDER BY event_ts, event_id`,
        [destination, status, sinceTs],
      );
      return rows.map((row) => ({ event_id: String(row.event_id), event_ts: Number(row.event_ts), payload: parse(row.payload) }));
    },

    async requeueFailed(destination: DestinationName | null, now: number) {
      const rows = await store.query(
        `UPDATE forward_outbox SET status = 'pending', next_attempt_at = $1, lease_until = NULL, done_at = NULL
         WHERE status = 'failed' AND payload IS NOT NULL AND ($2::text IS NULL OR destination = $2) RETURNING event_id`,
        [now, destination],
      );
      return rows.length;
    },

    /**
     * Nothing: other collectors share this table, and a lease may be a live one's. A crashed
     * collector's rows are claimed again once their lease ends (four request timeouts: 2 minutes
     * by default).
     */
    async releaseLeases() {},
  };
}

/**
 * The rows with the first of each key kept, in key order. The order lets collectors add overlapping
 * rows at once (a replay reaching two of them): each takes the keys' locks in the same order, so one
 * waits for the other instead of both deadlocking.
 */
function inKeyOrder(rows: readonly NewOutboxRow[]): NewOutboxRow[] {
  const byKey = new Map<string, NewOutboxRow>();
  for (const row of rows) {
    const key = `${row.destination} ${row.event_id.toLowerCase()}`;
    if (!byKey.has(key)) byKey.set(key, row);
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
}

/** The parameters of `INSERT_ROWS`: one array per column. */
function columnsOf(rows: readonly NewOutboxRow[]): unknown[] {
  return [
    rows.map((row) => row.destination),
    rows.map((row) => row.event_id.toLowerCase()),
    rows.map((row) => row.event_name),
    rows.map((row) => row.event_ts),
    rows.map((row) => row.status),
    rows.map((row) => text(row.why)),
    rows.map((row) => text(row.batch_key)),
    rows.map((row) => (row.payload === null || row.payload === undefined ? null : JSON.stringify(row.payload))),
    rows.map((row) => optionalText(row.error)),
    rows.map((row) => row.created_at),
  ];
}

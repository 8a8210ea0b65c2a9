import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { DuckDBStore } from '../duckdb-store';
import { groupAdds, summariseCounts, type AddedKey, type ClaimedRow, type ForwardOutbox, type OutboxCounts, type OutboxStatus, type RowChange } from './outbox';
import type { DestinationName } from './types';

/**
 * The forward outbox as a table beside `events`, on the same DuckDB connection (DuckDB lets one
 * process open a file, and the store queues every statement). The key `(destination, event_id)` is
 * the at-most-once rule; `INSERT OR IGNORE` makes adding an event twice (a replayed batch) a no-op.
 * `payload` is emptied once a row is sent: the outbox keeps what happened, not the data.
 */
export const CREATE_OUTBOX_TABLE = `
CREATE TABLE IF NOT EXISTS forward_outbox (
  destination     VARCHAR NOT NULL,
  event_id        VARCHAR NOT NULL,
  event_name      VARCHAR NOT NULL,
  event_ts        BIGINT NOT NULL,
  status          VARCHAR NOT NULL,
  why             VARCHAR NOT NULL,
  batch_key       VARCHAR NOT NULL,
  payload         JSON,
  attempts        INTEGER NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  lease_until     BIGINT,
  error           VARCHAR,
  created_at      BIGINT NOT NULL,
  done_at         BIGINT,
  PRIMARY KEY (destination, event_id)
)`;

/** Rows passed as one JSON parameter, as the events insert does: one statement however many rows. */
const INSERT_ROWS = `
INSERT OR IGNORE INTO forward_outbox
SELECT r->>'destination', lower(r->>'event_id'), r->>'event_name', CAST(r->>'event_ts' AS BIGINT), r->>'status', r->>'why',
       r->>'batch_key', r->'payload', 0, CAST(r->>'created_at' AS BIGINT), NULL, r->>'error', CAST(r->>'created_at' AS BIGINT), NULL
FROM (SELECT unnest(CAST($1 AS JSON[])) AS r)
RETURNING destination, event_id`;

const CLAIM = `
UPDATE forward_outbox SET lease_until = $lease
WHERE destination || ' ' || event_id IN (
  SELECT destination || ' ' || event_id FROM forward_outbox
  WHERE status = 'pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
  ORDER BY next_attempt_at, created_at
  LIMIT $limit)
RETURNING destination, event_id, event_name, event_ts, batch_key, payload::VARCHAR AS payload, attempts`;

/** Rows by destination, status, retried or not, and reason: what `summariseCounts` reads. */
const COUNTS = `
SELECT destination, status, attempts > 0 AS retried, error, count(*) AS n, min(next_attempt_at) AS next
FROM forward_outbox GROUP BY ALL`;

/** Opens (creating if needed) the outbox table in a DuckDB store. */
export async function openDuckDBOutbox(store: DuckDBStore): Promise<ForwardOutbox> {
  await store.query(CREATE_OUTBOX_TABLE);
  const ids = LIST(VARCHAR);
  const parse = (payload: unknown) => (typeof payload === 'string' ? JSON.parse(payload) : payload ?? null);
  const add = groupAdds(async (rows): Promise<AddedKey[]> =>
    (await store.query(INSERT_ROWS, [JSON.stringify(rows)])).map((row) => ({ destination: String(row.destination), event_id: String(row.event_id) })),
  );

  return {
    add,

    async claim(dueBy: number, limit: number, leaseUntil: number): Promise<ClaimedRow[]> {
      const rows = await store.query(CLAIM, { now: dueBy, lease: leaseUntil, limit });
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
      const where = 'WHERE destination = $destination AND event_id IN (SELECT unnest($ids))';
      const values = { destination, ids: listValue(eventIds.map((id) => id.toLowerCase())) };
      const types = { ids };
      if (change.status === 'pending') {
        await store.query(
          `UPDATE forward_outbox SET attempts = attempts + 1, next_attempt_at = $next, error = $error, lease_until = NULL ${where}`,
          { ...values, next: change.nextAttemptAt, error: change.error },
          types,
        );
      } else if (change.status === 'failed') {
        await store.query(`UPDATE forward_outbox SET status = 'failed', error = $error, done_at = $now, lease_until = NULL ${where}`, { ...values, error: change.error, now }, types);
      } else {
        // Sent: the payload (hashed ids, the client's address) has done its job.
        const keep = change.status === 'dry_run' ? '' : ', payload = NULL';
        await store.query(
          `UPDATE forward_outbox SET status = $status, error = $note, done_at = $now, lease_until = NULL${keep} ${where}`,
          { ...values, status: change.status, note: change.note ?? null, now },
          types,
        );
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
        `SELECT event_id, event_ts, payload::VARCHAR AS payload FROM forward_outbox
         WHERE destination = $destination AND status = $status AND event_ts >= $since ORDER BY event_ts, event_id`,
        { destination, status, since: sinceTs },
      );
      return rows.map((row) => ({ event_id: String(row.event_id), event_ts: Number(row.event_ts), payload: parse(row.payload) }));
    },

    async requeueFailed(destination: DestinationName | null, now: number) {
      const rows = await store.query(
        `UPDATE forward_outbox SET status = 'pending', next_attempt_at = $now, lease_until = NULL, done_at = NULL
         WHERE status = 'failed' AND payload IS NOT NULL AND ($destination IS NULL OR destination = $destination) RETURNING event_id`,
        { now, destination },
      );
      return rows.length;
    },

    async releaseLeases() {
      await store.query('UPDATE forward_outbox SET lease_until = NULL WHERE lease_until IS NOT NULL');
    },
  };
}

import type { DestinationName } from './types';

/**
 * Where an outbox row stands:
 * - `pending`: to be sent (`attempts` 0: queued; more: retrying, at `next_attempt_at`);
 * - `sent`, `tested` (sent in the platform's test mode): done, never sent again;
 * - `failed`: refused for good (a 4xx other than 408/429, or too old for the platform), reason kept;
 * - `skipped`: passed the gate but could not go (consent, no click id), reason kept;
 * - `dry_run`: printed instead of sent; `file`: listed in the Google Ads upload file.
 */
export type OutboxStatus = 'pending' | 'sent' | 'tested' | 'failed' | 'skipped' | 'dry_run' | 'file';

/** A row to add. `payload` is the destination's item (never a credential); null for a skipped row. */
export interface NewOutboxRow {
  destination: DestinationName;
  event_id: string;
  event_name: string;
  /** The event's time, epoch ms: platforms refuse events past an age. */
  event_ts: number;
  status: 'pending' | 'skipped' | 'file';
  /** Why the gate let it through (`macro conversion`, `associated with more conversion`, ...). */
  why: string;
  /** Rows with the same key may share a request. */
  batch_key: string;
  payload: unknown;
  /** For a skipped row: why. */
  error: string | null;
  created_at: number;
}

/** A row claimed for sending. */
export interface ClaimedRow {
  destination: DestinationName;
  event_id: string;
  event_name: string;
  event_ts: number;
  batch_key: string;
  payload: unknown;
  attempts: number;
}

/** A change to rows of one destination. */
export type RowChange =
  | { status: 'sent' | 'tested' | 'dry_run'; note?: string }
  | { status: 'failed'; error: string }
  | { status: 'pending'; error: string; nextAttemptAt: number };

/** Counts of one destination, for `/report` and the CLI. */
export interface OutboxCounts {
  destination: DestinationName;
  queued: number;
  retrying: number;
  sent: number;
  tested: number;
  failed: number;
  skipped: number;
  dry_run: number;
  file: number;
  /** The most common reasons, most frequent first. */
  failures: Array<{ reason: string; count: number }>;
  skips: Array<{ reason: string; count: number }>;
  /** The last error of rows still retrying, with how many share it. */
  retry_reasons: Array<{ reason: string; count: number }>;
  /** When the next retry is due (epoch ms), if any. */
  next_attempt_at: number | null;
}

/**
 * The durable outbox of server-side forwarding: one row per destination and event, so an event is
 * sent at most once per destination (the key is `(destination, event_id)`, and adding a row that is
 * there already adds nothing). Rows survive a restart; a claimed row is leased, so two workers
 * never send the same row. `duckdb-outbox.ts` implements it on the collector's DuckDB connection; a
 * PostgreSQL version takes the same table (claim with `FOR UPDATE SKIP LOCKED`).
 */
export interface ForwardOutbox {
  /** Adds rows, ignoring those already there; resolves to how many were new. */
  add(rows: readonly NewOutboxRow[]): Promise<number>;
  /** Leases up to `limit` pending rows due at `now`, oldest due first, until `now + leaseMs`. */
  claim(now: number, limit: number, leaseMs: number): Promise<ClaimedRow[]>;
  /** Applies a change to rows of a destination (and ends their lease). */
  update(destination: DestinationName, eventIds: readonly string[], change: RowChange, now: number): Promise<void>;
  /** When the earliest pending row is due (epoch ms), or null. */
  nextDue(): Promise<number | null>;
  counts(): Promise<OutboxCounts[]>;
  /** Rows of a destination in a status, with their payloads, events from `sinceTs` on (the upload file). */
  list(destination: DestinationName, status: OutboxStatus, sinceTs: number): Promise<Array<{ event_id: string; event_ts: number; payload: unknown }>>;
  /** Puts failed rows back in the queue (after fixing what made them fail); resolves to how many. */
  requeueFailed(destination: DestinationName | null, now: number): Promise<number>;
  /** Ends every lease: for a store only this process opens, at start (a crash left them). */
  releaseLeases(): Promise<void>;
}

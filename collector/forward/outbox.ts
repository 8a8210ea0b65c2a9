import { DESTINATIONS, type DestinationName } from './types';

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
 * never send the same row. `duckdb-outbox.ts` implements it on the collector's DuckDB connection,
 * `postgres-outbox.ts` on the PostgreSQL store's pool (shared by several collector processes).
 */
export interface ForwardOutbox {
  /** Adds rows, ignoring those already there; resolves to how many were new. */
  add(rows: readonly NewOutboxRow[]): Promise<number>;
  /**
   * Leases up to `limit` pending rows due at `dueBy` (and not leased then), oldest due first, until
   * `leaseUntil`: a time from the clock at the claim, since a flush's `dueBy` may be long past.
   */
  claim(dueBy: number, limit: number, leaseUntil: number): Promise<ClaimedRow[]>;
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

/** A row an insert added: its key, as the outbox stores it (the event id in lower case). */
export interface AddedKey {
  destination: string;
  event_id: string;
}

interface PendingAdd {
  rows: readonly NewOutboxRow[];
  resolve(count: number): void;
  reject(error: unknown): void;
}

/**
 * Group commit for `add`, as the events insert does: a statement costs the database far more than
 * the rows in it, so the adds that arrive while one is being written go out together in the next.
 * `insert` writes rows (ignoring those already there) and returns the keys it added; each caller
 * still learns how many of its rows were new. If a group fails, each add is tried on its own.
 */
export function groupAdds(insert: (rows: readonly NewOutboxRow[]) => Promise<readonly AddedKey[]>): (rows: readonly NewOutboxRow[]) => Promise<number> {
  const pending: PendingAdd[] = [];
  let writing = false;
  const write = async (group: PendingAdd[]) => {
    const inserted = await insert(group.flatMap((add) => add.rows));
    const fresh = new Set(inserted.map((row) => `${row.destination} ${row.event_id}`));
    // The same row twice (a replay racing its original) is new for the first asker only.
    for (const add of group) add.resolve(add.rows.filter((row) => fresh.delete(`${row.destination} ${row.event_id.toLowerCase()}`)).length);
  };
  const drain = async () => {
    writing = true;
    while (pending.length) {
      const group = pending.splice(0);
      try {
        await write(group);
      } catch (error) {
        if (group.length === 1) group[0]!.reject(error);
        else for (const one of group) await write([one]).catch(one.reject);
      }
    }
    writing = false;
  };
  return (rows) => {
    if (rows.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      pending.push({ rows, resolve, reject });
      if (!writing) void drain();
    });
  };
}

/** Reasons listed per status in the counts. */
const TOP_REASONS = 5;

/**
 * The per-destination counts from rows grouped by destination, status, retried (`attempts > 0`) and
 * reason (`error`), each with its row count `n` and earliest `next` attempt (numbers may be text).
 */
export function summariseCounts(rows: ReadonlyArray<Record<string, unknown>>): OutboxCounts[] {
  return DESTINATIONS.map((destination) => {
    const mine = rows.filter((row) => row.destination === destination);
    const sum = (test: (row: Record<string, unknown>) => boolean) => mine.filter(test).reduce((total, row) => total + Number(row.n), 0);
    const reasons = (status: string, retried?: boolean) => {
      const byReason = new Map<string, number>();
      for (const row of mine) {
        if (row.status !== status || (retried !== undefined && row.retried !== retried)) continue;
        const reason = String(row.error ?? '');
        byReason.set(reason, (byReason.get(reason) ?? 0) + Number(row.n));
      }
      return [...byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count).slice(0, TOP_REASONS);
    };
    const pending = mine.filter((row) => row.status === 'pending');
    return {
      destination,
      queued: sum((row) => row.status === 'pending' && !row.retried),
      retrying: sum((row) => row.status === 'pending' && row.retried === true),
      sent: sum((row) => row.status === 'sent'),
      tested: sum((row) => row.status === 'tested'),
      failed: sum((row) => row.status === 'failed'),
      skipped: sum((row) => row.status === 'skipped'),
      dry_run: sum((row) => row.status === 'dry_run'),
      file: sum((row) => row.status === 'file'),
      failures: reasons('failed'),
      skips: reasons('skipped'),
      retry_reasons: reasons('pending', true),
      next_attempt_at: pending.length ? Math.min(...pending.map((row) => Number(row.next))) : null,
    };
  });
}

import type { MicroconvEvent } from '../src/types';

/**
 * Where the collector keeps events and where the report gets its numbers. The reference store is
 * DuckDB (`duckdb-store.ts`); a team that wants events in its warehouse implements these four methods
 * (the report's SQL in `sql.ts`, and `ga4/*.sql` for a GA4 export, show the logic to port).
 *
 * The contract an implementation keeps:
 * - `insert` is idempotent by `event_id`: an event already stored (from an earlier request or earlier
 *   in the same batch) stores nothing, and is not an error. Clients retry, so replays are normal.
 * - `insert` is all-or-nothing per call, and rejects (the collector answers 503, the client retries)
 *   only when storage itself failed.
 * - `signalCounts` and `funnelCounts` count sessions (by `session_id`) and apply the rules documented
 *   on `SIGNAL_COUNTS` and `FUNNEL_COUNTS` in `sql.ts`.
 */
export interface EventStore {
  /** Stores checked events; resolves to how many were new. `receivedAt`: epoch ms of arrival. */
  insert(events: readonly MicroconvEvent[], receivedAt: number): Promise<number>;
  /** The 2×2 table of each signal (see `SignalCounts`). */
  signalCounts(query: SignalQuery): Promise<SignalCounts[]>;
  /** Sessions in total, converted, and reaching each stage. */
  funnelCounts(query: FunnelQuery): Promise<FunnelCounts>;
  /** Releases the storage. */
  close(): Promise<void>;
}

export interface SignalQuery {
  /** Macro conversion names: a session converts when it has any of them. */
  macro: readonly string[];
  /** Signals to report even when no session has them yet (the plan's); every other non-macro name seen is added. */
  signals: readonly string[];
}

/**
 * One signal's 2×2 table. "With" means the signal happened at or before the session's first macro
 * conversion (any time in a session that never converted); every other session is "without".
 */
export interface SignalCounts {
  signal: string;
  sessionsWith: number;
  convertedWith: number;
  sessionsWithout: number;
  convertedWithout: number;
}

export interface FunnelQuery {
  macro: readonly string[];
  /** The plan's stages in funnel order, each with its event names. */
  stages: ReadonlyArray<{ stage: string; events: readonly string[] }>;
}

export interface FunnelCounts {
  sessions: number;
  converted: number;
  /** In the order asked; a session reaches a stage when it has any of the stage's events. */
  stages: Array<{ stage: string; sessions: number }>;
}

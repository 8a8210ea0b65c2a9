import type { ConsentValue } from '../src/types';

/**
 * An event as the collector hands it to a store: checked against the wire schema (contract 5) by
 * `validate.ts`, with every field the store knows present and missing optional ones as `null`.
 * Unknown fields are left out. The wire's own `MicroconvEvent` fits this type too, so tests and
 * tools can insert SDK events directly.
 */
export interface CollectedEvent {
  /** A UUID v4: the deduplication key. */
  event_id: string;
  name: string;
  /** Epoch milliseconds; may carry a fraction (stores keep whole ms). */
  ts: number;
  session_id: string;
  anonymous_id?: string | null;
  page: { url: string | null; path: string | null; title: string | null; referrer: string | null };
  params: { [key: string]: unknown } | null;
  attribution: AttributionColumns;
  /** The consent each purpose had when the event was tracked; `null` where not said. */
  consent?: ConsentColumns | null;
  /** Identifiers for server-side matching, each present only with the consent it needs. */
  ids?: Partial<IdColumns> | null;
}

export interface AttributionColumns {
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  gclid: string | null;
  fbclid: string | null;
  gbraid?: string | null;
  wbraid?: string | null;
  landing_page: string | null;
  referrer: string | null;
}

export interface ConsentColumns {
  analytics_storage: ConsentValue | null;
  ad_storage: ConsentValue | null;
  ad_user_data: ConsentValue | null;
  ad_personalization: ConsentValue | null;
}

export interface IdColumns {
  fbp: string | null;
  fbc: string | null;
  ga_client_id: string | null;
  user_id: string | null;
  /**
   * Lower-case hex SHA-256 of the normalised address or number, never the value itself, by Meta's
   * rules: the address trimmed and lower-cased; the number as country code and digits, no `+`.
   */
  email_sha256: string | null;
  phone_sha256: string | null;
  /**
   * The same by Google's rules (Google Ads enhanced conversions): no dots before `@gmail.com` or
   * `@googlemail.com`; the number in E.164, with its `+`. Optional: older clients and tools leave them out.
   */
  google_email_sha256?: string | null;
  google_phone_sha256?: string | null;
}

/**
 * What `insert` rejects with when storage works but some events can never be stored there (the
 * database refuses their content, so a retry would fail the same way). The other events of the
 * call were stored (`stored` of them new); the collector answers 2xx and names these as rejected,
 * so the client drops them instead of retrying them for ever. Any other rejection means storage
 * failed, and the client retries the whole request.
 */
export class UnstorableEventsError extends Error {
  override name = 'UnstorableEventsError';
  constructor(
    /** How many of the other events were new. */
    readonly stored: number,
    /** Each event refused, and why, in words a client developer can act on. */
    readonly events: ReadonlyArray<{ event_id: string; problem: string }>,
  ) {
    super(`${events.length} event(s) cannot be stored: ${events.map((event) => `${event.event_id}: ${event.problem}`).join('; ').slice(0, 500)}`);
  }
}

/**
 * Where the collector keeps events and where the report gets its numbers. The reference store is
 * DuckDB (`duckdb-store.ts`); a team that wants events in its warehouse implements these four methods
 * (the report's SQL in `sql.ts`, and `ga4/*.sql` for a GA4 export, show the logic to port).
 *
 * The contract an implementation keeps:
 * - `insert` is idempotent by `event_id`: an event already stored (from an earlier request or earlier
 *   in the same batch) stores nothing, and is not an error. Clients retry, so replays are normal.
 * - `insert` stores every event it can. When storage works but some events can never be stored
 *   (their content, not the database's state, is the cause), it stores the others and rejects with
 *   `UnstorableEventsError` naming those. It rejects with anything else only when storage itself
 *   failed (the collector answers 503 and the client retries; deduplication makes that safe).
 * - A store keeps every string the collector accepts, U+0000 included (the collector refuses lone
 *   surrogates, which no UTF-8 database can hold); where its database cannot hold a character, it
 *   replaces it rather than refuse the event.
 * - `signalCounts` and `funnelCounts` count sessions (by `session_id`) and apply the rules documented
 *   on `SIGNAL_COUNTS` and `FUNNEL_COUNTS` in `sql.ts`.
 */
export interface EventStore {
  /** Stores checked events; resolves to how many were new. `receivedAt`: epoch ms of arrival. */
  insert(events: readonly CollectedEvent[], receivedAt: number): Promise<number>;
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

import { DuckDBInstance, INTEGER, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CREATE_EVENTS_TABLE, FUNNEL_COUNTS, INSERT_EVENTS, SIGNAL_COUNTS, UPGRADE_EVENTS_TABLE } from './sql';
import { UnstorableEventsError, type CollectedEvent, type EventStore, type FunnelCounts, type FunnelQuery, type SignalCounts, type SignalQuery } from './store';

/** Where the collector keeps its database unless told otherwise (contract 7: under `./data/`). */
export const DEFAULT_DATABASE = 'data/microconv.duckdb';

/** Lists of names are typed explicitly: DuckDB cannot infer the type of an empty list. */
const NAMES = LIST(VARCHAR);

/** The DuckDB store, with `query` for tests and ad-hoc looks at the table. */
export interface DuckDBStore extends EventStore {
  readonly kind: 'duckdb';
  /** Runs any SQL with named or positional parameters; rows as plain JS values (BIGINT as number). */
  query(sql: string, values?: Record<string, DuckDBValue> | DuckDBValue[], types?: Record<string, DuckDBType>): Promise<Array<Record<string, unknown>>>;
}

/**
 * Opens (creating if needed) a DuckDB database at `path` (`:memory:` for a throwaway one) and the
 * `events` table in it.
 *
 * One connection, and every statement queued behind the previous one: DuckDB serialises writers
 * anyway, and a queue keeps a slow report from interleaving with an insert's statements.
 */
export async function openDuckDBStore(path: string = DEFAULT_DATABASE): Promise<DuckDBStore> {
  if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path);
  } catch (error) {
    const message = (error as Error).message;
    // DuckDB lets one process open a file for writing; say what that means here.
    if (/lock/i.test(message)) throw new Error(`cannot open ${path}: another process (a running collector?) has it open. ${message}`);
    throw new Error(`cannot open DuckDB database ${path}: ${message}`);
  }
  const connection: DuckDBConnection = await instance.connect();
  await connection.run(CREATE_EVENTS_TABLE);
  for (const statement of UPGRADE_EVENTS_TABLE) await connection.run(statement);

  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const query = (sql: string, values?: Record<string, DuckDBValue> | DuckDBValue[], types?: Record<string, DuckDBType>) =>
    serial(async () => {
      const reader = await connection.runAndReadAll(sql, values, types);
      return reader.getRowObjectsJS().map(plain);
    });

  /**
   * Group commit: concurrent requests' events go into one INSERT (one transaction). Under load this
   * is several times faster than a statement per request, and each request still learns how many of
   * its own events were new (from `RETURNING`). If the database refuses a group for its content, each
   * request is tried on its own, and a request it still refuses event by event: one event DuckDB
   * cannot take never fails the others with it, and is named (`UnstorableEventsError`). A failure of
   * storage itself fails every request of the group, to be retried.
   */
  const pending: PendingInsert[] = [];
  // ts is stored as whole ms (the wire allows a fractional number, BIGINT does not); ids in
  // lower case, so that a client writing its UUIDs in capitals still deduplicates.
  const rowsOf = (events: readonly CollectedEvent[], receivedAt: number) =>
    events.map((event) => ({ ...event, event_id: event.event_id.toLowerCase(), ts: Math.round(event.ts), received_at: Math.round(receivedAt) }));
  /** Inserts rows; the ids that were new. */
  const insertRows = async (rows: object[]): Promise<Set<string>> => {
    const reader = await connection.runAndReadAll(INSERT_EVENTS, [JSON.stringify(rows)]);
    return new Set(reader.getRows().map((row) => String(row[0])));
  };
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
        for (const id of await insertRows(rowsOf([event], request.receivedAt))) fresh.add(id);
      } catch (error) {
        if (!isContentError(error)) return request.reject(error);
        unstorable.push({ event_id: event.event_id, problem: `cannot be stored: ${firstLine(error)}` });
      }
    }
    settle(request, fresh, unstorable);
  };
  const writePending = async () => {
    const group = pending.splice(0);
    try {
      const fresh = await insertRows(group.flatMap(({ events, receivedAt }) => rowsOf(events, receivedAt)));
      for (const request of group) settle(request, fresh);
    } catch (error) {
      if (!isContentError(error)) return group.forEach((request) => request.reject(error));
      for (const request of group) {
        await insertRows(rowsOf(request.events, request.receivedAt)).then(
          (fresh) => settle(request, fresh),
          (alone) => (isContentError(alone) ? writeEventByEvent(request) : request.reject(alone)),
        );
      }
    }
  };

  let closed = false;
  return {
    kind: 'duckdb',
    query,

    insert(events: readonly CollectedEvent[], receivedAt: number) {
      if (events.length === 0) return Promise.resolve(0);
      return new Promise<number>((resolve, reject) => {
        pending.push({ events, receivedAt, resolve, reject });
        // One write job per group: inserts that arrive while a write runs go out together in the next.
        if (pending.length === 1) void serial(writePending);
      });
    },

    async signalCounts({ macro, signals }: SignalQuery): Promise<SignalCounts[]> {
      const rows = await query(
        SIGNAL_COUNTS,
        { macro: listValue([...macro]), signals: listValue([...signals]) },
        { macro: NAMES, signals: NAMES },
      );
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
      const rows = await query(FUNNEL_COUNTS, {
        macro: listValue([...macro]),
        stage_order: listValue(flat.map((entry) => entry.order)),
        stage_name: listValue(flat.map((entry) => entry.stage)),
        stage_event: listValue(flat.map((entry) => entry.name)),
      }, { macro: NAMES, stage_order: LIST(INTEGER), stage_name: NAMES, stage_event: NAMES });
      const reached = new Map(rows.filter((row) => row.stage !== null).map((row) => [String(row.stage), Number(row.sessions)]));
      return {
        sessions: Number(rows[0]?.total_sessions ?? 0),
        converted: Number(rows[0]?.total_converted ?? 0),
        stages: stages.map(({ stage }) => ({ stage, sessions: reached.get(stage) ?? 0 })),
      };
    },

    close() {
      return serial(async () => {
        if (closed) return;
        closed = true;
        connection.closeSync();
        instance.closeSync();
      });
    },
  };
}

/**
 * DuckDB's errors about a value (a malformed string, a number out of range, a NULL where none may
 * be), and JSON too deep to write: the event's content is the cause, and a retry would fail alike.
 * Anything else (I/O, memory, a closed database) is storage failing.
 */
const CONTENT_ERROR = /^(Conversion|Invalid Input|Out of Range|Constraint) Error/;
const isContentError = (error: unknown): boolean => error instanceof RangeError || (error instanceof Error && CONTENT_ERROR.test(error.message));
const firstLine = (error: unknown) => String((error as Error).message).split('\n')[0]!.slice(0, 200);

interface PendingInsert {
  events: readonly CollectedEvent[];
  receivedAt: number;
  resolve(count: number): void;
  reject(error: unknown): void;
}

/** BIGINT comes back as `bigint`; the counts here fit a double many times over. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(row)) if (typeof row[key] === 'bigint') row[key] = Number(row[key]);
  return row;
}

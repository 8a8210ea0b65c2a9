import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { checkPlan, type ReportPlan } from '../plan';
import type { EventStore } from '../store';
import type { DuckDBStore } from '../duckdb-store';
import type { PostgresStore } from '../postgres-store';
import { openDuckDBOutbox } from './duckdb-outbox';
import { openPostgresOutbox } from './postgres-outbox';
import { createForwarder, type Forwarder } from './forwarder';
import type { ForwardOutbox } from './outbox';
import type { ForwardOptions } from './types';

/** Where the collector serves the Google Ads upload file (for a scheduled import from a URL). */
export const GOOGLE_ADS_FILE_PATH = '/forward/google-ads.csv';

/**
 * The forwarder for the collector's options, or null without `forward`. Its outbox is the one given,
 * else a table in the store, DuckDB or PostgreSQL; any other store needs one given.
 */
export function forwardingFor(
  options: ForwardOptions | undefined,
  store: Promise<EventStore>,
  plan: ReportPlan | null,
  now: () => number,
  onError: (error: unknown) => void,
): Forwarder | null {
  if (!options) return null;
  const outbox = options.outbox ? Promise.resolve(options.outbox) : store.then(storeOutbox);
  outbox.catch(onError);
  return createForwarder(options, { store, plan: plan ?? checkPlan({}), outbox, now, onError });
}

/** The outbox table in the store: DuckDB's or PostgreSQL's; another store has none of its own. */
export function storeOutbox(store: EventStore): Promise<ForwardOutbox> {
  const kind = (store as Partial<DuckDBStore | PostgresStore>).kind;
  if (kind === 'duckdb') return openDuckDBOutbox(store as DuckDBStore);
  if (kind === 'postgres') return openPostgresOutbox(store as PostgresStore);
  return Promise.reject(new Error('forward: this store has no outbox of its own (DuckDB and PostgreSQL have); pass forward.outbox'));
}

/**
 * Serves `GET /forward/google-ads.csv` when Google Ads is set up for file delivery; false for any
 * other request (the collector goes on). With `file.username` and `file.password` it asks for them
 * (HTTP basic authentication, what a scheduled import from an HTTPS URL can send).
 */
export async function serveForwardFile(forwarder: Forwarder | null, options: ForwardOptions | undefined, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const path = (request.url ?? '/').split('?')[0];
  if (!forwarder || path !== GOOGLE_ADS_FILE_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const file = await forwarder.googleAdsFile();
  if (file === null) return false;
  const { username, password } = options?.googleAds?.file ?? {};
  if (username !== undefined || password !== undefined) {
    const expected = Buffer.from(`Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`);
    const given = Buffer.from(String(request.headers.authorization ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="microconv forward"', 'Cache-Control': 'no-store' });
      response.end();
      return true;
    }
  }
  response.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Length': Buffer.byteLength(file), 'Cache-Control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : file);
  return true;
}

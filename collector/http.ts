import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Plan } from '../src/types';
import { DEFAULT_DATABASE, openDuckDBStore } from './duckdb-store';
import { checkPlan, type ReportPlan } from './plan';
import { createAddressResolver, type TrustProxy } from './client-address';
import { DEFAULT_RATE_LIMIT, createRateLimiter, isLoopback, type RateLimit } from './rate-limit';
import { renderReportHtml } from './render-html';
import { buildReport } from './report';
import { UnstorableEventsError, type CollectedEvent, type EventStore } from './store';
import { validatePayload, type Rejection } from './validate';
import { forwardingFor, serveForwardFile } from './forward/collector-hooks';
import type { Forwarder } from './forward/forwarder';
import { protectPayload, type IdentifierOptions } from './forward/hash';
import { askedNames, type ForwardingPreview } from './forward/preview';
import type { ForwardOptions, RequestContext } from './forward/types';

/** Contract 5: each request carries at most 64 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;
/** 64 KiB holds about 200 small events; 500 leaves room without inviting abuse. */
export const MAX_EVENTS = 500;

/**
 * How long a client may take, in milliseconds. A browser sends a 64 KiB batch in well under a second;
 * a client that takes longer is broken or holding the socket on purpose, and gets 408.
 */
export interface Timeouts {
  /** From connecting (or from the previous response, on a kept-alive connection) to the end of the headers. */
  headersMs: number;
  /** From the end of the headers to the end of the body: enforced by the handler, so it holds when mounted too. */
  bodyMs: number;
  /** The whole request, headers and body. */
  requestMs: number;
  /** A kept-alive connection with no request under way is closed after this. */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = { headersMs: 10_000, bodyMs: 10_000, requestMs: 20_000, idleMs: 5_000 };

/** The defaults with `given` over them; a deadline that is not a positive number of ms is a setting error. */
function timeoutsFrom(given: Partial<Timeouts> = {}): Timeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...given };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new TypeError(`timeouts.${name}: expected a positive number of milliseconds, got ${value}`);
  }
  return timeouts;
}

export interface CollectorOptions {
  /** Where events go. Default: a DuckDB store at `database`. */
  store?: EventStore | Promise<EventStore>;
  /** The DuckDB file when no `store` is given; `:memory:` for tests. Default `data/microconv.duckdb`. */
  database?: string;
  /**
   * Origins (scheme, host, port: `https://www.example.com`) allowed to send events from the browser.
   * They get CORS headers; other cross-origin requests are refused (403) and store nothing. Requests
   * without an `Origin` (servers, curl) and same-origin requests need no entry. No wildcard.
   */
  allowedOrigins?: readonly string[];
  /** Largest accepted body, in bytes (after decompression too). Default 64 KiB. */
  maxBodyBytes?: number;
  /** Most events in one request. Default 500. */
  maxEvents?: number;
  /**
   * Per-client token bucket, or `false` for none. Default: bursts of 100, then 50 requests a second,
   * with requests from this machine left unlimited (see `RateLimit.exemptLoopback`).
   */
  rateLimit?: RateLimit | false;
  /**
   * The reverse proxies in front of the collector, so the rate limit sees each real client: how many
   * (`1`; `true` is 1) or their addresses and ranges (`['127.0.0.1', '10.0.0.0/8']`). The client is
   * the address the outermost proxy saw, read from the right of `X-Forwarded-For`; what the client
   * wrote there itself is never believed. Default `false`: the socket's peer, headers ignored.
   */
  trustProxy?: TrustProxy;
  /** Deadlines for slow clients. `startCollector` applies them all; a mounted handler enforces `bodyMs`. */
  timeouts?: Partial<Timeouts>;
  /** A measurement plan: when given, `GET /report` (HTML) and `GET /report.json` are served too. */
  plan?: Plan | ReportPlan;
  /** The collect path. Default `/collect`. */
  collectPath?: string;
  /** The report path (`.json` added for the JSON). Default `/report`. */
  reportPath?: string;
  /** The clock, for tests. */
  now?: () => number;
  /** Where unexpected errors (storage down, a bug) are reported. Default: `console.error`. */
  onError?: (error: unknown) => void;
  /** Server-side forwarding to Meta, Google Ads and GA4 (`forward/`, README "Server-side forwarding"). */
  forward?: ForwardOptions;
  /** How raw e-mail addresses and phone numbers are normalised before they are hashed on receipt. */
  identifiers?: IdentifierOptions;
}

/** A Node request handler (connect-style: `next` is called for paths it does not serve) with its store. */
export interface Collector {
  (request: IncomingMessage, response: ServerResponse, next?: () => void): void;
  /** Resolves to the store once it is open (rejects when it cannot be opened). */
  readonly store: Promise<EventStore>;
  /** Closes the store; requests after this fail with 503. */
  close(): Promise<void>;
  /** Server-side forwarding, when `forward` is configured. */
  readonly forwarder: Forwarder | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.error));
  }
}

/**
 * The reference collector (contract 7) as a request handler, so a server can mount it next to its
 * own routes: `POST /collect` takes the endpoint adapter's payloads, and with a `plan`, `GET /report`
 * and `/report.json` show what they say.
 *
 * @example
 * const collector = createCollector({ allowedOrigins: ['https://www.example.com'], plan });
 * http.createServer((req, res) => collector(req, res, () => serveStatic(req, res))).listen(8787);
 */
export function createCollector(options: CollectorOptions = {}): Collector {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxEvents = options.maxEvents ?? MAX_EVENTS;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error('[microconv collector]', error));
  const collectPath = options.collectPath ?? '/collect';
  const reportPath = options.reportPath ?? '/report';
  // Beside the collect path (`/collect` gives `/forwarding`), where the overlay looks for it.
  const forwardingPath = new URL('forwarding', `http://collector${collectPath}`).pathname;
  const allowed = new Set(options.allowedOrigins ?? []);
  if (allowed.has('*')) throw new TypeError('allowedOrigins: list the origins; "*" is not accepted');
  const plan = options.plan ? checkPlan(options.plan) : null;
  const limit = options.rateLimit === false ? null : (options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const limiter = limit ? createRateLimiter(limit, now) : null;
  const exemptLoopback = limit?.exemptLoopback ?? true;
  const trustProxy = options.trustProxy ?? false;
  const clientOf = createAddressResolver(trustProxy);
  const behindProxy = Array.isArray(trustProxy) ? trustProxy.length > 0 : Boolean(trustProxy);
  const { bodyMs } = timeoutsFrom(options.timeouts);
  const store = Promise.resolve(options.store ?? openDuckDBStore(options.database ?? DEFAULT_DATABASE));
  // Do not leave an unhandled rejection behind when nobody has asked for the store yet.
  store.catch(onError);
  const forwarder = forwardingFor(options.forward, store, plan, now, onError);
  let closed = false;

  async function collect(request: IncomingMessage, response: ServerResponse, cors: Record<string, string>): Promise<void> {
    const client = clientOf(request.socket.remoteAddress ?? 'unknown', request.headers['x-forwarded-for']);
    // Only the socket's own peer may be exempt: an address named in a header proves nothing.
    if (limiter && !(exemptLoopback && !client.fromHeader && isLoopback(client.address))) {
      const admission = limiter.take(client.address);
      if (!admission.ok) {
        throw new HttpError(429, { error: 'rate_limited', retry_after: admission.retryAfterSeconds }, { 'Retry-After': String(admission.retryAfterSeconds) });
      }
    }
    const type = (request.headers['content-type'] ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/plain' && type !== 'application/json') {
      throw new HttpError(415, { error: 'unsupported_media_type', problems: [`content-type: expected text/plain, got ${type}`] });
    }
    const declared = Number(request.headers['content-length']);
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    const raw = await readBody(request, maxBodyBytes, bodyMs);
    if (raw === null) throw tooLarge(maxBodyBytes);
    const body = decode(raw, String(request.headers['content-encoding'] ?? 'identity').toLowerCase(), maxBodyBytes);

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new HttpError(400, { error: 'malformed_json', problems: [`body: not valid JSON (${(error as Error).message})`] });
    }
    // Raw e-mail addresses and phone numbers become hashes first: validation keeps only the fields it
    // knows (so it would drop them unread), and nothing raw may reach a store, a log or the outbox.
    const validation = validatePayload(protectPayload(parsed, options.identifiers, forwarder?.countIdentifierDrop), maxEvents);
    if (!validation.ok) throw new HttpError(400, { error: 'invalid_payload', problems: validation.problems });
    const { accepted, rejected } = validation;
    const { stored, unstorable } = await insert(accepted.map(({ event }) => event));
    if (forwarder) await enqueue(forwarder, accepted, unstorable, { ip: client.address, userAgent: request.headers['user-agent'] });
    rejected.push(...unstorable.map(({ event_id, problem }) => ({ event_id, index: indexOf(accepted, event_id), problems: [problem] })));
    rejected.sort((a, b) => a.index - b.index);
    // Always 200 with the counts, rejected or not: one shape for every client to read.
    const text = JSON.stringify({ stored, duplicates: accepted.length - stored - unstorable.length, rejected } satisfies CollectAnswer);
    response.writeHead(200, { ...cors, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    response.end(text);
  }

  /** Stores the events; what the store can never keep comes back as `unstorable`, and only a storage failure is a 503. */
  async function insert(events: CollectedEvent[]): Promise<{ stored: number; unstorable: UnstorableEventsError['events'] }> {
    try {
      if (closed) throw new Error('collector closed');
      return { stored: await (await store).insert(events, now()), unstorable: [] };
    } catch (error) {
      // Logged either way: an event that passed validation and still cannot be stored is a gap in `validate.ts`.
      onError(error);
      if (error instanceof UnstorableEventsError) return { stored: error.stored, unstorable: error.events };
      // 5xx: the SDK keeps the batch and retries; deduplication makes the retry safe.
      throw new HttpError(503, { error: 'storage_unavailable' }, { 'Retry-After': '5' });
    }
  }

  /**
   * Puts the events that are stored (now or before: the outbox adds each once per destination) in the
   * forward outbox; never a rejected one. A failure here is the outbox's storage failing (the forwarder
   * turns what one event cannot give a destination into a row of its own), so it is a 503 like the
   * store's: the client retries, the events are duplicates by then, and this enqueues them again.
   */
  async function enqueue(forwarder: Forwarder, accepted: ReadonlyArray<{ event: CollectedEvent }>, unstorable: UnstorableEventsError['events'], context: RequestContext): Promise<void> {
    const refused = new Set(unstorable.map(({ event_id }) => event_id.toLowerCase()));
    try {
      await forwarder.enqueue(accepted.map(({ event }) => event).filter((event) => !refused.has(event.event_id.toLowerCase())), context);
    } catch (error) {
      onError(error);
      throw new HttpError(503, { error: 'storage_unavailable' }, { 'Retry-After': '5' });
    }
  }

  async function report(response: ServerResponse, head: boolean, format: 'html' | 'json'): Promise<void> {
    const built = await buildReport(await store, plan!, now());
    if (forwarder) built.forwarding = await forwarder.section(built);
    const body = format === 'html' ? renderReportHtml(built) : JSON.stringify(built, null, 2);
    response.writeHead(200, {
      'Content-Type': format === 'html' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // The page has no script at all; only its own inline styles may apply.
      ...(format === 'html' ? { 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" } : {}),
    });
    response.end(head ? undefined : body);
  }

  /**
   * CORS as for `/collect`: a configured origin gets its `Access-Control-Allow-Origin`; another
   * cross-origin request is not permitted; a same-origin one or one without `Origin` needs nothing.
   */
  function corsOf(request: IncomingMessage): { crossOrigin: boolean; permitted: boolean; cors: Record<string, string> } {
    const origin = request.headers.origin;
    const crossOrigin = origin !== undefined && !sameOrigin(origin, request, behindProxy);
    const permitted = !crossOrigin || allowed.has(origin);
    const cors: Record<string, string> =
      crossOrigin && permitted ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' } : { Vary: 'Origin' };
    return { crossOrigin, permitted, cors };
  }

  /** `GET /forwarding`: what the gate decides now (the forwarder's own decisions), for the debug overlay. */
  async function preview(forwarder: Forwarder, request: IncomingMessage, response: ServerResponse, cors: Record<string, string>, head: boolean): Promise<void> {
    let answer: ForwardingPreview;
    try {
      answer = await forwarder.preview(askedNames(new URL(request.url ?? '/', 'http://collector').searchParams));
    } catch (error) {
      // The verdicts come from the store: down, it is a 503 the overlay can read (the CORS headers kept).
      onError(error);
      throw new HttpError(503, { error: 'storage_unavailable' }, { ...cors, 'Retry-After': '5' });
    }
    const text = JSON.stringify(answer);
    response.writeHead(200, { ...cors, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    response.end(head ? undefined : text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, next?: () => void): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';

    if (path === collectPath) {
      const { crossOrigin, permitted, cors } = corsOf(request);
      if (method === 'OPTIONS') {
        if (!permitted) throw new HttpError(403, { error: 'origin_not_allowed' });
        response.writeHead(204, {
          ...cors,
          Allow: 'POST, OPTIONS',
          ...(crossOrigin
            ? { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type, Content-Encoding', 'Access-Control-Max-Age': '7200' }
            : {}),
        });
        return void response.end();
      }
      if (method !== 'POST') throw new HttpError(405, { error: 'method_not_allowed' }, { Allow: 'POST, OPTIONS' });
      if (!permitted) throw new HttpError(403, { error: 'origin_not_allowed', problems: [`origin ${request.headers.origin} is not allowed`] });
      try {
        return await collect(request, response, cors);
      } catch (error) {
        if (error instanceof HttpError) throw new HttpError(error.status, error.body, { ...cors, ...error.headers });
        throw error;
      }
    }

    if (plan && (path === reportPath || path === `${reportPath}.json`)) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, { error: 'method_not_allowed' }, { Allow: 'GET, HEAD' });
      return report(response, method === 'HEAD', path === reportPath ? 'html' : 'json');
    }

    if (forwarder && path === forwardingPath) {
      const { permitted, cors } = corsOf(request);
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, { error: 'method_not_allowed' }, { ...cors, Allow: 'GET, HEAD' });
      if (!permitted) throw new HttpError(403, { error: 'origin_not_allowed', problems: [`origin ${request.headers.origin} is not allowed`] }, cors);
      return preview(forwarder, request, response, cors, method === 'HEAD');
    }

    if (await serveForwardFile(forwarder, options.forward, request, response)) return;
    if (next) return next();
    throw new HttpError(404, { error: 'not_found' });
  }

  const collector = ((request: IncomingMessage, response: ServerResponse, next?: () => void) => {
    handle(request, response, next).catch((error: unknown) => {
      if (!(error instanceof HttpError)) {
        onError(error);
        error = new HttpError(500, { error: 'internal_error' });
      }
      const { status, body, headers } = error as HttpError;
      if (response.headersSent) return void response.destroy();
      const text = JSON.stringify(body);
      // An unread body is left unread: closing the connection saves reading what was refused.
      const close = !request.complete ? { Connection: 'close' } : {};
      response.writeHead(status, {
        ...headers,
        ...close,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store',
      });
      response.end(text);
    });
  }) as Collector;

  Object.defineProperty(collector, 'store', { value: store });
  Object.defineProperty(collector, 'forwarder', { value: forwarder });
  collector.close = async () => {
    closed = true;
    await forwarder?.close();
    await (await store).close();
  };
  return collector;
}

/** The answer to `POST /collect` (contract 4): `rejected` events are not resent; the rest were stored or already were. */
export interface CollectAnswer {
  /** Events stored now. */
  stored: number;
  /** Valid events already stored (a retry, or the same event twice in the batch). */
  duplicates: number;
  /** Events refused for good, in batch order; `index` is the place in `events`, for an event without a usable `event_id`. */
  rejected: Rejection[];
}

/** The place in the batch of an accepted event the store refused (stores may write ids in lower case). */
function indexOf(accepted: ReadonlyArray<{ index: number; event: CollectedEvent }>, eventId: string): number {
  const id = eventId.toLowerCase();
  return accepted.find(({ event }) => event.event_id.toLowerCase() === id)?.index ?? -1;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, { error: 'payload_too_large', problems: [`body: larger than ${limit} bytes`] });
}

/**
 * Reads the body up to `limit` bytes; `null` as soon as it goes over (the rest is never buffered).
 * A body not complete within `timeoutMs` is a 408: a trickling client holds nothing for long.
 */
function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      clearTimeout(deadline);
      request.off('data', onData);
      request.pause();
    };
    const deadline = setTimeout(() => {
      stop();
      reject(new HttpError(408, { error: 'request_timeout', problems: [`body: not complete within ${timeoutMs / 1000} s`] }));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        return resolve(null);
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      clearTimeout(deadline);
      resolve(Buffer.concat(chunks));
    });
    // A client that goes away mid-body ('error: aborted', or just 'close'): nothing to store, nobody
    // to answer, nothing worth logging.
    const aborted = () => {
      clearTimeout(deadline);
      reject(new HttpError(400, { error: 'aborted' }));
    };
    request.once('error', aborted);
    request.once('close', () => {
      if (!request.complete) aborted();
    });
  });
}

/** Decompresses a gzip or deflate body, never past `limit` (a small zip can hold a large bomb). */
function decode(raw: Buffer, encoding: string, limit: number): string {
  let bytes = raw;
  if (encoding === 'gzip' || encoding === 'deflate') {
    try {
      bytes = (encoding === 'gzip' ? gunzipSync : inflateSync)(raw, { maxOutputLength: limit });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw tooLarge(limit);
      throw new HttpError(400, { error: 'malformed_body', problems: [`body: not valid ${encoding} data`] });
    }
  } else if (encoding !== 'identity') {
    throw new HttpError(415, { error: 'unsupported_media_type', problems: [`content-encoding: ${encoding} is not supported`] });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, { error: 'malformed_body', problems: ['body: not valid UTF-8'] });
  }
}

/**
 * Same origin: the `Origin` names the host the request was sent to (browsers send it on every POST).
 * Behind a proxy, that is the host the browser asked the outermost proxy for (`X-Forwarded-Host`).
 * A browser page cannot set that header without a preflight, which other origins fail, so reading
 * it gives a browser on another site nothing; a non-browser client can forge `Origin` anyway.
 */
function sameOrigin(origin: string, request: IncomingMessage, behindProxy: boolean): boolean {
  const host = (behindProxy && request.headers['x-forwarded-host']) || request.headers.host;
  try {
    return host !== undefined && new URL(origin).host === String(host).split(',')[0]!.trim();
  } catch {
    return false;
  }
}

/**
 * `http.createServer` options that hold slow clients to `timeouts` (Node's own defaults are a minute
 * for headers and five for a request). Node answers 408 itself when the headers or the whole request
 * run late; it checks every `connectionsCheckingInterval`, so that is kept well under the deadlines.
 * For a server that mounts the collector: also set `server.keepAliveTimeout` to `idleMs`.
 *
 * @example const server = createServer(serverTimeouts(), handler);
 */
export function serverTimeouts(timeouts: Partial<Timeouts> = {}): ServerOptions {
  const { headersMs, requestMs } = timeoutsFrom(timeouts);
  return { headersTimeout: headersMs, requestTimeout: Math.max(requestMs, headersMs), connectionsCheckingInterval: Math.min(1_000, headersMs / 4) };
}

export interface RunningCollector {
  server: Server;
  collector: Collector;
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens the store and listens. Resolves once both are ready, so a failure to open the database or
 * to bind the port is an error here rather than at the first request.
 *
 * @example const { url, close } = await startCollector({ port: 8787, database: 'data/microconv.duckdb' });
 */
export async function startCollector(options: CollectorOptions & { port?: number; host?: string } = {}): Promise<RunningCollector> {
  const collector = createCollector(options);
  await collector.store;
  await collector.forwarder?.ready.catch(async (error: unknown) => {
    await collector.close().catch(() => undefined);
    throw error;
  });
  const server = createServer(serverTimeouts(options.timeouts), (request, response) => collector(request, response));
  server.keepAliveTimeout = timeoutsFrom(options.timeouts).idleMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    collector,
    url: `http://${host}:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await collector.close();
    },
  };
}

import type { MicroconvEvent, Purpose } from '../../src/types';
import type { Unsupported } from './gate';
import type { HttpAnswer, HttpRequest } from './http-send';
import type { BatchOutcome, DestinationName, ForwardableEvent, RequestContext, SendRule } from './types';

/** An event turned into what a destination sends for it, or why it cannot go. */
export type Built = { item: unknown; batchKey: string } | { skip: string };

/**
 * One server-side destination: how an event becomes an item (stored in the outbox, so nothing but
 * the item, never a secret), how items become a request, and how an answer becomes outcomes. The
 * worker does the rest (batching, retries, the outbox), the same for every destination.
 */
export interface Destination {
  name: DestinationName;
  /** `live`; `test` (the platform's test mode: validated, not recorded); `file` (listed for a scheduled import, not sent). */
  mode: 'live' | 'test' | 'file';
  /** Consent purposes the event must have been tracked with. */
  purposes: readonly Purpose[];
  /** The gate rule from the options. */
  send: SendRule;
  /** Names this destination cannot take, whatever the gate says. */
  unsupported: Unsupported;
  /** The platform refuses events older than this (ms): past it, a row fails instead of retrying forever. */
  maxAgeMs: number;
  /** Items per request. */
  maxBatch: number;
  build(event: ForwardableEvent, context: RequestContext): Built;
  /** The request for these items; `masked` hides secrets (for printing). May reject with a `DestinationError`. */
  request(items: unknown[], masked: boolean): Promise<HttpRequest>;
  /** The outcome of an answer (HTTP status, then the platform's own body). */
  interpret(answer: HttpAnswer, items: unknown[], now: number): BatchOutcome;
}

/** A problem before any request is made (credentials cannot be had): retried or not. */
export class DestinationError extends Error {
  constructor(
    readonly reason: string,
    readonly retry: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
    this.name = 'DestinationError';
  }
}

const DAY_MS = 86_400_000;
export const DAYS = (days: number): number => days * DAY_MS;

/** A JSON request with a `User-Agent` saying who sends it. */
export function jsonRequest(url: string, body: unknown, headers: Record<string, string> = {}): HttpRequest {
  return { method: 'POST', url, headers: { 'Content-Type': 'application/json', 'User-Agent': 'microconv-collector', ...headers }, body: JSON.stringify(body) };
}

/**
 * The event as the browser adapters see it, for the rules shared with them (Meta's event mapping,
 * GA4's parameters): those read the name and `params`, which the collector may hold as null (a
 * server's own conversion sent with the required fields only), read here as none. The page's
 * missing fields are `''`, as the SDK writes a missing referrer.
 */
export function browserView(event: ForwardableEvent): MicroconvEvent {
  const page = event.page ?? {};
  return {
    event_id: event.event_id,
    name: event.name,
    ts: event.ts,
    session_id: event.session_id,
    anonymous_id: event.anonymous_id ?? null,
    page: { url: page.url ?? '', path: page.path ?? '', title: page.title ?? '', referrer: page.referrer ?? '' },
    params: (event.params ?? {}) as MicroconvEvent['params'],
    // Read by none of the shared rules; the SDK's type has no nulls there.
    attribution: event.attribution as MicroconvEvent['attribution'],
  };
}

/** Event parameters that are plain values (what ad platforms' custom data takes), with `value` and `currency` read out. */
export function plainParams(params: Record<string, unknown> | null): { values: Record<string, string | number | boolean>; value?: number; currency?: string } {
  const values: Record<string, string | number | boolean> = {};
  params ??= {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) values[key] = value;
  }
  const value = typeof params.value === 'number' && Number.isFinite(params.value) ? params.value : undefined;
  const currency = typeof params.currency === 'string' && /^[A-Za-z]{3}$/.test(params.currency) ? params.currency.toUpperCase() : undefined;
  return { values, value, currency };
}

/** A string field of an optional object, or undefined. */
export const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

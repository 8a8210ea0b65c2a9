import { META_STANDARD_EVENTS, type MetaMapping } from '../../src/adapters/meta';
import { browserView, DAYS, jsonRequest, plainParams, text, type Destination } from './destination';
import { DESTINATION_PURPOSES } from './gate';
import { sha256Hex } from './hash';
import { json, maskUrl, transportOutcome, type HttpAnswer } from './http-send';
import type { BatchOutcome, ForwardableEvent, MetaForwardOptions, RequestContext } from './types';

export const META_BASE_URL = 'https://graph.facebook.com';
export const META_API_VERSION = 'v22.0';
/** Meta refuses a request whose events are more than 7 days old (server event parameters, `event_time`). */
const MAX_AGE_MS = DAYS(7);
/** Meta takes up to 1,000 events a request; smaller requests keep a bad event's blast radius small. */
const MAX_BATCH = 500;
/**
 * Graph API error codes that are temporary (Graph API error handling guide): unknown and service
 * errors, and the throttling codes. Meta answers these with a 4xx, so the status alone would call
 * them permanent.
 */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 341, 613]);

/** The Meta Conversions API item for one event (`data[]` of `POST /{pixel_id}/events`). */
export interface MetaServerEvent {
  event_name: string;
  event_time: number;
  event_id: string;
  action_source: 'website';
  event_source_url: string;
  referrer_url?: string;
  user_data: Record<string, string | string[]>;
  custom_data: Record<string, string | number | boolean>;
}

/**
 * The Meta Conversions API: `POST {baseUrl}/{version}/{pixel_id}/events?access_token=…` with
 * `{ data: [...], test_event_code? }`. Each event carries the browser's `event_id` and the same
 * event name as the pixel call (the `events` mapping must match the browser adapter's), which is
 * what Meta deduplicates the pair by. User data is hashed (`em`, `ph`, `external_id`) or an id Meta
 * set itself (`fbp`, `fbc`), with the client's IP address and user agent.
 */
export function metaDestination(options: MetaForwardOptions): Destination {
  if (!/^\d+$/.test(String(options.pixelId ?? ''))) throw new TypeError('forward.meta.pixelId: expected the pixel (dataset) id, digits only');
  if (!text(options.accessToken)) throw new TypeError('forward.meta.accessToken: required');
  const mapping: MetaMapping = options.events === 'standard' ? META_STANDARD_EVENTS : (options.events ?? {});
  const base = (options.baseUrl ?? META_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/${options.apiVersion ?? META_API_VERSION}/${options.pixelId}/events`;
  const testCode = text(options.testEventCode);

  const eventName = (event: ForwardableEvent) => {
    const rule = mapping[event.name];
    return (typeof rule === 'function' ? rule(browserView(event)) : rule) || event.name;
  };

  return {
    name: 'meta',
    mode: testCode ? 'test' : 'live',
    purposes: DESTINATION_PURPOSES.meta,
    send: options.send ?? 'validated',
    unsupported: () => null,
    maxAgeMs: MAX_AGE_MS,
    maxBatch: MAX_BATCH,

    build(event: ForwardableEvent, context: RequestContext) {
      // Meta requires the user agent for website events: without it the event is refused anyway.
      if (!context.userAgent) return { skip: 'no user agent (Meta requires client_user_agent for website events)' };
      // Required for website events too; a server's own conversion may come without a page.
      const url = text(event.page?.url);
      if (!url) return { skip: 'no page URL (Meta requires event_source_url for website events)' };
      const { values, value, currency } = plainParams(event.params);
      const item: MetaServerEvent = {
        event_name: eventName(event),
        event_time: Math.floor(event.ts / 1000),
        event_id: event.event_id,
        action_source: 'website',
        event_source_url: url,
        ...(text(event.page?.referrer) ? { referrer_url: event.page.referrer! } : {}),
        user_data: metaUserData(event, context),
        custom_data: { ...values, ...(value !== undefined ? { value } : {}), ...(currency ? { currency } : {}) },
      };
      return { item, batchKey: '' };
    },

    async request(items: unknown[], masked: boolean) {
      const target = `${url}?access_token=${encodeURIComponent(options.accessToken)}`;
      return jsonRequest(masked ? maskUrl(target, ['access_token']) : target, { data: items, ...(testCode ? { test_event_code: testCode } : {}) });
    },

    interpret(answer: HttpAnswer, items: unknown[], now: number): BatchOutcome {
      const error = (json(answer) as { error?: MetaError } | undefined)?.error;
      if (answer.status >= 400 && answer.status < 500 && error && (error.is_transient === true || TRANSIENT_CODES.has(Number(error.code)))) {
        return { kind: 'all', outcome: { kind: 'retry', reason: `http_${answer.status}: ${describe(error)}` } };
      }
      const transport = transportOutcome(answer, () => (error ? describe(error) : answer.text.slice(0, 200)), now);
      if (transport) return transport;
      const received = (json(answer) as { events_received?: number } | undefined)?.events_received;
      if (typeof received === 'number' && received < items.length) {
        return { kind: 'rejected', reason: `Meta received ${received} of ${items.length} events` };
      }
      return { kind: 'all', outcome: { kind: 'sent' } };
    },
  };
}

interface MetaError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_user_msg?: string;
  is_transient?: boolean;
  fbtrace_id?: string;
}

function describe(error: MetaError): string {
  const code = [error.type, error.code !== undefined ? `code ${error.code}` : '', error.error_subcode !== undefined ? `subcode ${error.error_subcode}` : ''].filter(Boolean).join(' ');
  return `${error.error_user_msg || error.message || 'error'}${code ? ` (${code})` : ''}`;
}

/**
 * `user_data`: hashed e-mail and phone (already hashed: `hash.ts` ran on receipt), the user id
 * hashed as `external_id`, Meta's own browser and click ids, and the client's address and agent.
 * `fbc` is composed from the landing page's `fbclid` when the browser had no `_fbc` cookie, in Meta's
 * documented form `fb.1.{creation time, ms}.{fbclid}` (the time the click id was first seen: here,
 * the event's).
 */
function metaUserData(event: ForwardableEvent, context: RequestContext): Record<string, string | string[]> {
  const ids = event.ids ?? {};
  const user: Record<string, string | string[]> = {};
  if (text(ids.email_sha256)) user.em = [ids.email_sha256!];
  if (text(ids.phone_sha256)) user.ph = [ids.phone_sha256!];
  if (text(ids.user_id)) user.external_id = [sha256Hex(ids.user_id!.trim())];
  if (text(ids.fbp)) user.fbp = ids.fbp!;
  const fbclid = text(event.attribution.fbclid);
  const fbc = text(ids.fbc) ?? (fbclid ? `fb.1.${Math.round(event.ts)}.${fbclid}` : undefined);
  if (fbc) user.fbc = fbc;
  if (context.ip) user.client_ip_address = context.ip;
  if (context.userAgent) user.client_user_agent = context.userAgent;
  return user;
}

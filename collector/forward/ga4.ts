import { GA4_MAX_PARAMS, GA4_RESERVED_EVENTS, ga4Params } from '../../src/adapters/gtag';
import { browserView, DAYS, jsonRequest, text, type Destination } from './destination';
import { DESTINATION_PURPOSES } from './gate';
import { json, maskUrl, shorten, transportOutcome, type HttpAnswer } from './http-send';
import type { BatchOutcome, ForwardableEvent, Ga4ForwardOptions } from './types';

export const GA4_BASE_URL = 'https://www.google-analytics.com';
/** The Measurement Protocol backdates events by at most 72 hours (`timestamp_micros`). */
const MAX_AGE_MS = DAYS(3);
/** At most 25 events a request. */
const MAX_BATCH = 25;
/**
 * GA4 needs a positive `engagement_time_msec` to show an event's user as active (Realtime). The
 * collector does not know how long the person engaged; 1 ms is the least that counts.
 */
const ENGAGEMENT_TIME_MSEC = 1;

/** What the outbox keeps for GA4: the request-level fields and the event. Events with equal request fields share a request. */
export interface Ga4Item {
  client_id: string;
  user_id?: string;
  consent: { ad_user_data: 'GRANTED' | 'DENIED'; ad_personalization: 'GRANTED' | 'DENIED' };
  event: { name: string; params: Record<string, unknown>; timestamp_micros: number };
}

/**
 * The GA4 Measurement Protocol: `POST {baseUrl}/mp/collect?measurement_id=…&api_secret=…` with
 * `{ client_id, user_id?, consent, events: [{ name, params }] }`; in test mode the same body goes
 * to `/debug/mp/collect`, whose `validationMessages` say what GA4 would refuse (the live endpoint
 * answers 2xx to anything). Names and parameters follow the gtag adapter (`ga4Params`: `event_id`
 * first, reserved names out), plus the two the Measurement Protocol needs for sessions and
 * engagement: `session_id` and `engagement_time_msec`.
 *
 * The client id is the `_ga` cookie's (`ids.ga_client_id`), so the event joins the browser's GA4
 * user; without it, microconv's own `anonymous_id`. GA4 does not deduplicate by `event_id`: forward
 * to GA4 only what the browser's gtag does not already send (README, "Server-side forwarding").
 */
export function ga4Destination(options: Ga4ForwardOptions): Destination {
  if (!/^G-[A-Z0-9]+$/i.test(String(options.measurementId ?? ''))) throw new TypeError('forward.ga4.measurementId: expected a web stream measurement id, G-XXXXXXX');
  if (!text(options.apiSecret)) throw new TypeError('forward.ga4.apiSecret: required');
  const names = options.names ?? {};
  const base = (options.baseUrl ?? GA4_BASE_URL).replace(/\/+$/, '');
  const path = options.validate ? '/debug/mp/collect' : '/mp/collect';
  const url = `${base}${path}?measurement_id=${encodeURIComponent(options.measurementId)}&api_secret=${encodeURIComponent(options.apiSecret)}`;
  const ga4Name = (name: string) => names[name] ?? name;

  return {
    name: 'ga4',
    mode: options.validate ? 'test' : 'live',
    purposes: DESTINATION_PURPOSES.ga4,
    send: options.send ?? 'validated',
    unsupported: (name) => (GA4_RESERVED_EVENTS.includes(ga4Name(name)) ? `GA4 reserves the event name ${ga4Name(name)}` : null),
    maxAgeMs: MAX_AGE_MS,
    maxBatch: MAX_BATCH,

    build(event: ForwardableEvent) {
      const ids = event.ids ?? {};
      const clientId = text(ids.ga_client_id) ?? text(event.anonymous_id);
      if (!clientId) return { skip: 'no client id (no _ga cookie id and no anonymous id)' };
      const own = Object.entries(ga4Params(browserView(event), () => {})).slice(0, GA4_MAX_PARAMS - 2);
      const granted = (purpose: 'ad_user_data' | 'ad_personalization') => (event.consent?.[purpose] === 'granted' ? 'GRANTED' : 'DENIED');
      const item: Ga4Item = {
        client_id: clientId,
        ...(text(ids.user_id) ? { user_id: ids.user_id! } : {}),
        consent: { ad_user_data: granted('ad_user_data'), ad_personalization: granted('ad_personalization') },
        event: {
          name: ga4Name(event.name),
          params: { session_id: event.session_id, engagement_time_msec: ENGAGEMENT_TIME_MSEC, ...Object.fromEntries(own) },
          timestamp_micros: Math.round(event.ts) * 1000,
        },
      };
      return { item, batchKey: JSON.stringify([item.client_id, item.user_id ?? null, item.consent]) };
    },

    async request(items: unknown[], masked: boolean) {
      const [first] = items as Ga4Item[];
      const body = {
        client_id: first!.client_id,
        ...(first!.user_id ? { user_id: first!.user_id } : {}),
        consent: first!.consent,
        events: (items as Ga4Item[]).map((item) => item.event),
      };
      return jsonRequest(masked ? maskUrl(url, ['api_secret']) : url, body);
    },

    interpret(answer: HttpAnswer, items: unknown[], now: number): BatchOutcome {
      const transport = transportOutcome(answer, () => answer.text.slice(0, 200), now);
      if (transport) return transport;
      if (!options.validate) return { kind: 'all', outcome: { kind: 'sent' } };
      const messages = (json(answer) as { validationMessages?: ValidationMessage[] } | undefined)?.validationMessages ?? [];
      if (messages.length === 0) return { kind: 'all', outcome: { kind: 'sent' } };
      const reason = shorten(`validation: ${messages.map((m) => `${m.validationCode ?? 'INVALID'} at ${m.fieldPath ?? '?'}: ${m.description ?? ''}`).join('; ')}`);
      return items.length > 1 ? { kind: 'rejected', reason } : { kind: 'all', outcome: { kind: 'failed', reason } };
    },
  };
}

interface ValidationMessage {
  fieldPath?: string;
  description?: string;
  validationCode?: string;
}

import { DAYS, DestinationError, jsonRequest, plainParams, text, type Destination } from './destination';
import { DESTINATION_PURPOSES } from './gate';
import { json, sendHttp, shorten, transportOutcome, type HttpAnswer } from './http-send';
import type { BatchOutcome, ForwardableEvent, GoogleAdsForwardOptions, SendOutcome } from './types';

export const GOOGLE_ADS_BASE_URL = 'https://googleads.googleapis.com';
export const GOOGLE_ADS_API_VERSION = 'v22';
export const GOOGLE_OAUTH_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A click can be credited with a conversion up to 90 days later (the longest click-through window). */
const MAX_AGE_MS = DAYS(90);
/** Google takes up to 2,000 conversions a request. */
const MAX_BATCH = 500;
/** Renew an access token this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;
/** "Retry after 6 hours have passed" (ConversionUploadError TOO_RECENT_EVENT; TOO_RECENT_CONVERSION_ACTION says 4 to 6). */
const TOO_RECENT_WAIT_MS = 6 * 3_600_000;
const RETRY_LATER = new Set(['TOO_RECENT_EVENT', 'TOO_RECENT_CONVERSION_ACTION']);
/** Already recorded (a resend after a lost answer, or an order id seen before): that is what we wanted. */
const ALREADY_THERE = new Set(['ORDER_ID_ALREADY_IN_USE', 'DUPLICATE_ORDER_ID', 'CLICK_CONVERSION_ALREADY_EXISTS']);

/** A `ClickConversion` as the REST API takes it (JSON names in lowerCamelCase). */
export interface ClickConversion {
  conversionAction: string;
  conversionDateTime: string;
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  userIdentifiers?: Array<{ hashedEmail: string; userIdentifierSource: 'FIRST_PARTY' } | { hashedPhoneNumber: string; userIdentifierSource: 'FIRST_PARTY' }>;
  conversionValue?: number;
  currencyCode?: string;
  orderId: string;
  consent: { adUserData: 'GRANTED' };
}

/** What the outbox keeps for Google Ads: the conversion, and its name for the upload file. */
export interface GoogleAdsItem {
  conversion: ClickConversion;
  name: string;
}

export interface GoogleAdsDeps {
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
}

/**
 * Google Ads click conversions, by the API (`POST {baseUrl}/{version}/customers/{id}:uploadClickConversions`
 * with `partialFailure: true`, `validateOnly` in test mode; headers `developer-token`, an OAuth
 * bearer token and `login-customer-id`) or, with `delivery: 'file'`, listed for a scheduled import
 * (`googleAdsCsv`). One click id per conversion, as the API requires: the `gclid`, else the `wbraid`
 * (web conversions on iOS), else the `gbraid`; without any, the hashed e-mail and phone make it an
 * enhanced conversion for leads. The event id is the `orderId`, so a resend is recognised by Google.
 */
export function googleAdsDestination(options: GoogleAdsForwardOptions, deps: GoogleAdsDeps): Destination {
  const customerId = String(options.customerId ?? '').replace(/-/g, '');
  if (!/^\d+$/.test(customerId)) throw new TypeError('forward.googleAds.customerId: expected the account id, digits (dashes allowed)');
  if (!text(options.developerToken)) throw new TypeError('forward.googleAds.developerToken: required');
  if (!text(options.accessToken) && !(options.oauth && text(options.oauth.clientId) && text(options.oauth.clientSecret) && text(options.oauth.refreshToken))) {
    throw new TypeError('forward.googleAds: give accessToken, or oauth { clientId, clientSecret, refreshToken }');
  }
  const actions = conversionActions(options, customerId);
  const delivery = options.delivery ?? 'api';
  if (delivery !== 'api' && delivery !== 'file') throw new TypeError(`forward.googleAds.delivery: 'api' or 'file', got ${JSON.stringify(delivery)}`);
  const base = (options.baseUrl ?? GOOGLE_ADS_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/${options.apiVersion ?? GOOGLE_ADS_API_VERSION}/customers/${customerId}:uploadClickConversions`;
  const token = accessTokens(options, deps);
  let refusedSinceRefresh = false;

  return {
    name: 'google_ads',
    mode: delivery === 'file' ? 'file' : options.validateOnly ? 'test' : 'live',
    purposes: DESTINATION_PURPOSES.google_ads,
    send: options.send ?? 'validated',
    unsupported: (name) => (actions.has(name) ? null : 'no conversion action for it in forward.googleAds.conversions'),
    maxAgeMs: MAX_AGE_MS,
    maxBatch: MAX_BATCH,

    build(event: ForwardableEvent) {
      const action = actions.get(event.name);
      if (!action) return { skip: 'no conversion action' };
      const clickIds = clickIdentifiers(event);
      if (delivery === 'file' && !clickIds.gclid) return { skip: 'no gclid (the upload file takes Google Click IDs; gbraid, wbraid and enhanced conversions go by the API)' };
      const userIdentifiers = clickIds.gbraid || clickIds.wbraid ? [] : hashedIdentifiers(event);
      if (!clickIds.gclid && !clickIds.gbraid && !clickIds.wbraid && userIdentifiers.length === 0) return { skip: 'no gclid, gbraid, wbraid or hashed e-mail or phone' };
      const { value, currency } = plainParams(event.params);
      const conversion: ClickConversion = {
        conversionAction: action.resource,
        conversionDateTime: googleAdsDateTime(event.ts),
        ...clickIds,
        ...(userIdentifiers.length ? { userIdentifiers } : {}),
        ...(value !== undefined ? { conversionValue: value } : {}),
        ...(currency ? { currencyCode: currency } : {}),
        orderId: event.event_id,
        consent: { adUserData: 'GRANTED' },
      };
      const item: GoogleAdsItem = { conversion, name: action.name };
      return { item, batchKey: '' };
    },

    async request(items: unknown[], masked: boolean) {
      const headers: Record<string, string> = {
        'developer-token': masked ? '***' : options.developerToken,
        Authorization: `Bearer ${masked ? '***' : await token.get()}`,
        ...(options.loginCustomerId ? { 'login-customer-id': String(options.loginCustomerId).replace(/-/g, '') } : {}),
      };
      const conversions = (items as GoogleAdsItem[]).map((item) => item.conversion);
      return jsonRequest(url, { conversions, partialFailure: true, validateOnly: options.validateOnly === true }, headers);
    },

    interpret(answer: HttpAnswer, items: unknown[], now: number): BatchOutcome {
      if (answer.status === 401 && options.oauth && !refusedSinceRefresh) {
        // An access token can be revoked before its time: get a new one and try again, once.
        refusedSinceRefresh = true;
        token.forget();
        return { kind: 'all', outcome: { kind: 'retry', reason: `http_401: access token refused, renewing it (${errorSummary(json(answer))})`, retryAfterMs: 0 } };
      }
      const transport = transportOutcome(answer, () => errorSummary(json(answer)) || answer.text.slice(0, 200), now);
      if (transport) return transport;
      refusedSinceRefresh = false;
      return { kind: 'per_item', outcomes: partialFailureOutcomes(json(answer), items.length) };
    },
  };
}

interface Action {
  resource: string;
  name: string;
}

function conversionActions(options: GoogleAdsForwardOptions, customerId: string): Map<string, Action> {
  const entries = Object.entries(options.conversions ?? {});
  if (entries.length === 0) throw new TypeError('forward.googleAds.conversions: map at least one event name to a conversion action');
  return new Map(
    entries.map(([event, conversion]) => {
      const action = String(conversion?.action ?? '');
      const resource = /^\d+$/.test(action) ? `customers/${customerId}/conversionActions/${action}` : action;
      if (!/^customers\/\d+\/conversionActions\/\d+$/.test(resource)) {
        throw new TypeError(`forward.googleAds.conversions.${event}.action: expected a conversion action id or customers/{id}/conversionActions/{id}, got ${JSON.stringify(action)}`);
      }
      return [event, { resource, name: text(conversion.name) ?? event }];
    }),
  );
}

/** One click id, as the API requires: both braids, or a braid with a gclid, are refused. */
function clickIdentifiers(event: ForwardableEvent): { gclid?: string; wbraid?: string; gbraid?: string } {
  const { gclid, wbraid, gbraid } = event.attribution;
  if (text(gclid)) return { gclid: gclid! };
  if (text(wbraid)) return { wbraid: wbraid! };
  if (text(gbraid)) return { gbraid: gbraid! };
  return {};
}

/**
 * Hashed e-mail and phone in Google's normalisation. A browser that hashed by Meta's rule only gives
 * an e-mail hash that differs from Google's just for Gmail addresses with dots, so it is used when
 * Google's is missing; a phone hash without the `+` would never match Google's E.164 form, so it is not.
 */
function hashedIdentifiers(event: ForwardableEvent): NonNullable<ClickConversion['userIdentifiers']> {
  const ids = event.ids ?? {};
  const email = text(ids.google_email_sha256) ?? text(ids.email_sha256);
  const phone = text(ids.google_phone_sha256);
  return [
    ...(email ? [{ hashedEmail: email, userIdentifierSource: 'FIRST_PARTY' as const }] : []),
    ...(phone ? [{ hashedPhoneNumber: phone, userIdentifierSource: 'FIRST_PARTY' as const }] : []),
  ];
}

/** `yyyy-mm-dd hh:mm:ss+|-hh:mm` (ClickConversion.conversion_date_time), written in UTC. */
export function googleAdsDateTime(ts: number): string {
  return `${new Date(Math.floor(ts / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
}

/**
 * Per-conversion outcomes of a 2xx answer: every conversion succeeded except those the
 * `partialFailureError` points at (`location.fieldPathElements`: `conversions`, index).
 */
function partialFailureOutcomes(body: unknown, count: number): SendOutcome[] {
  const outcomes: SendOutcome[] = Array.from({ length: count }, () => ({ kind: 'sent' }));
  const failure = (body as { partialFailureError?: { message?: string; details?: unknown[] } } | undefined)?.partialFailureError;
  if (!failure) return outcomes;
  const errors = (failure.details ?? []).flatMap((detail) => ((detail as { errors?: GoogleAdsError[] }).errors ?? []));
  let placed = 0;
  for (const error of errors) {
    const index = error.location?.fieldPathElements?.find((element) => element.fieldName === 'conversions')?.index;
    if (typeof index !== 'number' || index < 0 || index >= count) continue;
    placed++;
    const code = errorCode(error);
    const reason = shorten(`${code}: ${error.message ?? ''}`.trim());
    outcomes[index] = ALREADY_THERE.has(code)
      ? { kind: 'sent', note: 'already recorded' }
      : RETRY_LATER.has(code)
        ? { kind: 'retry', reason, retryAfterMs: TOO_RECENT_WAIT_MS }
        : { kind: 'failed', reason };
  }
  // A partial failure that names no conversion cannot be pinned on one: every conversion shares it.
  if (placed === 0) return outcomes.map(() => ({ kind: 'failed', reason: shorten(`partial failure: ${failure.message ?? 'no details'}`) }));
  return outcomes;
}

interface GoogleAdsError {
  errorCode?: Record<string, string>;
  message?: string;
  location?: { fieldPathElements?: Array<{ fieldName?: string; index?: number }> };
}

const errorCode = (error: GoogleAdsError): string => Object.values(error.errorCode ?? {})[0] ?? 'UNKNOWN';

/** `error.message`, with the first Google Ads failure's code and message (a `GoogleAdsFailure` detail). */
function errorSummary(body: unknown): string {
  const error = (body as { error?: { message?: string; status?: string; details?: unknown[] } } | undefined)?.error;
  if (!error) return '';
  const first = (error.details ?? []).flatMap((detail) => ((detail as { errors?: GoogleAdsError[] }).errors ?? []))[0];
  const head = [error.status, error.message].filter(Boolean).join(': ');
  return first ? `${head}; ${errorCode(first)}: ${first.message ?? ''}`.trim() : head;
}

/** OAuth access tokens: a fixed one, or one got from the refresh token and renewed before it expires. */
function accessTokens(options: GoogleAdsForwardOptions, deps: GoogleAdsDeps): { get(): Promise<string>; forget(): void } {
  let cached: { token: string; expiresAt: number } | null = null;
  return {
    forget: () => void (cached = null),
    async get() {
      if (!options.oauth) return options.accessToken!;
      if (cached && cached.expiresAt - TOKEN_MARGIN_MS > deps.now()) return cached.token;
      const { clientId, clientSecret, refreshToken, tokenUrl } = options.oauth;
      const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken }).toString();
      const answer = await sendHttp(deps.fetch, { method: 'POST', url: tokenUrl ?? GOOGLE_OAUTH_TOKEN_URL, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body }, deps.timeoutMs);
      if ('error' in answer) throw new DestinationError(`oauth token: ${answer.error}`, true);
      const parsed = json(answer) as { access_token?: string; expires_in?: number; error?: string; error_description?: string } | undefined;
      if (answer.status >= 500 || answer.status === 429 || answer.status === 408) throw new DestinationError(`oauth token: http_${answer.status}`, true);
      if (answer.status !== 200 || !parsed?.access_token) {
        // invalid_grant, invalid_client: the credentials are wrong, and retrying will not right them.
        throw new DestinationError(shorten(`oauth token: http_${answer.status}: ${parsed?.error ?? ''} ${parsed?.error_description ?? ''}`.trim()), false);
      }
      cached = { token: parsed.access_token, expiresAt: deps.now() + (Number(parsed.expires_in) || 3600) * 1000 };
      return cached.token;
    },
  };
}

/**
 * The click conversions as the upload file of a scheduled import (Google Ads, "Import conversions
 * from ad clicks"): the time zone line, the template's column names, then one row per conversion,
 * its time as `yyyy-MM-dd HH:mm:ss` in that zone. `timeZone` is an offset (`+0000`, `-0500`) or a
 * time zone id (`Europe/Paris`). Conversions without a gclid are not in it (see `build`).
 */
export function googleAdsCsv(rows: ReadonlyArray<{ item: GoogleAdsItem; ts: number }>, timeZone = '+0000'): string {
  const local = localTime(timeZone);
  const lines = [
    `Parameters:TimeZone=${timeZone}`,
    'Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency',
    ...rows
      .filter((row) => row.item.conversion.gclid)
      .map(({ item, ts }) =>
        [item.conversion.gclid!, item.name, local(ts), item.conversion.conversionValue?.toString() ?? '', item.conversion.currencyCode ?? ''].map(csvField).join(','),
      ),
  ];
  return `${lines.join('\n')}\n`;
}

const csvField = (value: string): string => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** Formats epoch ms as `yyyy-MM-dd HH:mm:ss` in a fixed offset or a named zone. */
function localTime(timeZone: string): (ts: number) => string {
  const offset = /^([+-])(\d{2})(\d{2})$/.exec(timeZone);
  if (offset) {
    const minutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
    return (ts) => new Date(Math.floor(ts / 1000) * 1000 + minutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  } catch {
    throw new TypeError(`forward.googleAds.file.timeZone: expected an offset like +0000 or a time zone id like Europe/Paris, got ${JSON.stringify(timeZone)}`);
  }
  return (ts) => {
    const part = Object.fromEntries(format.formatToParts(new Date(ts)).map((p) => [p.type, p.value]));
    return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
  };
}

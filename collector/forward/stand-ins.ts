import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GA4_RESERVED_EVENTS } from '../../src/adapters/gtag';
import type { DestinationName } from './types';

/**
 * Local stand-ins for the three platforms' endpoints, for tests and the forwarding simulation: one
 * Node HTTP server (port 0) that answers like Meta's Conversions API, Google Ads' click conversion
 * upload (and Google's OAuth token endpoint) and GA4's Measurement Protocol, checks every request
 * against the documented shape and credentials (a departure is a `problem`, answered with the
 * platform's own kind of error), and counts what it accepted per event id, so a test can tell an
 * event sent twice from one sent once.
 */
export interface StandInCredentials {
  meta: { pixelId: string; accessToken: string };
  googleAds: { customerId: string; developerToken: string; loginCustomerId?: string; clientId: string; clientSecret: string; refreshToken: string };
  ga4: { measurementId: string; apiSecret: string };
}

/** A scripted answer: the next request to that destination gets it instead of the normal one (`pass`: the normal one). */
export interface ScriptedAnswer {
  status?: number;
  pass?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
  /** Drop the connection instead of answering (a network error). */
  hangUp?: boolean;
}

export interface ReceivedRequest {
  destination: DestinationName | 'oauth';
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
}

export interface StandIns {
  url: string;
  credentials: StandInCredentials;
  /** Every request, in order. */
  requests: ReceivedRequest[];
  /** Departures from the documented shape or credentials. Tests expect none. */
  problems: string[];
  /** Event ids accepted for real (not in a test mode), with how many times each. */
  accepted: Record<DestinationName, Map<string, number>>;
  /** Event ids accepted in a test mode (Meta test_event_code, Google validateOnly, GA4 debug). */
  tested: Record<DestinationName, Map<string, number>>;
  /** Answers the next requests of a destination with these, in order. */
  script(destination: DestinationName | 'oauth', ...answers: ScriptedAnswer[]): void;
  /** Answers every request of the three platforms with this until called with null (an outage). */
  outage(answer: ScriptedAnswer | null): void;
  /** Requests of a destination so far (scripted ones included). */
  count(destination: DestinationName | 'oauth'): number;
  close(): Promise<void>;
}

export const STAND_IN_CREDENTIALS: StandInCredentials = {
  meta: { pixelId: '1234567890', accessToken: 'EAAB-test-token' },
  googleAds: { customerId: '1112223333', developerToken: 'dev-token-123', loginCustomerId: '9998887777', clientId: 'client.apps.example', clientSecret: 'client-secret', refreshToken: 'refresh-token' },
  ga4: { measurementId: 'G-TEST123', apiSecret: 'mp-secret' },
};

const SHA256_HEX = /^[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

/** Starts the stand-ins. `now` is their clock (the platforms' age limits are checked against it). */
export async function startStandIns(options: { now?: () => number; credentials?: StandInCredentials } = {}): Promise<StandIns> {
  const now = options.now ?? Date.now;
  const credentials = options.credentials ?? STAND_IN_CREDENTIALS;
  const scripts = new Map<string, ScriptedAnswer[]>();
  const requests: ReceivedRequest[] = [];
  const problems: string[] = [];
  const emptyCounts = () => ({ meta: new Map<string, number>(), google_ads: new Map<string, number>(), ga4: new Map<string, number>() });
  const accepted = emptyCounts();
  const tested = emptyCounts();
  const issuedTokens = new Set<string>();
  let tokenSerial = 0;
  let outage: ScriptedAnswer | null = null;
  const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);

  const handlers: Record<string, (call: Call) => Answer> = {
    meta: (call) => meta(call, credentials.meta, now, problems, accepted.meta, tested.meta, count),
    google_ads: (call) => googleAds(call, credentials.googleAds, issuedTokens, problems, accepted.google_ads, tested.google_ads, count),
    ga4: (call) => ga4(call, credentials.ga4, now, problems, accepted.ga4, tested.ga4, count),
    oauth: (call) => {
      const form = new URLSearchParams(call.raw);
      const { clientId, clientSecret, refreshToken } = credentials.googleAds;
      if (form.get('grant_type') !== 'refresh_token' || form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret || form.get('refresh_token') !== refreshToken) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } };
      }
      const token = `ya29.stand-in-${++tokenSerial}`;
      issuedTokens.add(token);
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/adwords' } };
    },
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const raw = Buffer.concat(chunks).toString('utf8');
      const destination = route(url.pathname);
      const call: Call = { path: url.pathname, query: Object.fromEntries(url.searchParams), headers: request.headers, raw, body: parseJson(raw) };
      if (!destination || request.method !== 'POST') return reply(response, { status: 404, body: { error: 'not found' } });
      const next = (destination !== 'oauth' ? outage : null) ?? scripts.get(destination)?.shift();
      const scripted = next?.pass ? undefined : next;
      const answer: Answer = scripted ? { status: scripted.status ?? 200, body: scripted.body, headers: scripted.headers } : handlers[destination]!(call);
      requests.push({ destination, method: request.method, path: url.pathname, query: call.query, headers: request.headers, body: call.body ?? raw, status: scripted?.hangUp ? 0 : answer.status });
      if (scripted?.hangUp) return void request.socket.destroy();
      reply(response, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    credentials,
    requests,
    problems,
    accepted,
    tested,
    script(destination, ...answers) {
      scripts.set(destination, [...(scripts.get(destination) ?? []), ...answers]);
    },
    outage(answer) {
      outage = answer;
    },
    count: (destination) => requests.filter((request) => request.destination === destination).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Call {
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  raw: string;
  body: unknown;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

function route(path: string): DestinationName | 'oauth' | null {
  if (/^\/v\d+\.\d+\/\d+\/events$/.test(path)) return 'meta';
  if (/^\/v\d+\/customers\/\d+:uploadClickConversions$/.test(path)) return 'google_ads';
  if (path === '/mp/collect' || path === '/debug/mp/collect') return 'ga4';
  if (path === '/token') return 'oauth';
  return null;
}

function reply(response: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  response.writeHead(answer.status, { ...(text ? { 'Content-Type': 'application/json; charset=UTF-8' } : {}), ...answer.headers });
  response.end(text);
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Raw contact data anywhere in a body: an e-mail address, or a run of digits long enough for a phone number. */
function rawContactData(body: string): string | null {
  const email = /[^\s"@]+@[^\s"@]+\.[a-z]{2,}/i.exec(body);
  if (email) return `an e-mail address (${email[0]})`;
  return null;
}

/** Meta: `POST /{version}/{pixel_id}/events?access_token=…`, `{ data: [...], test_event_code? }`. */
function meta(
  call: Call,
  expected: StandInCredentials['meta'],
  now: () => number,
  problems: string[],
  accepted: Map<string, number>,
  tested: Map<string, number>,
  count: (map: Map<string, number>, id: string) => void,
): Answer {
  const error = (message: string, code: number, subcode?: number, status = 400): Answer => {
    problems.push(`meta: ${message}`);
    return { status, body: { error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), is_transient: false, fbtrace_id: 'AbCdEf' } } };
  };
  if (call.path.split('/')[2] !== expected.pixelId) return error(`Unsupported post request: pixel ${call.path.split('/')[2]}`, 100);
  if (call.query.access_token !== expected.accessToken) return error('Invalid OAuth access token - Cannot parse access token', 190);
  const body = call.body;
  if (!isObject(body) || !Array.isArray(body.data) || body.data.length === 0 || body.data.length > 1000) return error('Invalid parameter: data must be an array of 1 to 1000 events', 100);
  const leak = rawContactData(call.raw);
  if (leak) return error(`raw contact data in the request: ${leak}`, 100);
  for (const [index, event] of body.data.entries()) {
    const problem = metaEventProblem(event, now());
    if (problem) {
      // Meta refuses the whole request for one bad event (an event_time too old, say).
      if (/more than 7 days/.test(problem)) return { status: 400, body: { error: { message: `Invalid parameter: data[${index}]: ${problem}`, type: 'OAuthException', code: 100, error_subcode: 2804003, is_transient: false, fbtrace_id: 'AbCdEf' } } };
      return error(`data[${index}]: ${problem}`, 100, 2804050);
    }
  }
  const testCode = body.test_event_code;
  if (testCode !== undefined && typeof testCode !== 'string') return error('test_event_code must be a string', 100);
  for (const event of body.data) count(testCode ? tested : accepted, event.event_id);
  return { status: 200, body: { events_received: body.data.length, messages: [], fbtrace_id: 'AbCdEf' } };
}

function metaEventProblem(event: unknown, now: number): string | null {
  if (!isObject(event)) return 'not an object';
  if (typeof event.event_name !== 'string' || !event.event_name) return 'event_name: required';
  if (!Number.isInteger(event.event_time) || String(event.event_time).length !== 10) return 'event_time: a Unix timestamp in seconds';
  if (event.event_time * 1000 < now - 7 * DAY_MS) return 'event_time: more than 7 days in the past';
  if (typeof event.event_id !== 'string' || !event.event_id) return 'event_id: expected for deduplication';
  if (event.action_source !== 'website') return `action_source: expected website, got ${event.action_source}`;
  if (typeof event.event_source_url !== 'string' || !/^https?:\/\//.test(event.event_source_url)) return 'event_source_url: required for website events';
  const user = event.user_data;
  if (!isObject(user)) return 'user_data: required';
  if (typeof user.client_user_agent !== 'string' || !user.client_user_agent) return 'user_data.client_user_agent: required for website events';
  for (const field of ['em', 'ph', 'external_id']) {
    if (user[field] !== undefined && !(Array.isArray(user[field]) && user[field].every((hash: unknown) => typeof hash === 'string' && SHA256_HEX.test(hash)))) return `user_data.${field}: SHA-256 hashes expected`;
  }
  if (user.fbc !== undefined && !/^fb\.1\.\d{13}\..+$/.test(user.fbc)) return `user_data.fbc: expected fb.1.{creation time ms}.{fbclid}, got ${user.fbc}`;
  if (user.fbp !== undefined && !/^fb\.\d\.\d+\.\d+$/.test(user.fbp)) return `user_data.fbp: expected fb.{subdomain}.{time}.{random}, got ${user.fbp}`;
  if (event.custom_data !== undefined && !isObject(event.custom_data)) return 'custom_data: an object';
  return null;
}

/** Google Ads: `POST /{version}/customers/{id}:uploadClickConversions` with developer-token, bearer token, login-customer-id. */
function googleAds(
  call: Call,
  expected: StandInCredentials['googleAds'],
  issuedTokens: Set<string>,
  problems: string[],
  accepted: Map<string, number>,
  tested: Map<string, number>,
  count: (map: Map<string, number>, id: string) => void,
): Answer {
  const rpcError = (status: number, statusText: string, message: string, code: Record<string, string>): Answer => {
    problems.push(`google_ads: ${message}`);
    return { status, body: { error: { code: status, message, status: statusText, details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure', errors: [{ errorCode: code, message }], requestId: 'req-1' }] } } };
  };
  const bearer = /^Bearer (.+)$/.exec(String(call.headers.authorization ?? ''))?.[1];
  if (!bearer || !issuedTokens.has(bearer)) return rpcError(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.', { authenticationError: 'OAUTH_TOKEN_INVALID' });
  if (call.headers['developer-token'] !== expected.developerToken) return rpcError(401, 'UNAUTHENTICATED', 'The developer token is not valid.', { authenticationError: 'DEVELOPER_TOKEN_INVALID' });
  if (expected.loginCustomerId && call.headers['login-customer-id'] !== expected.loginCustomerId) {
    return rpcError(403, 'PERMISSION_DENIED', "User doesn't have permission to access customer.", { authorizationError: 'USER_PERMISSION_DENIED' });
  }
  const customer = /customers\/(\d+):/.exec(call.path)?.[1];
  if (customer !== expected.customerId) return rpcError(403, 'PERMISSION_DENIED', `customer ${customer} is not accessible`, { authorizationError: 'USER_PERMISSION_DENIED' });
  const body = call.body;
  if (!isObject(body) || !Array.isArray(body.conversions) || body.conversions.length === 0) return rpcError(400, 'INVALID_ARGUMENT', 'conversions: required', { requestError: 'REQUIRED_FIELD_MISSING' });
  if (body.conversions.length > 2000) return rpcError(400, 'INVALID_ARGUMENT', 'Upload fewer than 2001 events in a single request.', { conversionUploadError: 'TOO_MANY_CONVERSIONS_IN_REQUEST' });
  if (body.partialFailure !== true) return rpcError(400, 'INVALID_ARGUMENT', 'partialFailure must be true', { requestError: 'INVALID_INPUT' });
  const leak = rawContactData(call.raw);
  if (leak) return rpcError(400, 'INVALID_ARGUMENT', `raw contact data in the request: ${leak}`, { requestError: 'INVALID_INPUT' });
  const validateOnly = body.validateOnly === true;
  const errors: unknown[] = [];
  const results: unknown[] = [];
  body.conversions.forEach((conversion: unknown, index: number) => {
    const failure = conversionProblem(conversion, expected.customerId) ?? (isObject(conversion) && String(conversion.gclid ?? '').startsWith('invalid') ? ['UNPARSEABLE_GCLID', 'The imported gclid could not be decoded.'] : null);
    const orderId = isObject(conversion) ? String(conversion.orderId) : '';
    const duplicate = !failure && !validateOnly && accepted.has(orderId) ? ['ORDER_ID_ALREADY_IN_USE', 'The order ID was already used by another conversion.'] : null;
    const refusal = failure ?? duplicate;
    if (refusal) {
      if (failure && !failure[0]!.startsWith('UNPARSEABLE')) problems.push(`google_ads: conversions[${index}]: ${failure[1]}`);
      errors.push({ errorCode: { conversionUploadError: refusal[0] }, message: refusal[1], trigger: {}, location: { fieldPathElements: [{ fieldName: 'conversions', index }] } });
      results.push({});
      return;
    }
    count(validateOnly ? tested : accepted, orderId);
    results.push({ gclid: (conversion as any).gclid, conversionAction: (conversion as any).conversionAction, conversionDateTime: (conversion as any).conversionDateTime });
  });
  return {
    status: 200,
    body: {
      ...(errors.length ? { partialFailureError: { code: 3, message: 'Multiple errors in ‘details’. First error: see details.', details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure', errors, requestId: 'req-2' }] } } : {}),
      ...(validateOnly ? {} : { results }),
      jobId: '123',
    },
  };
}

/** One ClickConversion against the documented rules; `[code, message]` when it breaks one. */
function conversionProblem(conversion: unknown, customerId: string): [string, string] | null {
  if (!isObject(conversion)) return ['INVALID_INPUT', 'not an object'];
  if (!new RegExp(`^customers/${customerId}/conversionActions/\\d+$`).test(String(conversion.conversionAction))) return ['INVALID_CONVERSION_ACTION', `conversionAction: ${conversion.conversionAction}`];
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(String(conversion.conversionDateTime))) return ['INVALID_DATE_TIME', `conversionDateTime: not yyyy-mm-dd hh:mm:ss+|-hh:mm: ${conversion.conversionDateTime}`];
  const braids = ['gbraid', 'wbraid'].filter((field) => conversion[field] !== undefined);
  if (braids.length === 2) return ['GBRAID_WBRAID_BOTH_SET', 'both gbraid and wbraid'];
  if (braids.length === 1 && (conversion.gclid !== undefined || conversion.userIdentifiers !== undefined)) return ['VALUE_MUST_BE_UNSET', `${braids[0]} with a gclid or user identifiers`];
  const identifiers = conversion.userIdentifiers;
  if (identifiers !== undefined) {
    if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.length > 5) return ['INVALID_USER_IDENTIFIER', 'userIdentifiers: 1 to 5'];
    for (const identifier of identifiers) {
      const hashes = ['hashedEmail', 'hashedPhoneNumber'].filter((field) => isObject(identifier) && identifier[field] !== undefined);
      if (hashes.length !== 1 || !SHA256_HEX.test(String(identifier[hashes[0]!]))) return ['INVALID_USER_IDENTIFIER', 'a user identifier is one SHA-256 hashed e-mail or phone number'];
    }
  }
  if (conversion.gclid === undefined && braids.length === 0 && identifiers === undefined) return ['CLICK_NOT_FOUND', 'no click id and no user identifiers'];
  if (typeof conversion.orderId !== 'string' || !conversion.orderId) return ['INVALID_INPUT', 'orderId: expected (deduplication)'];
  if (!isObject(conversion.consent) || !['GRANTED', 'DENIED'].includes(conversion.consent.adUserData)) return ['INVALID_INPUT', 'consent.adUserData: GRANTED or DENIED'];
  if (conversion.conversionValue !== undefined && typeof conversion.conversionValue !== 'number') return ['INVALID_INPUT', 'conversionValue: a number'];
  return null;
}

/** GA4: `POST /mp/collect?measurement_id=…&api_secret=…` (or `/debug/mp/collect`). */
function ga4(
  call: Call,
  expected: StandInCredentials['ga4'],
  now: () => number,
  problems: string[],
  accepted: Map<string, number>,
  tested: Map<string, number>,
  count: (map: Map<string, number>, id: string) => void,
): Answer {
  const debug = call.path.startsWith('/debug/');
  const messages: Array<{ fieldPath: string; description: string; validationCode: string }> = [];
  const invalid = (fieldPath: string, description: string, validationCode = 'VALUE_INVALID') => messages.push({ fieldPath, description, validationCode });
  // The live endpoint answers 2xx whatever it got: wrong credentials are problems the test sees, not errors the sender does.
  if (call.query.measurement_id !== expected.measurementId) problems.push(`ga4: measurement_id ${call.query.measurement_id}`);
  if (call.query.api_secret !== expected.apiSecret) problems.push('ga4: api_secret does not match');
  const body = call.body;
  if (!isObject(body)) invalid('', 'Unable to parse the JSON body', 'VALUE_INVALID');
  else {
    if (typeof body.client_id !== 'string' || !body.client_id) invalid('client_id', 'client_id is required for web streams', 'VALUE_REQUIRED');
    if (body.user_id !== undefined && typeof body.user_id !== 'string') invalid('user_id', 'user_id must be a string');
    if (body.consent !== undefined) {
      for (const field of ['ad_user_data', 'ad_personalization']) {
        if (body.consent[field] !== undefined && !['GRANTED', 'DENIED'].includes(body.consent[field])) invalid(`consent.${field}`, 'GRANTED or DENIED');
      }
    }
    if (!Array.isArray(body.events) || body.events.length === 0) invalid('events', 'events is required', 'VALUE_REQUIRED');
    else if (body.events.length > 25) invalid('events', 'at most 25 events a request', 'EXCEEDED_MAX_ENTITIES');
    else body.events.forEach((event: any, index: number) => ga4EventProblems(event, index, now(), invalid));
  }
  if (rawContactData(call.raw)) invalid('', 'raw contact data in the request');
  if (messages.length && !debug) problems.push(...messages.map((m) => `ga4: ${m.fieldPath}: ${m.description}`));
  if (messages.length === 0 && isObject(body)) for (const event of body.events) count(debug ? tested : accepted, String(event.params?.event_id));
  return debug ? { status: 200, body: { validationMessages: messages } } : { status: 204 };
}

function ga4EventProblems(event: any, index: number, now: number, invalid: (path: string, description: string, code?: string) => void): void {
  const at = `events[${index}]`;
  if (!isObject(event)) return invalid(at, 'not an object');
  if (typeof event.name !== 'string' || !/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/.test(event.name)) invalid(`${at}.name`, `Event at index: [${index}] has invalid name [${event.name}]. Names must start with an alphabetic character.`, 'NAME_INVALID');
  else if (GA4_RESERVED_EVENTS.includes(event.name)) invalid(`${at}.name`, `${event.name} is a reserved name`, 'NAME_RESERVED');
  const params = event.params;
  if (!isObject(params)) return invalid(`${at}.params`, 'params: an object');
  if (Object.keys(params).length > 25) invalid(`${at}.params`, 'at most 25 parameters', 'EXCEEDED_MAX_ENTITIES');
  if (params.session_id === undefined) invalid(`${at}.params.session_id`, 'session_id is needed for sessions', 'VALUE_REQUIRED');
  if (!(typeof params.engagement_time_msec === 'number' && params.engagement_time_msec > 0)) invalid(`${at}.params.engagement_time_msec`, 'a positive engagement_time_msec', 'VALUE_REQUIRED');
  if (event.timestamp_micros !== undefined) {
    if (!Number.isInteger(event.timestamp_micros) || String(event.timestamp_micros).length !== 16) invalid(`${at}.timestamp_micros`, 'microseconds since the epoch');
    else if (event.timestamp_micros / 1000 < now - 3 * DAY_MS) invalid(`${at}.timestamp_micros`, 'more than 72 hours in the past', 'VALUE_OUT_OF_BOUNDS');
  }
}

import type { Attribution, ConsentValue, MicroconvEvent, Purpose } from '../../src/types';
import type { CollectedEvent, ConsentColumns } from '../store';
import type { ForwardOutbox } from './outbox';

/** The three server-side destinations. */
export const DESTINATIONS = ['meta', 'google_ads', 'ga4'] as const;
export type DestinationName = (typeof DESTINATIONS)[number];

/**
 * Who converted, as the browser sends it (contract 5, `ids`). Hashed values are SHA-256 hex of the
 * normalised value. `email` and `phone` are raw values from clients that could not hash: the
 * collector hashes them on receipt (`hash.ts`) and stores only the hashes.
 */
export interface Identifiers {
  fbp?: string | null;
  fbc?: string | null;
  ga_client_id?: string | null;
  user_id?: string | null;
  /** Trimmed, lower case (Meta's rule; Google's too, except the dots of a Gmail address). */
  email_sha256?: string | null;
  /** Digits only, country code first, no `+` (Meta's rule). */
  phone_sha256?: string | null;
  /** Google's e-mail rule: as `email_sha256`, and no dots before `@gmail.com`/`@googlemail.com`. */
  google_email_sha256?: string | null;
  /** Google's phone rule: E.164, `+` and digits. */
  google_phone_sha256?: string | null;
  /** Raw, from a client that could not hash: never stored (replaced by the hashes above). */
  email?: string | null;
  phone?: string | null;
}

/**
 * An event as the forwarders read it: the collector's checked event (`CollectedEvent`: every optional
 * field may be null, a server's own conversion may carry nothing but the four required ones), with
 * `ids` as `Identifiers` so that a wire event with raw ones (tests, the simulation) fits too.
 */
export type ForwardableEvent = Omit<CollectedEvent, 'consent' | 'ids'> & { consent?: Partial<ConsentColumns> | null; ids?: Identifiers | null };

/**
 * A wire event (contract 5) with its additions, as a client sends it: the consent it was tracked
 * under and `ids`, raw `email` and `phone` included from a client that could not hash (the tests and
 * the forwarding simulation send these).
 */
export type WireEvent = MicroconvEvent & {
  attribution: Attribution & { gbraid?: string | null; wbraid?: string | null };
  consent?: Partial<Record<Purpose, ConsentValue>> | null;
  ids?: Identifiers | null;
};

/** What the collector knows of the request that brought an event (Meta wants both). */
export interface RequestContext {
  ip?: string;
  userAgent?: string;
}

/** Which events a destination gets: the default, every event, or exactly these names. */
export type SendRule = 'validated' | 'all' | string[];

/** Options every destination shares. */
export interface CommonDestinationOptions {
  /** Which events: `'validated'` (default: macro conversions and micro-conversions whose verdict is "more"), `'all'`, or a list. */
  send?: SendRule;
  /** The API's address, to point at a stand-in in tests. */
  baseUrl?: string;
}

export interface MetaForwardOptions extends CommonDestinationOptions {
  pixelId: string;
  /** A Conversions API access token (Events Manager, Settings). */
  accessToken: string;
  /** Graph API version. Default `v22.0`. */
  apiVersion?: string;
  /** Meta standard events, as the browser's `meta.events` option: a mapping, or `'standard'`. Must match the pixel's, or nothing deduplicates. */
  events?: Record<string, string> | 'standard';
  /** Test mode: events go to Events Manager's Test Events tab with this code, and are not used for ads. */
  testEventCode?: string;
}

export interface GoogleAdsConversion {
  /** The conversion action: its id, or its resource name `customers/{id}/conversionActions/{id}`. */
  action: string;
  /** Its name in Google Ads (the upload file's `Conversion Name`). Default: the event name. */
  name?: string;
}

export interface GoogleAdsForwardOptions extends CommonDestinationOptions {
  /** The account that owns the conversion actions, digits only. */
  customerId: string;
  developerToken: string;
  /** The manager account the credentials act through, if any (`login-customer-id`). */
  loginCustomerId?: string;
  /** A fixed OAuth access token (tests, or a token your own code refreshes) ... */
  accessToken?: string;
  /** ... or a refresh token the collector exchanges for access tokens. */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string; tokenUrl?: string };
  /** Event name to conversion action. An event with none is not forwarded (the report says so). */
  conversions: Record<string, GoogleAdsConversion>;
  /** API version. Default `v22`. */
  apiVersion?: string;
  /** Test mode: Google validates the upload and records nothing. */
  validateOnly?: boolean;
  /** `'api'` (default) uploads; `'file'` only lists the click conversions in the CSV for a scheduled import. */
  delivery?: 'api' | 'file';
  /**
   * The upload file (`GET /forward/google-ads.csv`): its time zone line, how many days back it
   * lists, and the user name and password a scheduled import gives (HTTP basic authentication).
   */
  file?: { timeZone?: string; days?: number; username?: string; password?: string };
}

export interface Ga4ForwardOptions extends CommonDestinationOptions {
  /** The web stream's measurement id, `G-XXXXXXX`. */
  measurementId: string;
  /** A Measurement Protocol API secret of that stream. */
  apiSecret: string;
  /** Renames events for GA4, as the browser's `gtag.names`. */
  names?: Record<string, string>;
  /** Test mode: send to `/debug/mp/collect`, which validates and records nothing. */
  validate?: boolean;
}

/** `forward` in the collector options and the JSON config file of the CLI. */
export interface ForwardOptions {
  meta?: MetaForwardOptions;
  googleAds?: GoogleAdsForwardOptions;
  ga4?: Ga4ForwardOptions;
  /** The outbox, for a store other than DuckDB (whose outbox is a table beside `events`). */
  outbox?: ForwardOutbox | Promise<ForwardOutbox>;
  /** Print what would be sent instead of sending it. */
  dryRun?: boolean;
  /** Where `dryRun` prints. Default: stdout. */
  print?: (line: string) => void;
  /** Send from a timer loop (default). `false`: only when `flush()` is called (tests, one-off runs). */
  autoSend?: boolean;
  /** How often the gate reads the report's verdicts again, in ms. Default 10 minutes. */
  gateRefreshMs?: number;
  /** Retry waits: `baseMs` doubles per failure up to `capMs` (defaults 10 s and 1 h), with jitter. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Give up on a request after this long, in ms. Default 30 s. */
  timeoutMs?: number;
  /** The `fetch` to use (tests). */
  fetch?: typeof fetch;
  /** Jitter source (tests). */
  random?: () => number;
}

/** What one send did to one outbox row. */
export type SendOutcome =
  | { kind: 'sent'; note?: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'failed'; reason: string };

/**
 * A request-level answer. `rejected`: the destination refused the whole request for a reason that
 * may be one item's fault; a batch of several is split and each item sent on its own.
 */
export type BatchOutcome =
  | { kind: 'per_item'; outcomes: SendOutcome[] }
  | { kind: 'all'; outcome: SendOutcome }
  | { kind: 'rejected'; reason: string };

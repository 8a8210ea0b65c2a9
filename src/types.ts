/**
 * The public types of microconv, in one place. Everything here is part of the contract
 * (`CONTRACT.md`): fields may be added, never renamed or removed.
 */

/** A Google Consent Mode v2 purpose. */
export type Purpose = 'analytics_storage' | 'ad_storage' | 'ad_user_data' | 'ad_personalization';

/** The state of one consent purpose. `pending` holds events (bounded) until it is decided. */
export type ConsentValue = 'granted' | 'denied' | 'pending';

/** The state of every purpose. */
export type ConsentState = Record<Purpose, ConsentValue>;

/** A consent update: one word for all four purposes, or some purposes by name. */
export type ConsentUpdate = ConsentValue | Partial<ConsentState>;

/**
 * A consent tool the site already runs, for microconv to follow instead of `consent()` calls: `'gtag'`,
 * Google Consent Mode's commands in the `dataLayer`; `'tcf'`, an IAB TCF v2.2 CMP through `__tcfapi`.
 */
export type ConsentSourceName = 'gtag' | 'tcf';

/** A parameter value: anything that survives `JSON.stringify` unchanged. */
export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };

/** The parameters of an event. `undefined` values are left out, as JSON leaves them out. */
export type Params = { [key: string]: ParamValue | undefined };

/**
 * Where the event happened. URLs keep query values only of `utm_*` and of the parameters named by
 * `urlParams`; e-mail addresses, phone numbers, long digit runs and tokens are redacted in them and in
 * the path and title (`[redacted]`).
 */
export interface PageContext {
  /** The page URL, redacted. */
  url: string;
  /** `location.pathname`, redacted. */
  path: string;
  /** `document.title`, redacted. */
  title: string;
  /** The referrer of this page view (the previous route in an SPA), redacted; `''` when none. */
  referrer: string;
}

/** How the session arrived, captured on its landing page and kept for the session. */
export interface Attribution {
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  /** Google Ads click id of the landing page (kept here as it came; redacted in every URL). */
  gclid: string | null;
  /** Google Ads click ids of app campaigns on iOS (web to app, app to web). */
  gbraid?: string | null;
  wbraid?: string | null;
  /** Meta click id of the landing page. */
  fbclid: string | null;
  /** The landing page URL, redacted. */
  landing_page: string;
  /** The referrer of the landing page, redacted; `''` when none. */
  referrer: string;
}

/** The event envelope: what every adapter receives, and what the endpoint puts on the wire. */
export interface MicroconvEvent<Name extends string = string, P = Params> {
  /** A UUID v4, the same across retries and for every destination (the deduplication key). */
  event_id: string;
  /** The event name, `^[a-z][a-z0-9_]{0,39}$`. */
  name: Name;
  /** When it happened, epoch milliseconds. */
  ts: number;
  /** The session: a new one after 30 minutes without activity. */
  session_id: string;
  /** A first-party browser id, kept only with `analytics_storage` consent; `null` without it. */
  anonymous_id: string | null;
  page: PageContext;
  params: P;
  attribution: Attribution;
  /** The consent the event was tracked under (server-side forwarding honours it). */
  consent?: ConsentState | null;
  /** Identifiers for server-side matching, each only with the consent it needs (README, "Server-side matching"). */
  ids?: EventIds | null;
}

/** Who converted, for server-side matching: `identify()`. E-mail and phone leave the page only hashed. */
export interface Identity {
  /** The site's own id of the person. */
  user_id?: string;
  /** An e-mail address; normalised (trimmed, lower case), then SHA-256 hashed. */
  email?: string;
  /** A phone number with its country code (`+33 6 12 34 56 78`); normalised to digits, then hashed. */
  phone?: string;
}

/** The identifiers of an event (contract 5, `ids`); a field is left out where consent or data lack. */
export interface EventIds {
  /** Meta's browser id, the `_fbp` cookie. */
  fbp?: string | null;
  /** Meta's click id: the `_fbc` cookie, else `fb.1.{ms}.{fbclid}` from the landing page's `fbclid`. */
  fbc?: string | null;
  /** GA4's client id, from the `_ga` cookie. */
  ga_client_id?: string | null;
  /** `identify({ user_id })`. */
  user_id?: string | null;
  /** SHA-256 of the e-mail, trimmed and lower case (Meta's and Google's form). */
  email_sha256?: string | null;
  /** SHA-256 of the phone as country code and digits (Meta's form). */
  phone_sha256?: string | null;
  /** SHA-256 of Google's form, where it differs: a Gmail address without the dots before the `@`. */
  google_email_sha256?: string | null;
  /** SHA-256 of the phone in E.164, with its `+` (Google's form). */
  google_phone_sha256?: string | null;
  /** Only where the browser cannot hash, and only on the way to the first-party endpoint: the collector hashes them on receipt. */
  email?: string | null;
  phone?: string | null;
}

/** What the core tells an adapter about a delivery. */
export interface SendContext {
  /**
   * The page is being hidden or left: this is the last chance to send, and there will be no chance
   * to read a response. Send by a means that outlives the page (`sendBeacon`, `fetch` keepalive).
   */
  leaving: boolean;
  /** Tells of something cut or refused on the way (a parameter over a vendor's limit): a debug warning, counted under `reason`. */
  note(reason: string, detail: string): void;
}

/** What a destination may answer for a batch it took (contract 4). Fields it does not know are ignored. */
export interface SendResult {
  /** The events it refused for good, and why: they are not resent, and count as dropped (`rejected`). The rest were delivered. */
  rejected?: { event_id: string; problems?: string[] }[];
}

/**
 * A destination. Any object with a `name` and a `send` is one ("your own" in the contract).
 *
 * `send` may return a promise: it resolves when the events are delivered and rejects when they are
 * not. A rejection with `{ retry: true }` (and optionally `retryAfterMs`; `deliveryError` makes one) is
 * retried with backoff, and never costs an event anything while the whole destination is failing; an
 * event that keeps failing on its own while the destination takes other events is dropped, counted
 * as `undeliverable`, after a few such attempts. Any other failure is retried twice, then dropped and
 * counted. It may resolve to a `SendResult` naming events refused for good; resolving to nothing means
 * every event was delivered.
 *
 * @example
 * const console: Adapter = { name: 'console', send: (events) => events.forEach((e) => console.log(e)) };
 */
export interface Adapter {
  /** Shown in debug output and delivery reports. */
  name: string;
  /** Delivers a batch. A throw or a rejection never reaches another adapter or the page. */
  send(events: MicroconvEvent[], context: SendContext): void | SendResult | Promise<void | SendResult>;
  /** The consent purposes this destination needs; none when left out. */
  consent?: Purpose[];
  /**
   * A stable identity across page loads. With it (and `analytics_storage` consent) unsent events
   * are kept in IndexedDB and delivered on a later page load; without it they live in memory.
   */
  persistKey?: string;
  /** Deliver each event at once instead of batching (vendor tags that expect events as they happen). */
  immediate?: boolean;
  /** Called by `destroy()`. */
  destroy?(): void;
}

/** A delivery error an adapter can throw or reject with, to steer retries. */
export interface DeliveryError extends Error {
  /** Worth trying again (network error, 408, 429, 5xx). */
  retry?: boolean;
  /** The server asked to wait this long before trying again (`Retry-After`). */
  retryAfterMs?: number;
  /** A short reason for reports and drop counts, such as `http_503` or `network`. */
  reason?: string;
}

/** What happened to events at one adapter. */
export type DeliveryStatus = 'sent' | 'queued' | 'retrying' | 'failed' | 'held' | 'dropped';

/** A delivery report, for `on('delivery')` and the debug overlay. */
export interface DeliveryReport {
  /** The adapter's name; `'*'` for a drop before any adapter saw the event. */
  adapter: string;
  status: DeliveryStatus;
  /** The events concerned. */
  event_ids: string[];
  /** Why, for `retrying`, `failed`, `held` and `dropped`. */
  reason?: string;
}

/** A log line, for `on('log')` and the debug overlay. */
export interface LogEntry {
  level: 'error' | 'warn' | 'debug';
  message: string;
}

/** Counters, for `stats()`. */
export interface Stats {
  /** Events dropped, by reason: nothing is dropped silently. */
  dropped: Record<string, number>;
  /** Events waiting, by adapter name (queued, retrying or held for consent). */
  waiting: Record<string, number>;
}

/** The measurement plan (contract section 6): the micro-conversions by funnel stage. */
export interface Plan {
  /** The macro conversions, such as `purchase` or `generate_lead`. */
  macro?: string[];
  stages?: {
    engagement?: string[];
    consideration?: string[];
    intent?: string[];
    conversion?: string[];
  };
}

/** Options of `init`. Every one is optional. */
export interface Options {
  /** The first-party collector URL for the `endpoint` adapter (relative URLs resolve against the page). */
  endpoint?: string;
  /** Destinations: built-in names or adapter objects. Default: `['endpoint']` when `endpoint` is set. */
  adapters?: Array<string | Adapter>;
  /** Tracker options, each `false` to turn it off or an object of its own options. */
  trackers?: Record<string, unknown>;
  /** Batching of deliveries. */
  batch?: {
    /** A batch leaves when it holds this many events. Default 10. */
    size?: number;
    /** A batch leaves at most this long after its first event. Default 5000. */
    intervalMs?: number;
  };
  /**
   * Consent defaults, or the site's own consent tool to follow (`'gtag'` or `'tcf'`: pending until it
   * speaks). Default: granted, unless `data-consent` says otherwise.
   */
  consent?: ConsentUpdate | ConsentSourceName;
  /** The measurement plan. */
  plan?: Plan;
  /** Debug mode: verbose logging and the overlay. */
  debug?: boolean;
  /** Options of the built-in `gtag` adapter (`send_to`, `names`, `waitMs`, `consentMode`). */
  gtag?: { send_to?: string; names?: Record<string, string>; waitMs?: number; consentMode?: 'basic' | 'advanced' };
  /** Options of the built-in `meta` adapter (`events`: a mapping to Meta standard events, or `'standard'`). */
  meta?: { events?: Record<string, string | ((event: MicroconvEvent) => string | undefined)> | 'standard'; waitMs?: number };
  /** Options of the built-in `datalayer` adapter (`name` of the array). */
  datalayer?: { name?: string };
  /** Where to load the debug overlay from (an http(s) URL). Default: next to `microconv.js`. */
  debugSrc?: string;
  /**
   * Query parameters whose values URLs (`page.url`, `page.referrer`, `link_url`, `landing_page`) may
   * keep besides `utm_*`, such as `['page', 'plan']`; every other value leaves as `[redacted]`, and so
   * does a kept value that holds an e-mail address, a phone number or a token. Case-insensitive.
   */
  urlParams?: string[];
  /**
   * How bad input (event names, parameters, options) is reported: `'throw'` (the default, for the npm
   * API) throws a `TypeError` to the caller; `'log'` (what the script tag uses) logs a console error,
   * counts a drop with reason `invalid` and never throws.
   */
  errors?: 'throw' | 'log';
}

/** What `on` can listen to. */
export interface InstanceEvents {
  /** Every valid event, as it is emitted, whatever consent says (it stays on the page). */
  event: MicroconvEvent;
  /** What each adapter did with events. */
  delivery: DeliveryReport;
  /** Errors, warnings and (in debug mode) debug lines. */
  log: LogEntry;
}

/** The canonical micro-conversions and their parameters (contract section 2). */
export interface CanonicalEvents {
  cta_click: {
    cta_name?: string;
    link_text?: string;
    link_url?: string;
    link_type?: 'link' | 'button' | 'tel' | 'mailto' | 'download' | 'outbound';
    section_name?: string;
  };
  download_click: { file_name: string; file_extension: string; link_url: string; link_text: string; section_name?: string };
  section_view: { section_name: string };
  scroll_depth: { percent_scrolled: number };
  form_begin: FormParams;
  form_step: FormParams;
  form_complete: FormParams;
  form_abandon: FormParams & { last_field?: string };
  video_play: VideoParams;
  video_milestone: VideoParams & { video_percent: number };
  video_finish: VideoParams;
  web_vitals: { lcp?: number; inp?: number; cls?: number };
}

/** Parameters of the form events. */
export interface FormParams {
  form_name: string;
  form_id?: string;
  step_index?: number;
  step_name?: string;
  step_count?: number;
}

/** Parameters of the video events. */
export interface VideoParams {
  video_title: string;
  video_url: string;
  video_provider: 'html5' | 'youtube' | 'vimeo';
  video_duration: number;
  video_current_time: number;
}

/**
 * A map of event names to their parameter types, for a typed `track`: the canonical events are built
 * in, a site adds its own with `init<MyEvents>()`.
 */
export type EventMap = object;

/** The running instance that `init` returns. */
export interface Instance<Events extends EventMap = CanonicalEvents> {
  /**
   * Tracks a micro-conversion or the macro conversion; returns its `event_id`.
   * @example instance.track('purchase', { value: 49, currency: 'EUR' })
   */
  track<Name extends string>(name: Name, params?: Name extends keyof Events ? Events[Name] : Params): string;
  /** Updates consent; events held for it go out (granted) or are dropped, counted (denied). */
  consent(update: ConsentUpdate): void;
  /**
   * Says who converted, for server-side matching; later events carry the ids their consent allows.
   * E-mail and phone are normalised and SHA-256 hashed; never stored or sent to a vendor tag raw.
   * Each call replaces the last (`identify({})` forgets).
   * @example instance.identify({ user_id: 'u-42', email: 'Jane@Example.com', phone: '+33 6 12 34 56 78' })
   */
  identify(identity: Identity): void;
  /** Sends everything queued now; resolves when every adapter has answered (or timed out). */
  flush(): Promise<void>;
  /** Turns debug mode on or off (verbose logging, the overlay). */
  debug(on?: boolean): void;
  /** Listens; returns the unsubscribe function. */
  on<K extends keyof InstanceEvents>(type: K, listener: (payload: InstanceEvents[K]) => void): () => void;
  /** Drop and queue counters. */
  stats(): Stats;
  /** Removes every listener, observer and timer microconv added, and flushes what is queued. */
  destroy(): Promise<void>;
}

/** One thing that happened, as the overlay replays it: an event, a delivery report or a log line. */
export type DebugRecord = { [K in keyof InstanceEvents]: [K, InstanceEvents[K]] }[keyof InstanceEvents];

/** What an instance in debug mode hands the overlay (`microconv/debug`). */
export interface DebugHandle {
  on: Instance<any>['on'];
  stats: Instance<any>['stats'];
  plan?: Plan;
  /** The adapters' names, in order. */
  adapters: string[];
  /** What happened before the overlay was mounted (bounded). */
  history: DebugRecord[];
  /**
   * The collector URL (the `endpoint` option), where the overlay asks what the server forwards. Without
   * it the overlay reads the `data-endpoint` of microconv's script tag.
   */
  endpoint?: string;
}

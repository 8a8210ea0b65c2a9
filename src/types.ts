/**
 * The public types of microconv, in one place. Everything here is part of the public contract
 * (docs/contract.md): fields may be added, never renamed or removed. Across the sources, "contract N"
 * in a comment means section N of that file.
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
  /** Destinations: names of registered adapter parts, or adapter objects. Default: `['endpoint']` when `endpoint` is set. */
  adapters?: Array<string | Adapter>;
  /** Tracker options, each `false` to turn it off or an object of its own options. */
  trackers?: TrackerOptions;
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
  /** Options of the `gtag` adapter. */
  gtag?: GtagOptions;
  /** Options of the `meta` adapter. */
  meta?: MetaOptions;
  /** Options of the `datalayer` adapter. */
  datalayer?: DataLayerOptions;
  /** Options of the `tiktok` adapter. */
  tiktok?: TiktokOptions;
  /** Options of the `linkedin` adapter: which events are which conversions. */
  linkedin?: LinkedinOptions;
  /** Options of the `x` adapter: which events are which conversions. */
  x?: XOptions;
  /**
   * More parts (trackers and adapters) for this instance, besides those its entry registered: `microconv`
   * and the script tag register every built-in one, `microconv/core` none.
   */
  parts?: Part[];
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

/**
 * The options of the built-in trackers, by their key in `options.trackers` (a registered part may add
 * keys of its own). Each is `false` to turn it off, or an object of its options.
 */
export interface TrackerOptions {
  /** `cta_click` for `data-mc-cta` elements (and contact and outbound links). */
  cta?: false | { outbound?: boolean; contact?: boolean };
  /** `download_click` for links to files of these types. */
  downloads?: false | { extensions?: string[] };
  sections?: false | SectionOptions;
  scroll?: false | ScrollOptions;
  forms?: false | {};
  video?: false | VideoOptions;
  /** Accepted for `trackers: { vitals: false }`; web vitals are their own entry (`microconv/vitals`). */
  vitals?: false | {};
  /** SPA route changes as new page views; `query: true` counts a change of query string too. */
  spa?: false | { query?: boolean };
  [key: string]: false | object | undefined;
}

/** Options of the section tracker. */
export interface SectionOptions {
  /** Share of the element (or of the viewport, for an element taller than it) that must be visible. Default 0.5. */
  threshold?: number;
  /** How long it must stay visible, in ms. Default 1000. */
  dwellMs?: number;
}

/** Options of the scroll tracker. */
export interface ScrollOptions {
  /** The marks, in percent of the page height. Default 25, 50, 75, 90. */
  marks?: number[];
}

/** Options of the video tracker. */
export interface VideoOptions {
  /** Milestones in percent of the duration. Default 25, 50, 75. */
  marks?: number[];
}

/** Options of the `gtag` adapter. */
export interface GtagOptions {
  /** A `send_to` target (a GA4 measurement id or group), added to every event. */
  send_to?: string;
  /** Renames events for GA4: `{ cta_click: 'select_promotion' }`. */
  names?: Record<string, string>;
  /** How long to wait for `gtag` (or `dataLayer`) to exist, in ms. Default 5000. */
  waitMs?: number;
  /**
   * Google's consent modes. `'basic'` (the default): events wait for analytics_storage, as at every
   * analytics destination. `'advanced'`: they go to gtag whatever consent says, and gtag, which knows the
   * page's Consent Mode state, sends cookieless pings while analytics_storage is denied (for Google's
   * modelling). Only for pages whose Google tag has Consent Mode set up. microconv itself still keeps
   * no identifier and writes nothing without analytics_storage.
   */
  consentMode?: 'basic' | 'advanced';
}

/** An event's Meta standard event, by name or by a function of the event (undefined: send it as custom). */
export type MetaMapping = Record<string, string | ((event: MicroconvEvent) => string | undefined)>;

/** Options of the `meta` adapter. */
export interface MetaOptions {
  /** Sends these as Meta standard events; `'standard'` uses `META_STANDARD_EVENTS`. */
  events?: MetaMapping | 'standard';
  /** How long to wait for `fbq` to exist, in ms. Default 5000. */
  waitMs?: number;
}

/** Options of the `datalayer` adapter. */
export interface DataLayerOptions {
  /** The name of the data layer array. Default `dataLayer`. */
  name?: string;
}

/** Options of the `tiktok` adapter. */
export interface TiktokOptions {
  /** Sends these as TikTok standard events (`{ form_complete: 'SubmitForm' }`); the others go by their own name. */
  events?: Record<string, string>;
  /** How long to wait for `ttq` to exist, in ms. Default 5000. */
  waitMs?: number;
}

/** Options of the `linkedin` adapter. */
export interface LinkedinOptions {
  /**
   * The conversion id (a number, from Campaign Manager) of each event to send: `{ form_complete: 1234567 }`.
   * LinkedIn counts conversions, not events: an event without one is not sent, counted as `linkedin_unmapped`.
   */
  conversions?: Record<string, number | string>;
  /** How long to wait for `lintrk` to exist, in ms. Default 5000. */
  waitMs?: number;
}

/** Options of the `x` adapter. */
export interface XOptions {
  /**
   * The event id (`tw-xxxxx-yyyyy`, from X Ads Manager) of each event to send: `{ form_complete: 'tw-o1b2c-o3d4e' }`.
   * An event without one is not sent, counted as `x_unmapped`.
   */
  events?: Record<string, string>;
  /** How long to wait for `twq` to exist, in ms. Default 5000. */
  waitMs?: number;
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

/** Undoes what a tracker set up: its listeners, observers and timers. */
export type Teardown = () => void;

/** What a tracker gets from the core. */
export interface TrackerContext {
  /** Emits a micro-conversion. */
  emit(name: string, params: Record<string, unknown>): void;
  /**
   * Listens through one capture-phase listener per event type on `document` (or `window`), shared by
   * all trackers: no listener per element, and elements added later are covered for free. A tracker
   * fetched while the page ran may first get the events of its `events` that happened meanwhile, replayed
   * in order: copies (`ReplayedEvent`) that hold what a handler reads, as it was at the time.
   */
  listen(type: string, handler: (event: Event) => void, onWindow?: boolean): void;
  /** Calls `found` for every element matching `selector`, now (`late` false) and whenever one is added. */
  watch(selector: string, found: (element: Element, late: boolean) => void): void;
  /** Runs when the page is hidden or left, or before an SPA route change: the last moment of a page view. */
  onLeave(hook: () => void): void;
  /** Runs when an SPA route change starts a new page view. */
  onPage(hook: () => void): void;
  /** A URL read from the page, as the site's URL policy lets it leave (`redactUrl` with `urlParams`). */
  redactUrl(url: string): string;
}

/**
 * An event that happened while a tracker was being fetched, replayed to it: its `type`, `target` and
 * `composedPath()` (which a real event empties once dispatched), and, where the target is a media
 * element, its `currentTime` and `duration` as they were then; `at`, when it happened (epoch ms), which
 * is the time of what the tracker tracks from it.
 */
export interface ReplayedEvent {
  type: string;
  at?: number;
  target: EventTarget | null;
  composedPath(): EventTarget[];
  currentTime?: number;
  duration?: number;
}

/** A tracker: one function per file, the same shape for all; returns its teardown. */
export type Tracker<TrackerOptions = Record<string, unknown>> = (context: TrackerContext, options: TrackerOptions) => Teardown | void;

/** Tests one option's value: truthy when it may be used. */
export type OptionTest = (value: any) => unknown;

/** The options a part takes, by name, each with its test: an option not listed is refused. */
export type OptionTests = Record<string, OptionTest>;

/**
 * A tracker as an entry registers it (`parts`): its keys in `options.trackers` and either the tracker
 * itself (`start`) or how to fetch it (`load`, for the script tag its own file next to `microconv.js`),
 * with what the core holds while it comes.
 *
 * @example
 * const hovers: TrackerPart<{ delayMs?: number }> = { kind: 'tracker', keys: { hovers: { delayMs: (ms) => ms >= 0 } }, start: trackHovers };
 * init({ endpoint: '/collect', parts: [hovers], trackers: { hovers: { delayMs: 500 } } });
 */
export interface TrackerPart<TrackerOptions = any> {
  kind: 'tracker';
  /**
   * Its keys in `options.trackers`, each `false` or an object of options, with the tests of those
   * options. `false` at the first key turns the tracker off.
   */
  keys: Record<string, OptionTests>;
  /** Its options, read from `options.trackers` (default: the object under its first key); `false`: it is off. */
  settings?(trackers: Record<string, any>): TrackerOptions | false;
  /** The tracker. */
  start?: Tracker<TrackerOptions>;
  /** Or how to fetch the tracker; it starts once it has come. */
  load?(): Promise<Tracker<TrackerOptions>>;
  /** With `load`: fetch it only once an element matching this selector is on the page, now or later. */
  when?: string;
  /** With `load`: the events it listens to on `document`, held while it comes and replayed to it in order. */
  events?: string[];
}

/**
 * A destination as an entry registers it, so that `adapters: ['name']` can name it: its consent and
 * delivery mode, known at once, and either a factory (`create`) or how to fetch one (`load`). While a
 * fetched adapter comes, its queue holds the events, in order.
 */
export interface AdapterPart<AdapterOptions = any> {
  kind: 'adapter';
  /** Its name in `options.adapters`, and the key of its options (`options[name]`). */
  name: string;
  /** The tests of its options; any object of options when left out. */
  options?: OptionTests;
  /** The consent purposes it needs (as its adapter says), or a function of its options that tells them. */
  consent?: Purpose[] | ((options: AdapterOptions) => Purpose[]);
  /** It delivers each event at once (as its adapter says). */
  immediate?: boolean;
  /** Builds the adapter from its options; `endpoint` is the resolved `endpoint` option. Throws a message when it cannot. */
  create?(options: AdapterOptions, endpoint: string | undefined): Adapter;
  /** Or how to fetch that factory. */
  load?(): Promise<(options: AdapterOptions) => Adapter>;
}

/** A part that an entry, or the `parts` option, registers with the core. */
/**
 * A consent tool the site already runs, followed: each decision it makes goes to `apply` (the instance's
 * own `consent`), from the moment it starts until the function it returns is called.
 */
export type ConsentSource = (apply: (update: ConsentUpdate) => void, log: (level: LogEntry['level'], message: string) => void) => () => void;

/**
 * A consent tool as an entry registers it: `consent: 'name'` (or `data-consent="name"`) follows it. Until
 * it speaks, consent is pending. Either the source itself (`follow`) or how to fetch it (`load`).
 */
export interface ConsentPart {
  kind: 'consent';
  name: string;
  follow?: ConsentSource;
  load?(): Promise<ConsentSource>;
}

export type Part = TrackerPart | AdapterPart | ConsentPart;

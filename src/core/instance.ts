import type { CanonicalEvents, ConsentUpdate, DebugHandle, DebugRecord, DeliveryStatus, EventMap, Instance, InstanceEvents, MicroconvEvent, Options, PageContext, Params } from '../types';
import { builtInAdapters } from '../adapters/builtins';
import { builtInTrackers } from '../trackers';
import { pageContext } from '../lib/context';
import { redactUrl } from '../lib/redact';
import { createLog, describe, safe } from '../lib/safe';
import { uuid } from '../lib/uuid';
import { createIds } from '../lib/ids';
import { consentProblem, copyParams, nameProblem, own, ownParams, show } from '../lib/validate';
import { applyConsent, gate, globalPrivacyControl } from './consent';
import { consentSources } from '../consent/sources';
import { openJournal, type Journal } from './journal';
import { createDom, watchRoutes, type TrackerContext } from './dom';
import { watchLifecycle } from './lifecycle';
import { ownerLocks } from './locks';
import { resolveOptions } from './options';
import { MAX_REQUEST_BYTES, createOutbox, sizeOf } from './outbox';
import { createSession } from './session';
import { loadScript } from './loader';

/** An event must fit in one request, with room to spare. */
export const MAX_EVENT_BYTES = MAX_REQUEST_BYTES / 2;

/**
 * Starts microconv and returns its instance. Every option is optional; a bad one throws a `TypeError`
 * (with `errors: 'log'`, it is logged, counted and left out).
 *
 * @example
 * const mc = init({ endpoint: '/collect', adapters: ['endpoint', 'gtag'] });
 * mc.track('purchase', { value: 49, currency: 'EUR' });
 */
export function init<Custom extends EventMap = {}>(options?: Options): Instance<CanonicalEvents & Custom> {
  const listeners: { [K in keyof InstanceEvents]: Set<(payload: InstanceEvents[K]) => void> } = { event: new Set(), delivery: new Set(), log: new Set() };
  const dropped: Record<string, number> = {};
  let debugOn: boolean | undefined;
  let destroyed = false;

  // In debug mode, what happened before the overlay loaded, so that it shows the page from its start.
  let history: DebugRecord[] | undefined;
  const emit = <K extends keyof InstanceEvents>(type: K, payload: InstanceEvents[K]) => {
    if (history && history.push([type, payload] as DebugRecord) > 500) history.shift();
    // A failing log listener is not logged: that would call it again.
    listeners[type].forEach((listener) => safe(type === 'log' ? undefined : log, type + ' listener', () => listener(payload)));
  };
  const log = createLog(() => !!debugOn, (entry) => emit('log', entry));

  const report = (adapter: string, status: DeliveryStatus, ids: string[], reason?: string) => {
    const count = adapter === '*' ? 1 : ids.length; // '*': bad input, refused before it was an event
    if (!count) return;
    if (status === 'dropped' || status === 'failed') dropped[reason!] = (dropped[reason!] || 0) + count;
    emit('delivery', { adapter, status, event_ids: ids, reason });
  };
  // Read once, like every option; an `errors` that cannot be read is the npm default.
  const throws = safe(undefined, 'errors', () => (options as Options | undefined)?.errors) !== 'log';
  /** Bad input: a TypeError for the npm caller; from the script tag, a console error and a counted drop. */
  const fail = (message: string): undefined => {
    if (throws) throw new TypeError('microconv: ' + message);
    log('error', message);
    report('*', 'dropped', [], 'invalid');
  };

  const resolved = resolveOptions(options, builtInAdapters, fail);
  const overlay = () => {
    history ||= [];
    const src = resolved.debugSrc;
    if (overlayRequested || !src) return;
    overlayRequested = true;
    // What the overlay reads: the instance's listeners and counters, the plan, and the story so far.
    const handle = (): DebugHandle => ({ on: instance.on, stats: instance.stats, plan: resolved.plan, adapters: resolved.adapters.map((adapter) => adapter.name), history: history! });
    // From the folder microconv.js came from (or the debugSrc given in code), fetched only when debugging.
    safe(log, 'overlay', () =>
      loadScript(src, () => safe(log, 'overlay', () => (window as { microconvOverlay?: { mount(handle: DebugHandle): void } }).microconvOverlay?.mount(handle()))),
    );
  };
  let overlayRequested = false;
  // This instance's name in the shared queue: unique enough across a site's tabs, and cheaper at load
  // than a first call into the browser's crypto.
  const owner = Date.now().toString(36) + Math.random().toString(36).slice(2);
  const gpc = globalPrivacyControl();
  // The site's own consent tool, when the option names one: pending until it speaks (started at the end).
  const consentSource = consentSources[resolved.consent as string];
  let consent = applyConsent(undefined, consentSource ? 'pending' : (resolved.consent as ConsentUpdate), gpc);
  const mayStore = () => consent.analytics_storage === 'granted';
  const urlParams = resolved.urlParams;
  const session = createSession(mayStore, urlParams);
  const ids = createIds();

  // IndexedDB opens on first need, and is given up for good at its first failure (idb-keyval keeps a
  // failed open, so every later call would fail the same way).
  let journal: Journal | undefined;
  let journalBroken = false;
  // This instance's claim on stored events lives as long as it does (see ownerLocks); when another
  // instance goes, every queue looks for what it left.
  const locks = ownerLocks(owner, () => void each((outbox) => outbox.wake()));
  const outboxes = resolved.adapters.map((adapter) =>
    createOutbox({
      adapter,
      owner,
      consent: () => gate(consent, adapter.consent),
      journal: () => (adapter.persistKey && mayStore() && !journalBroken ? (journal ||= (locks.hold(), openJournal())) : undefined),
      journalFailed(error) {
        if (!journalBroken) log('warn', `IndexedDB failed (${describe(error)}); the queue is kept in memory`);
        journalBroken = true;
      },
      batch: resolved.batch,
      locks,
      report: (status, ids, reason) => report(adapter.name, status, ids, reason),
      note(reason, detail) {
        dropped[reason] = (dropped[reason] || 0) + 1;
        log('warn', `${adapter.name}: ${detail}`);
      },
      log,
    }),
  );
  const each = (fn: (outbox: (typeof outboxes)[number]) => unknown) => Promise.all(outboxes.map(fn)).then(() => {});

  let referrer = document.referrer;
  // The page's context changes with its URL, title and referrer; redacting it once per change is enough.
  let page: [string, PageContext] | undefined;
  const currentPage = () => {
    const key = location.href + document.title + referrer;
    return (page?.[0] === key ? page : (page = [key, pageContext(urlParams, referrer)]))[1];
  };
  // While a page view ends (an SPA route change), its last events still belong to it.
  let leavingPage: PageContext | undefined;

  /** `own`: params from our trackers, flat and of known types, so they skip the deep check and copy. */
  const track = (name: string, params?: Params, own?: boolean): string => {
    let event: MicroconvEvent;
    try {
      if (destroyed) throw 'track after destroy()';
      const problem = nameProblem(name);
      if (problem) throw problem;
      const now = Date.now();
      const state = session.touch(now);
      event = {
        event_id: uuid(),
        name,
        ts: now,
        session_id: state.id,
        anonymous_id: session.anonymousId(),
        page: leavingPage || currentPage(),
        params: own ? ownParams(params!) : copyParams(params),
        attribution: state.attribution,
      };
      ids.stamp(event, consent, now);
      const size = sizeOf(event);
      if (size > MAX_EVENT_BYTES) throw `${size} bytes, over the ${MAX_EVENT_BYTES} an event may have`;
    } catch (error) {
      return fail(`track(${show(name)}): ${describe(error)}`) || '';
    }
    emit('event', event);
    for (const outbox of outboxes) outbox.add([event]);
    return event.event_id;
  };

  // The trackers, and what they share: delegated listeners, one MutationObserver, page hooks.
  const dom = createDom(log);
  const leaveHooks: (() => void)[] = [];
  const pageHooks: (() => void)[] = [];
  const run = (hooks: (() => void)[]) => hooks.forEach((hook) => safe(log, 'tracker', hook));
  const context: TrackerContext = {
    emit: (name, params) => safe(log, name, () => track(name, params as Params, true)),
    listen: dom.listen,
    watch: dom.watch,
    onLeave: (hook) => leaveHooks.push(hook),
    onPage: (hook) => pageHooks.push(hook),
    redactUrl: (url) => redactUrl(url, urlParams),
  };
  const settings = resolved.trackers as Record<string, Record<string, unknown> | false | undefined>;
  const teardowns: (() => void)[] = [];
  // The trackers start once the page is idle: nothing of theirs is needed to load it.
  dom.later(() => {
    if (destroyed) return;
    for (const [key, tracker] of Object.entries(builtInTrackers())) {
      const options = key === 'cta' ? { ...settings.cta, ctas: settings.cta !== false, downloads: settings.downloads === false ? false : settings.downloads?.extensions } : settings[key];
      // A browser without one of the observers loses that tracker, not the others.
      const teardown = options !== false && safe(log, key + ' tracker', () => tracker(context, options || {}));
      if (teardown) teardowns.push(teardown);
    }
    if (settings.spa !== false) {
      teardowns.push(
        watchRoutes((from) => {
          leavingPage = pageContext(urlParams, referrer, from);
          run(leaveHooks);
          leavingPage = undefined;
          referrer = from;
          run(pageHooks);
        }, !!settings.spa?.query),
      );
    }
  });

  const stopLifecycle = watchLifecycle(
    // Trackers first (a form abandoned is the last thing a page says), then delivery.
    (unloading) => (run(leaveHooks), each((outbox) => outbox.leave(unloading))),
    () => each((outbox) => outbox.resume()),
    () => each((outbox) => outbox.flush()),
  );
  // Once the page has loaded and is idle: what a closed or crashed page left behind goes out, and the
  // page view counts as activity in the session (the first read of localStorage can block for
  // milliseconds, and an idle moment is where that belongs, not a click).
  if (mayStore()) dom.later(() => (session.touch(Date.now()), each((outbox) => outbox.flush())));
  if ((debugOn = resolved.debug)) overlay();

  // The typed surface is the caller's; inside, names and params are checked at run time.
  const instance: Instance<any> = {
    track: (name: string, params?: Params) => track(name, params),
    consent(update: ConsentUpdate) {
      const problem = consentProblem(update);
      if (problem) return fail(problem);
      const couldStore = mayStore();
      consent = applyConsent(consent, update, gpc);
      // In memory first, for every queue, whatever storage does next: where storage throws at once (a
      // sandboxed frame, some private modes), a withdrawal must still stop every destination.
      for (const outbox of outboxes) safe(log, 'consent', () => (outbox.consentChanged(), !couldStore && mayStore() && void outbox.flush()));
      if (couldStore && !mayStore()) {
        // Withdrawn: no identifier and no stored event may remain.
        session.forget();
        // Through a promise, so that an IndexedDB that throws at once throws nothing here either.
        if (journal) new Promise((resolve) => resolve(journal!.clear())).catch(() => {});
      }
    },
    identify: (identity) => void ((problem) => problem && fail(problem))(ids.identify(identity)),
    flush: () => each((outbox) => outbox.flush()),
    debug(on = true) {
      if ((debugOn = !!on)) overlay();
    },
    on(type, listener) {
      // Own keys only: `on('constructor')` must not find Object.prototype's.
      const set = typeof type === 'string' && own(listeners, type) ? (listeners[type] as Set<typeof listener>) : undefined;
      if (set && typeof listener === 'function') set.add(listener);
      else fail(`on() takes a type (${Object.keys(listeners)}) and a function`);
      return () => void set?.delete(listener);
    },
    stats() {
      const waiting: Record<string, number> = {};
      resolved.adapters.forEach((adapter, i) => (waiting[adapter.name] = outboxes[i]!.size()));
      return { dropped: { ...dropped }, waiting };
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      stopLifecycle();
      dom.stop();
      for (const teardown of teardowns) safe(log, 'teardown', teardown);
      await each((outbox) => outbox.close());
      locks.stop(); // what is still stored is the next page's
      for (const adapter of resolved.adapters) safe(log, adapter.name + '.destroy', () => adapter.destroy?.());
      for (const set of Object.values(listeners)) set.clear();
    },
  };
  // The site's consent tool takes over now: it may answer at once, through the instance's own consent().
  const stopSource = consentSource && safe(log, 'consent source', () => consentSource((update) => instance.consent(update), log));
  if (stopSource) teardowns.push(stopSource);
  return instance;
}

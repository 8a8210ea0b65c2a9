import type { CanonicalEvents, ConsentSource, ConsentUpdate, DeliveryStatus, EventMap, Instance, InstanceEvents, Options, Params, Part } from '../types';
import { redactUrl } from '../lib/redact';
import { createLog, describe, safe } from '../lib/safe';
import { createIds } from '../lib/ids';
import { consentProblem, own, show, within, type Problem } from '../lib/validate';
import { applyConsent, globalPrivacyControl } from './consent';
import { createDelivery } from './delivery';
import { createDom } from './dom';
import { createEvents } from './events';
import { explain } from './explain';
import { watchLifecycle } from './lifecycle';
import { resolveOptions } from './options';
import { createOverlay } from './overlay';
import { createSession } from './session';
import { startTrackers } from './trackers';

type Listeners = { [K in keyof InstanceEvents]: Set<(payload: InstanceEvents[K]) => void> };

/**
 * Starts microconv and returns its instance: the core, with the parts (trackers, adapters) its entry
 * registered (`registered`) and those of the `parts` option. Every option is optional; a bad one throws
 * a `TypeError` (with `errors: 'log'`, it is logged, counted and left out).
 *
 * @example
 * import { init, endpointPart, clicksPart } from 'microconv/core';
 * const mc = init({ endpoint: '/collect', parts: [endpointPart, clicksPart] });
 * mc.track('purchase', { value: 49, currency: 'EUR' });
 */
export function init<Custom extends EventMap = {}>(options?: Options, registered: Part[] = []): Instance<CanonicalEvents & Custom> {
  const listeners: Listeners = { event: new Set(), delivery: new Set(), log: new Set() };
  const dropped: Record<string, number> = {};
  let debugOn: boolean | undefined;
  let destroyed = false;
  let overlay: ReturnType<typeof createOverlay> | undefined; // once the options are read

  const emit = <K extends keyof InstanceEvents>(type: K, payload: InstanceEvents[K]) => {
    overlay?._record([type, payload] as never);
    // A failing log listener is not logged: that would call it again.
    listeners[type].forEach((listener) => safe(type === 'log' ? undefined : log, type + ' listener', () => listener(payload)));
  };
  const log = createLog(() => !!debugOn, (entry) => emit('log', entry));
  const count = (reason: string, n = 1) => (dropped[reason] = (dropped[reason] || 0) + n);
  const report = (adapter: string, status: DeliveryStatus, ids: string[], reason?: string) => {
    const n = adapter === '*' ? 1 : ids.length; // '*': dropped before it was an event
    if (!n) return;
    if (status === 'dropped' || status === 'failed') count(reason!, n);
    emit('delivery', { adapter, status, event_ids: ids, reason });
  };
  // Read once, like every option; an `errors` that cannot be read is the npm default.
  const throws = safe(undefined, 'errors', () => (options as Options | undefined)?.errors) !== 'log';
  /** Bad input found later (no caller to throw to): a console error and a counted drop. */
  const refused = (message: string) => (log('error', message), report('*', 'dropped', [], 'invalid'));
  /** Bad input: a TypeError for the npm caller; from the script tag, a console error and a counted drop. */
  const fail = (problem: Problem | string): undefined => {
    const message = explain(problem, (full) => log('error', full));
    if (throws) throw new TypeError('microconv: ' + message);
    refused(message);
  };
  /** A part whose code could not be fetched: a console error; its events count as `part_unavailable`. */
  const lost = (message: string) => log('error', message);

  const resolved = resolveOptions(options, registered, fail, lost);
  const { adapters, urlParams } = resolved;
  overlay = createOverlay(resolved.debugSrc, () => ({ on: instance.on, stats: instance.stats, plan: resolved.plan, endpoint: resolved.endpoint, adapters: adapters.map((adapter) => adapter.name) }), log);
  const gpc = globalPrivacyControl();
  // The site's own consent tool, when the option names one: pending until it speaks (followed at the end).
  const consentSource = typeof resolved.consent === 'string' ? resolved.registry.consents[resolved.consent] : undefined;
  let consent = applyConsent(undefined, consentSource ? 'pending' : (resolved.consent as ConsentUpdate), gpc);
  const mayStore = () => consent.analytics_storage === 'granted';
  const session = createSession(mayStore, urlParams);
  const ids = createIds(fail, refused, lost);
  // Each event carries the ids and the consent it may (contract 5), as consent is when it is built.
  const events = createEvents(session, urlParams, (event, now) => ids._stamp(event, consent, now));

  const delivery = createDelivery({ adapters, batch: resolved.batch, consent: () => consent, report, count, log });

  const track = (name: string, params?: Params, own?: boolean): string => {
    let event;
    try {
      if (destroyed) throw 'track after destroy()';
      event = events._build(name, params, own);
    } catch (error) {
      return fail(within(`track(${show(name)})`, error)) || '';
    }
    emit('event', event);
    delivery.add(event);
    return event.event_id;
  };

  // The trackers start once the page is idle: nothing of theirs is needed to load it.
  const dom = createDom(log);
  let trackers: ReturnType<typeof startTrackers> | undefined;
  dom.later(() => {
    if (destroyed) return;
    trackers = startTrackers({
      parts: resolved.registry.trackers,
      settings: resolved.trackers,
      dom,
      context: { emit: (name, params) => safe(log, name, () => track(name, params as Params, true)), redactUrl: (url) => redactUrl(url, urlParams) },
      routeChanged: events._routeChanged,
      clock: events._clock,
      lost: (message) => (lost(message), report('*', 'dropped', [], 'part_unavailable')),
      log,
    });
  });

  const stopLifecycle = watchLifecycle(
    // Trackers first (a form abandoned is the last thing a page says), then delivery.
    (unloading) => (trackers?.leave(), delivery.each((outbox) => outbox.leave(unloading))),
    () => delivery.each((outbox) => outbox.resume()),
    () => delivery.each((outbox) => outbox.flush()),
  );
  // Once the page has loaded and is idle: what a closed or crashed page left behind goes out, the
  // page view counts as activity in the session, and the cookies are read for the first events' ids
  // (the first read of localStorage can block for milliseconds, and of document.cookie for one: an idle
  // moment is where that belongs, not a click).
  if (mayStore()) dom.later(() => (session._touch(Date.now()), ids._warm(), delivery.each((outbox) => outbox.flush())));
  if ((debugOn = resolved.debug)) overlay._open();

  // The typed surface is the caller's; inside, names and params are checked at run time.
  const instance: Instance<any> = {
    track: (name: string, params?: Params) => track(name, params),
    consent(update: ConsentUpdate) {
      const problem = consentProblem(update);
      if (problem) return fail(problem);
      const couldStore = mayStore();
      consent = applyConsent(consent, update, gpc);
      delivery.consentChanged(couldStore);
      // Withdrawn: no identifier may remain.
      if (couldStore && !mayStore()) session._forget();
    },
    identify: ids._identify,
    flush: () => delivery.each((outbox) => outbox.flush()),
    debug(on = true) {
      if ((debugOn = !!on)) overlay!._open();
    },
    on(type, listener) {
      // Own keys only: `on('constructor')` must not find Object.prototype's.
      const set = typeof type === 'string' && own(listeners, type) ? (listeners[type] as Set<typeof listener>) : undefined;
      if (set && typeof listener === 'function') set.add(listener);
      else fail(`on() takes a type (${Object.keys(listeners)}) and a function`);
      return () => void set?.delete(listener);
    },
    stats: () => ({ dropped: { ...dropped }, waiting: delivery.waiting() }),
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      stopLifecycle();
      dom.stop();
      trackers?.stop();
      stopSource?.();
      ids._stop();
      await delivery.close();
      for (const set of Object.values(listeners)) set.clear();
    },
  };
  // The site's consent tool takes over now (once fetched, for the script tag): it may answer at once,
  // through the instance's own consent(). Until it speaks, or if it cannot be fetched, consent stays pending.
  let stopSource: (() => void) | undefined;
  const follow = (source: ConsentSource) => {
    if (!destroyed) stopSource = safe(log, 'consent source', () => source((update) => instance.consent(update), log));
  };
  if (consentSource?.follow) follow(consentSource.follow);
  else consentSource?.load?.().then(follow, (error) => lost(`the ${consentSource.name} consent source is unavailable (${describe(error)}): consent stays pending`));
  return instance;
}

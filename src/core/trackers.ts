import type { ReplayedEvent, Teardown, Tracker, TrackerContext, TrackerPart } from '../types';
import { describe, safe, type Log } from '../lib/safe';
import type { createDom } from './dom';
import { watchRoutes } from './routes';

/** The most events held for a tracker while it is fetched: the first interactions are what matter. */
const MAX_HELD = 200;

export interface TrackerOptions {
  parts: TrackerPart[];
  /** `options.trackers`, checked. */
  settings: Record<string, any>;
  dom: ReturnType<typeof createDom>;
  context: Omit<TrackerContext, 'listen' | 'watch' | 'onLeave' | 'onPage'>;
  /** An SPA route change from `from`: `ending` runs the leave hooks within the page view that ends. */
  routeChanged(from: string, ending: () => void): void;
  /** A tracker's code could not be fetched (counted as `part_unavailable`). */
  lost(message: string): void;
  /** Sets the time the events tracked from now on happened at (a replayed event's); none: now. */
  clock(at?: number): void;
  log: Log;
}

/** A copy of `event` that can be replayed later: what a handler reads, as it is now. */
const replayable = (event: Event): ReplayedEvent => {
  const path = event.composedPath();
  const { currentTime, duration } = (event.target || {}) as Partial<HTMLMediaElement>;
  return { type: event.type, at: Date.now(), target: event.target, composedPath: () => path, currentTime, duration };
};

/**
 * Starts the trackers of the registered parts that the options leave on, and watches SPA route changes
 * (contract 3). A tracker that must be fetched first is fetched when the page has what it tracks (its
 * `when`), and the events it declares are held meanwhile and replayed to it, in order, once it runs.
 * Returns `leave` (the page view's last moment) and the teardown of everything.
 */
export function startTrackers({ parts, settings, dom, context, routeChanged, lost, clock, log }: TrackerOptions) {
  const leaveHooks: (() => void)[] = [];
  const pageHooks: (() => void)[] = [];
  const teardowns: Teardown[] = [];
  let stopped = false;
  const run = (hooks: (() => void)[]) => hooks.forEach((hook) => safe(log, 'tracker', hook));
  const shared: TrackerContext = { ...context, listen: dom.listen, watch: dom.watch, onLeave: (hook) => leaveHooks.push(hook), onPage: (hook) => pageHooks.push(hook) };

  /** Runs `tracker`, then replays to it what happened while it was fetched. A browser without one of the observers loses that tracker, not the others. */
  const begin = (name: string, tracker: Tracker<any>, options: object, held: ReplayedEvent[] = []) => {
    const handlers: [string, (event: Event) => void][] = [];
    const listen: TrackerContext['listen'] = (type, handler, onWindow) => (onWindow || handlers.push([type, handler]), dom.listen(type, handler, onWindow));
    const teardown = safe(log, name + ' tracker', () => tracker({ ...shared, listen }, options));
    if (teardown) teardowns.push(teardown);
    // What the tracker tracks from a held event happened when that event did, not as it is replayed:
    // the events keep the order in time of the page's other events.
    for (const event of held) for (const [type, handler] of handlers) if (type === event.type) safe(log, type + ' handler', () => (clock(event.at), handler(event as Event)));
    clock();
  };

  /** Fetches a tracker once the page has what it tracks, holding its events until it runs. */
  const fetch = (name: string, part: TrackerPart, options: object) => {
    let held: ReplayedEvent[] | undefined;
    const start = () => {
      if (held) return;
      held = [];
      const stops = (part.events || []).map((type) => dom.listen(type, (event) => void (held!.length < MAX_HELD && held!.push(replayable(event)))));
      part.load!().then(
        (tracker) => (stops.forEach((stop) => stop()), stopped || begin(name, tracker, options, held)),
        (error) => (stops.forEach((stop) => stop()), lost(`the ${name} tracker is unavailable (${describe(error)})`)),
      );
    };
    if (part.when) dom.watch(part.when, start);
    else start();
  };

  for (const part of parts) {
    const name = Object.keys(part.keys)[0]!;
    const options = part.settings ? part.settings(settings) : (settings[name] ?? {});
    if (options === false) continue;
    if (part.start) begin(name, part.start, options);
    else safe(log, name + ' tracker', () => fetch(name, part, options));
  }
  if (settings.spa !== false) teardowns.push(watchRoutes((from) => (routeChanged(from, () => run(leaveHooks)), run(pageHooks)), !!settings.spa?.query));

  return {
    /** The page is hidden or left: the last moment of the page view. */
    leave: () => run(leaveHooks),
    stop() {
      stopped = true;
      teardowns.forEach((teardown) => safe(log, 'teardown', teardown));
    },
  };
}

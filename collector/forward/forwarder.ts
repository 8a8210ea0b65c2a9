import type { ReportPlan } from '../plan';
import { buildReport, type Report } from '../report';
import type { EventStore } from '../store';
import type { Built, Destination } from './destination';
import { consentGap, gate, type GateDecision } from './gate';
import { ga4Destination } from './ga4';
import { googleAdsCsv, googleAdsDestination, type GoogleAdsItem } from './google-ads';
import type { IdentifierDrop } from './hash';
import { metaDestination } from './meta';
import type { ForwardOutbox, NewOutboxRow } from './outbox';
import { forwardingPreview, type ForwardingPreview } from './preview';
import { forwardingSection, type ForwardingReport } from './report-section';
import type { DestinationName, ForwardableEvent, ForwardOptions, RequestContext } from './types';
import { createWorker, DEFAULT_BACKOFF } from './worker';

export const DEFAULT_GATE_REFRESH_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;
/** The upload file lists this many days of conversions unless told otherwise. */
const DEFAULT_FILE_DAYS = 30;

/** Server-side forwarding as the collector uses it. */
export interface Forwarder {
  /** Resolves once the outbox is open (and sending started, with `autoSend`). */
  readonly ready: Promise<void>;
  /** The configured destinations, in order. */
  readonly destinations: ReadonlyMap<DestinationName, Destination>;
  /** Puts the stored events that pass the gate in the outbox; resolves to how many rows were new. */
  enqueue(events: readonly ForwardableEvent[], context: RequestContext): Promise<number>;
  /** Sends everything due now. */
  flush(): Promise<void>;
  /** Reads the verdicts again (from `report` when given, else from the store). */
  refreshGate(report?: Report): Promise<void>;
  /** What the gate decides now for every name it knows and the names `asked` (`GET /forwarding`, the overlay). */
  preview(asked: readonly string[]): Promise<ForwardingPreview>;
  /** The report's forwarding section (and the gate refreshed from that report). */
  section(report: Report): Promise<ForwardingReport>;
  /** The Google Ads upload file, or null when Google Ads is not set up for file delivery. */
  googleAdsFile(): Promise<string | null>;
  /** Counts an identifier left out on receipt (`hash.ts`). */
  countIdentifierDrop(reason: IdentifierDrop): void;
  readonly outbox: Promise<ForwardOutbox>;
  /** Stops sending (what is under way is settled first). */
  close(): Promise<void>;
}

export interface ForwarderDeps {
  store: Promise<EventStore>;
  plan: ReportPlan;
  outbox: Promise<ForwardOutbox>;
  now: () => number;
  onError: (error: unknown) => void;
}

/** The destinations the options configure; a bad option throws a `TypeError` naming it. */
export function createDestinations(options: ForwardOptions, now: () => number): Map<DestinationName, Destination> {
  const destinations = new Map<DestinationName, Destination>();
  if (options.meta) destinations.set('meta', metaDestination(options.meta));
  if (options.googleAds) destinations.set('google_ads', googleAdsDestination(options.googleAds, { fetch: options.fetch ?? fetch, now, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }));
  if (options.ga4) destinations.set('ga4', ga4Destination(options.ga4));
  if (destinations.size === 0) throw new TypeError('forward: configure at least one of meta, googleAds, ga4');
  for (const [name, destination] of destinations) {
    const send = destination.send;
    if (send !== 'validated' && send !== 'all' && !(Array.isArray(send) && send.every((entry) => typeof entry === 'string'))) {
      throw new TypeError(`forward.${name === 'google_ads' ? 'googleAds' : name}.send: 'validated', 'all' or a list of event names`);
    }
  }
  return destinations;
}

/**
 * Server-side forwarding (issue 12): the gate (plan and verdicts), consent, each destination's
 * item, the durable outbox and the worker that sends it.
 */
export function createForwarder(options: ForwardOptions, deps: ForwarderDeps): Forwarder {
  const { now } = deps;
  const destinations = createDestinations(options, now);
  const refreshMs = options.gateRefreshMs ?? DEFAULT_GATE_REFRESH_MS;
  const identifierDrops: Record<string, number> = {};
  let decisions: { byDestination: Map<DestinationName, (name: string) => GateDecision>; signals: string[]; readAt: number } | null = null;
  let refreshing: Promise<void> | null = null;

  const worker = deps.outbox.then((outbox) =>
    createWorker({
      outbox,
      destinations,
      now,
      fetch: options.fetch ?? fetch,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      random: options.random ?? Math.random,
      dryRun: options.dryRun === true,
      print: options.print ?? ((line) => process.stdout.write(`${line}\n`)),
      onError: deps.onError,
    }),
  );
  // A failed outbox is reported once, through `ready`.
  worker.catch(() => undefined);
  const ready = (async () => {
    const outbox = await deps.outbox;
    await outbox.releaseLeases();
    if (options.autoSend !== false) (await worker).start();
  })();
  ready.catch(deps.onError);

  const needsVerdicts = [...destinations.values()].some((destination) => destination.send === 'validated');
  const decide = (report: Pick<Report, 'macro' | 'signals'>) => {
    decisions = {
      byDestination: new Map([...destinations].map(([name, destination]) => [name, gate(report, destination.send, destination.unsupported)])),
      signals: report.signals.map((signal) => signal.signal),
      readAt: now(),
    };
  };
  const refreshGate = (report?: Report): Promise<void> => {
    if (report) return Promise.resolve(decide(report));
    refreshing ??= (async () => {
      try {
        decide(needsVerdicts ? await buildReport(await deps.store, deps.plan, now()) : { macro: deps.plan.macro, signals: [] });
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };
  const currentDecisions = async () => {
    if (!decisions) await refreshGate();
    else if (now() - decisions.readAt > refreshMs) refreshGate().catch(deps.onError); // meanwhile, the last verdicts
    return decisions!;
  };

  const rowsFor = (event: ForwardableEvent, context: RequestContext, byDestination: Map<DestinationName, (name: string) => GateDecision>, at: number): NewOutboxRow[] => {
    const rows: NewOutboxRow[] = [];
    for (const [name, destination] of destinations) {
      const decision = byDestination.get(name)!(event.name);
      if (!decision.forwarded) continue;
      const base = { destination: name, event_id: event.event_id, event_name: event.name, event_ts: Math.round(event.ts), why: decision.why, created_at: at };
      const gap = consentGap(event, destination.purposes);
      const built = gap ? { skip: gap } : buildSafely(destination, event, context);
      if ('skip' in built) rows.push({ ...base, status: 'skipped', batch_key: '', payload: null, error: built.skip });
      else rows.push({ ...base, status: destination.mode === 'file' ? 'file' : 'pending', batch_key: built.batchKey, payload: built.item, error: null });
    }
    return rows;
  };

  /**
   * A destination that cannot build an item for an event (a bug meeting an event it did not expect)
   * skips that event with the reason, and says so through `onError`: throwing would fail the whole
   * request with a 503, and the client would retry an event that can never go, for ever.
   */
  const buildSafely = (destination: Destination, event: ForwardableEvent, context: RequestContext): Built => {
    try {
      return destination.build(event, context);
    } catch (error) {
      deps.onError(error);
      return { skip: `could not be built: ${String((error as Error)?.message ?? error).slice(0, 200)}` };
    }
  };

  return {
    ready,
    destinations,
    outbox: deps.outbox,

    async enqueue(events: readonly ForwardableEvent[], context: RequestContext) {
      if (events.length === 0) return 0;
      await ready;
      const { byDestination } = await currentDecisions();
      const at = now();
      const rows = events.flatMap((event) => rowsFor(event, context, byDestination, at));
      const added = await (await deps.outbox).add(rows);
      if (added) (await worker).poke();
      return added;
    },

    async flush() {
      await ready;
      await (await worker).flush();
    },

    refreshGate,

    async preview(asked: readonly string[]) {
      const { byDestination, signals, readAt } = await currentDecisions();
      return forwardingPreview(destinations, byDestination, { plan: deps.plan, signals, asked }, { dryRun: options.dryRun === true, readAt });
    },

    async section(report: Report) {
      decide(report);
      const counts = await (await deps.outbox).counts();
      return forwardingSection(report, destinations, decisions!.byDestination, counts, { dryRun: options.dryRun === true, readAt: decisions!.readAt, identifierDrops });
    },

    async googleAdsFile() {
      const destination = destinations.get('google_ads');
      if (!destination || destination.mode !== 'file') return null;
      const days = options.googleAds?.file?.days ?? DEFAULT_FILE_DAYS;
      const rows = await (await deps.outbox).list('google_ads', 'file', now() - days * 86_400_000);
      return googleAdsCsv(rows.map((row) => ({ item: row.payload as GoogleAdsItem, ts: row.event_ts })), options.googleAds?.file?.timeZone);
    },

    countIdentifierDrop(reason: IdentifierDrop) {
      identifierDrops[reason] = (identifierDrops[reason] ?? 0) + 1;
    },

    async close() {
      await ready.catch(() => undefined);
      await (await worker).stop();
    },
  };
}

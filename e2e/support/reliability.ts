/**
 * The bookkeeping of the fault matrix (`e2e/reliability.spec.ts`) and the soak: what the pages tracked,
 * what each adapter reported, what the collector accepted, and the row that compares them.
 *
 * The counts come from two sides that do not trust each other. The page side is every event any
 * instance of the test's browser context emitted (`on('event')`) and every delivery report
 * (`on('delivery')`), carried to the test by a binding as they happen, so that a page that is closed,
 * crashed or navigated away still counts. The collector side is what the test collector answered 2xx
 * to, less what its answer named as rejected.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, TestInfo } from '@playwright/test';
import type { DeliveryReport, MicroconvEvent } from '../../src/types';
import { summary, type Collector } from './server';

/** One row of the matrix: the table `npm run reliability` prints. */
export interface Row {
  scenario: string;
  /** Its place in the table. */
  order: number;
  /** Events the pages tracked (the closing sentinel of `settle` left out). */
  tracked: number;
  /** Of those, the event_ids the collector accepted at least once. */
  received: number;
  /**
   * Accepted twice even after deduplication by event_id: one tracked event accepted under two ids (the
   * same name, time, session and parameters), or an id the pages never tracked. Must be 0.
   */
  duplicates: number;
  /** Accepted copies of an event_id beyond its first: what a receiver that did not deduplicate would double. */
  resends: number;
  /** Tracked, neither received (or, for another adapter, sent) nor dropped with a counted reason. Must be 0. */
  lost: number;
  /** The counted drops of the tracked events, by reason (`adapter: reason` for adapters other than the endpoint). */
  drops: Record<string, number>;
  status: 'pass' | 'FAIL';
  /** What the scenario did, and anything its figures need said. */
  note: string;
}

/** The page side of the books, for every page of one browser context. */
export interface Recorder {
  /** Every event emitted, by event_id: its name. */
  readonly events: Map<string, string>;
  /** Every delivery report, in the order they came. */
  readonly reports: DeliveryReport[];
}

/** The binding the pages report through, and the init script that registers the listeners with the stub. */
const BINDING = 'reliabilityRecord';

/**
 * Starts the books for `context`: call before its first page opens. Every page of the context gets the
 * standard stub with two queued listeners, which the script tag replays onto its instance.
 */
export async function record(context: BrowserContext): Promise<Recorder> {
  const recorder: Recorder = { events: new Map(), reports: [] };
  await context.exposeBinding(BINDING, (_source, kind: 'event' | 'delivery', payload: unknown) => {
    if (kind === 'event') recorder.events.set((payload as MicroconvEvent).event_id, (payload as MicroconvEvent).name);
    else recorder.reports.push(payload as DeliveryReport);
  });
  await context.addInitScript((binding) => {
    const w = window as unknown as Record<string, any>;
    w.microconv = w.microconv || Object.assign((...args: unknown[]) => void (w.microconv.q = w.microconv.q || []).push(args), {});
    const send = (kind: string, payload: unknown) => void w[binding]?.(kind, payload).catch(() => {});
    w.microconv('on', 'event', (event: MicroconvEvent) => send('event', { event_id: event.event_id, name: event.name }));
    w.microconv('on', 'delivery', (report: DeliveryReport) => send('delivery', report));
  }, BINDING);
  return recorder;
}

const SENTINEL = 'sentinel';
const DROPPED = new Set(['dropped', 'failed']);

/** What the books say for the tracked events at `adapters` (the endpoint's deliveries are read at the collector). */
export function account(recorder: Recorder, collector: Collector, adapters: string[] = ['endpoint']) {
  const tracked = [...recorder.events].filter(([, name]) => name !== SENTINEL).map(([id]) => id);
  const counts = collector.deliveryCounts();
  const received = tracked.filter((id) => counts.has(id));
  const resends = tracked.reduce((sum, id) => sum + Math.max(0, (counts.get(id) || 0) - 1), 0);

  // After deduplication by event_id, the same event must not be there twice under two ids.
  const unique = new Map(collector.delivered().map((event) => [event.event_id, event]));
  const fingerprints = new Set<string>();
  let duplicates = 0;
  for (const event of unique.values()) {
    const fingerprint = JSON.stringify([event.name, event.ts, event.session_id, event.params, event.page.url]);
    if (fingerprints.has(fingerprint) || !recorder.events.has(event.event_id)) duplicates++;
    fingerprints.add(fingerprint);
  }

  const drops: Record<string, number> = {};
  const unaccounted: string[] = [];
  for (const adapter of adapters) {
    const reported = (statuses: (status: string) => boolean) =>
      new Map(recorder.reports.filter((report) => report.adapter === adapter && statuses(report.status)).flatMap((report) => report.event_ids.map((id) => [id, report.reason!] as const)));
    const dropped = reported((status) => DROPPED.has(status));
    const sent = adapter === 'endpoint' ? new Set(received) : reported((status) => status === 'sent');
    for (const id of tracked) {
      if (sent.has(id)) continue;
      const reason = dropped.get(id);
      if (reason === undefined) unaccounted.push(`${adapter} ${recorder.events.get(id)} ${id}`);
      else {
        const key = adapter === 'endpoint' ? reason : `${adapter}: ${reason}`;
        drops[key] = (drops[key] || 0) + 1;
      }
    }
  }
  return { tracked: tracked.length, received: received.length, duplicates, resends, lost: unaccounted.length, unaccounted, drops };
}

/**
 * Waits until every tracked event is accounted for at `adapters` (received, or dropped with a counted
 * reason), checking every 50 ms: the books fill from the collector and from the pages' binding calls.
 */
export async function drained(recorder: Recorder, collector: Collector, adapters?: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { unaccounted } = account(recorder, collector, adapters);
    if (!unaccounted.length) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for every tracked event; unaccounted:\n  ${unaccounted.join('\n  ')}\nthe collector saw:\n${summary(collector.requests)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The directory the rows are written to, under the project's output directory (Playwright empties it at each run). */
export const resultsDir = (testInfo: TestInfo) => join(testInfo.project.outputDir, 'reliability');

/**
 * The scenario's row, from the books as they stand, written to `<results>/<order>.json` for
 * `npm run reliability`. `resendsExpected`: raw re-sends the scenario causes on purpose (0 unless said).
 */
export function row(
  testInfo: TestInfo,
  recorder: Recorder,
  collector: Collector,
  scenario: { order: number; name: string; note: string; adapters?: string[]; resendsExpected?: number },
): Row & { unaccounted: string[] } {
  const books = account(recorder, collector, scenario.adapters);
  const pass = books.lost === 0 && books.duplicates === 0 && books.resends === (scenario.resendsExpected || 0);
  const result = { scenario: scenario.name, order: scenario.order, ...books, status: pass ? 'pass' : 'FAIL', note: scenario.note } as const;
  mkdirSync(resultsDir(testInfo), { recursive: true });
  const { unaccounted, ...written } = result;
  writeFileSync(join(resultsDir(testInfo), `${String(scenario.order).padStart(2, '0')}.json`), JSON.stringify({ ...written, unaccounted }, null, 2) + '\n');
  return result;
}

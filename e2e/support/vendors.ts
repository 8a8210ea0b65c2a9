/**
 * Helpers for the vendor, consent and overlay specs: what the vendors' globals (`dataLayer`, `fbq.queue`)
 * hold, what the page's probe (`e2e/pages/v-probe.js`) recorded, and what microconv left in storage.
 */
import type { Frame, Page } from '@playwright/test';
import type { DeliveryReport, DeliveryStatus, MicroconvEvent } from '../../src/types';
import './window';

declare module './window' {
  interface Probe {
    /** Every event the instance emitted (`on('event')`), as the adapters got it. */
    events?: MicroconvEvent[];
  }
}

/** One entry of `window.dataLayer`: a gtag call (an `arguments` object), or a pushed object. */
export type DataLayerEntry = { args: unknown[] } | { object: Record<string, unknown> };

export interface VendorState {
  /** `window.dataLayer`, or null when there is none. */
  dataLayer: DataLayerEntry[] | null;
  /** The calls queued in the Meta Pixel stub's `fbq.queue`, or null when there is no `fbq`. */
  fbq: { isArguments: boolean; args: unknown[] }[] | null;
  /** Whether `window.gtag` is a function. */
  gtag: boolean;
}

/** Reads the vendors' globals; `arguments` objects are marked as such and turned into arrays. */
export const vendorState = (page: Page | Frame): Promise<VendorState> =>
  page.evaluate(() => {
    const w = window as unknown as { dataLayer?: unknown[]; fbq?: { queue: ArrayLike<unknown>[] }; gtag?: unknown };
    const isArguments = (value: unknown) => Object.prototype.toString.call(value) === '[object Arguments]';
    return {
      dataLayer: w.dataLayer
        ? w.dataLayer.map((entry): DataLayerEntry => (isArguments(entry) ? { args: Array.from(entry as ArrayLike<unknown>) } : { object: entry as Record<string, unknown> }))
        : null,
      fbq: w.fbq ? Array.from(w.fbq.queue, (call) => ({ isArguments: isArguments(call), args: Array.from(call) })) : null,
      gtag: typeof w.gtag === 'function',
    };
  });

/** The `gtag('event', …)` calls in the dataLayer, as `[name, params]`. */
export const gtagEvents = (state: VendorState): [string, Record<string, unknown>][] =>
  (state.dataLayer || []).flatMap((entry) => ('args' in entry && entry.args[0] === 'event' ? [[entry.args[1] as string, entry.args[2] as Record<string, unknown>]] : []));

/** The objects the datalayer adapter pushed (those with an `event_id`). */
export const dataLayerObjects = (state: VendorState): Record<string, unknown>[] =>
  (state.dataLayer || []).flatMap((entry) => ('object' in entry && entry.object && 'event_id' in entry.object ? [entry.object] : []));

/** The `fbq` calls microconv made (those with an `eventID`), as their arguments. */
export const fbqEvents = (state: VendorState): unknown[][] =>
  (state.fbq || []).map((call) => call.args).filter((args) => (args[3] as { eventID?: string } | undefined)?.eventID);

/** What the probe recorded. */
export const probe = (page: Page): Promise<{ events: MicroconvEvent[]; deliveries: DeliveryReport[] }> =>
  page.evaluate(() => ({ events: window.probe.events!, deliveries: window.probe.deliveries! }));

/** The statuses each adapter reported for `id`, in order. */
export const statusesOf = (deliveries: DeliveryReport[], id: string): Record<string, DeliveryStatus[]> => {
  const out: Record<string, DeliveryStatus[]> = {};
  for (const report of deliveries) if (report.event_ids.includes(id)) (out[report.adapter] ||= []).push(report.status);
  return out;
};

export interface Stored {
  /** localStorage keys that start with `microconv`, sorted. */
  keys: string[];
  /** Every localStorage key. */
  localStorage: number;
  /** Whether a `microconv` IndexedDB database exists. */
  database: boolean;
  /** The records in its `outbox` store (0 when there is no database). */
  records: number;
}

/** What microconv keeps in this origin's storage. Opening an existing database does not create one. */
export const stored = (page: Page): Promise<Stored> =>
  page.evaluate(async () => {
    const keys = Object.keys(localStorage).filter((key) => key.startsWith('microconv')).sort();
    const database = (await indexedDB.databases()).some((db) => db.name === 'microconv');
    let records = 0;
    if (database) {
      records = await new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('microconv');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve(0);
          const count = db.transaction('outbox').objectStore('outbox').count();
          count.onsuccess = () => (db.close(), resolve(count.result));
          count.onerror = () => (db.close(), reject(count.error));
        };
      });
    }
    return { keys, localStorage: localStorage.length, database, records };
  });

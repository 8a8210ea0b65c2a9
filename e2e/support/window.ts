// What the fixture pages put on `window`, for the code that tests run in them through `page.evaluate`.
import type { DeliveryReport, Instance, Stats } from '../../src/types';

/** `window.microconv` once `dist/microconv.js` has loaded (contract 1.2). */
export type MicroconvGlobal = ((method: string, ...args: unknown[]) => unknown) & {
  /** The stub's queue, until the script has loaded. */
  q?: ArrayLike<unknown>[];
  /** Set by the script once it has replaced the stub. */
  loaded?: boolean;
  track(name: unknown, params?: unknown): string;
  consent(update: unknown): void;
  identify(identity: unknown): void;
  flush(): Promise<void>;
  debug(on?: boolean): void;
  on: Instance['on'];
  stats(): Stats;
  destroy(): Promise<void>;
};

/** Observations that fixture pages and init scripts record for the test to read. */
export interface Probe {
  /** `event.persisted` of every `pageshow`. */
  pageshows?: boolean[];
  /** Called after each `pageshow` has been recorded. */
  onshow?: () => void;
  /** Set by a test on a page it is about to leave: still there after going back means restored, not reloaded. */
  cached?: boolean;
  /** Lifecycle listeners added, by event type. */
  listeners?: Record<string, number>;
  /** Calls to `navigator.sendBeacon`. */
  beacons?: number;
  /** Every delivery report of the instance. */
  deliveries?: DeliveryReport[];
}

declare global {
  interface Window {
    microconv: MicroconvGlobal;
    probe: Probe;
  }
}

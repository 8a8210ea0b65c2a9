import type { LogEntry } from '../types';

/** The logger of an instance. */
export type Log = (level: LogEntry['level'], message: string) => void;

/** The text of anything thrown; never a throw itself (`Object.create(null)`, a Proxy, can be thrown too). */
export const describe = (error: unknown): string => {
  try {
    return String((error as Error)?.message || error);
  } catch {
    return 'an error that cannot be read';
  }
};

/**
 * Prefixed and level-gated: errors always reach the console, warnings and debug lines only in debug
 * mode. Every entry also goes to `forward` (the `on('log')` listeners, and so the overlay).
 */
export const createLog =
  (isDebug: () => boolean, forward: (entry: LogEntry) => void): Log =>
  (level, message) => {
    if (level === 'error' || isDebug()) console[level === 'debug' ? 'log' : level]('[microconv] ' + message);
    forward({ level, message });
  };

/**
 * The one error boundary: runs `fn`; if it throws, logs and carries on. Nothing microconv runs for the
 * page (listeners, adapters, trackers, timers) may throw into the page.
 */
export function safe<T>(log: Log | undefined, what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    caught(log, what, error);
  }
}

/** Logs what the boundary caught; a console patched to throw must not escape either. */
export function caught(log: Log | undefined, what: string, error: unknown): void {
  try {
    log?.('error', `${what}: ${describe(error)}`);
  } catch {}
}

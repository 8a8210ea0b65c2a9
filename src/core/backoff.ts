import type { DeliveryError } from '../types';

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 5 * 60_000;
/** A server may ask for a pause (`Retry-After`), but not for more than this. */
export const RETRY_AFTER_CAP_MS = 60 * 60_000;

/**
 * The wait before retry number `failures` (1 for the first): exponential, capped, with "equal
 * jitter" (half fixed, half random) so that many pages that failed together do not retry together.
 */
export function backoffDelay(failures: number, random = Math.random()): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
  return ceiling / 2 + random * (ceiling / 2);
}

/**
 * The retry rule of contract 4 for an HTTP status: network errors, 408, 429 and 5xx are retried;
 * other 4xx are not (retrying cannot fix them) and are counted as drops.
 */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** `Retry-After` in milliseconds, from seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return ms >= 0 ? Math.min(ms, RETRY_AFTER_CAP_MS) : undefined;
}

/** An error that tells the outbox whether, and when, to try again. */
export function deliveryError(reason: string, retry: boolean, retryAfterMs?: number): DeliveryError {
  return Object.assign(new Error(reason), { reason, retry, retryAfterMs });
}

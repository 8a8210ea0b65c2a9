import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffDelay, deliveryError, isRetryableStatus, parseRetryAfter } from '../src/core/backoff';

describe('retry rules', () => {
  it('grows exponentially from 1 s with equal jitter, up to the cap', () => {
    expect(backoffDelay(1, 0)).toBe(500);
    expect(backoffDelay(1, 1)).toBe(1000);
    expect(backoffDelay(3, 0)).toBe(2000);
    expect(backoffDelay(3, 1)).toBe(4000);
    expect(backoffDelay(40, 1)).toBe(BACKOFF_CAP_MS);
  });

  it.each([[408, true], [429, true], [500, true], [503, true], [400, false], [401, false], [404, false], [413, false]])(
    'status %i is retried: %s',
    (status, retried) => expect(isRetryableStatus(status)).toBe(retried),
  );

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('99999999')).toBe(3_600_000);
  });

  it('Retry-After: 0 means now, spaces around the seconds are allowed, a date already past is ignored', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(' 5 ')).toBe(5000);
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(parseRetryAfter('Mon, 23 Nov 2026 11:59:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:00 GMT', now)).toBe(0);
  });

  it('a delivery error carries its reason, whether to retry, and the pause asked for', () => {
    const error = deliveryError('http_429', true, 30_000);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('http_429');
    expect({ reason: error.reason, retry: error.retry, retryAfterMs: error.retryAfterMs }).toEqual({ reason: 'http_429', retry: true, retryAfterMs: 30_000 });
    expect(deliveryError('http_400', false).retry).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffDelay, isRetryableStatus, parseRetryAfter } from '../src/core/backoff';

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
});

/** Token-bucket settings: bursts of `capacity` requests, then `refillPerSecond` sustained. */
export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
  /**
   * Leave requests from this machine (a socket peer in 127.0.0.0/8, or ::1) unlimited. Default true:
   * a local process (the simulator, a test) can do anything a flood could anyway. Behind a reverse
   * proxy on the same machine, set the collector's `trustProxy`, so the limit applies to each real
   * client. An address named in `X-Forwarded-For` is never exempt, loopback or not.
   */
  exemptLoopback?: boolean;
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export const isLoopback = (address: string): boolean => /^(::ffff:)?127\./.test(address) || address === '::1';

/**
 * The default per client: a page sends a batch every few seconds at most, so 100 at once and 50 a
 * second only stop floods (and a big office behind one address stays well under it).
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { capacity: 100, refillPerSecond: 50 };

/** Past this many tracked clients, buckets that have refilled (idle clients) are forgotten. */
const MAX_TRACKED = 10_000;

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * A token bucket per key (the client address). Each request takes one token; tokens come back at
 * `refillPerSecond` up to `capacity`. Refused requests are told when a token will be there
 * (`Retry-After`), which the SDK honours (contract 4).
 */
export function createRateLimiter({ capacity, refillPerSecond }: RateLimit, now: () => number = Date.now) {
  if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new RangeError('rate limit: capacity must be >= 1 and refillPerSecond > 0');
  const buckets = new Map<string, { tokens: number; at: number }>();

  const level = (bucket: { tokens: number; at: number }, time: number) =>
    Math.min(capacity, bucket.tokens + ((time - bucket.at) / 1000) * refillPerSecond);

  return {
    take(key: string): Admission {
      const time = now();
      if (buckets.size >= MAX_TRACKED && !buckets.has(key)) {
        for (const [other, bucket] of buckets) if (level(bucket, time) >= capacity) buckets.delete(other);
      }
      const bucket = buckets.get(key) ?? { tokens: capacity, at: time };
      bucket.tokens = level(bucket, time);
      bucket.at = time;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerSecond)) };
    },
  };
}

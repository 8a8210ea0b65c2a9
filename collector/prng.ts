/**
 * A seeded pseudo-random generator, so a seed always gives the same traffic: mulberry32 (a 32-bit
 * state, one multiply-xorshift round per draw). Plenty for simulation; not for anything secret.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  /** One item, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** One item, by weight. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  /** A UUID v4 made of seeded bits (so event ids, and therefore deduplication, replay with the seed). */
  uuid(): string;
  /** `length` lowercase letters and digits. */
  token(length: number): string;
}

export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const word = () => Math.floor(next() * 4294967296);
  const hex8 = () => word().toString(16).padStart(8, '0');
  return {
    next,
    chance: (p) => next() < p,
    int,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted(items) {
      const total = items.reduce((sum, [, weight]) => sum + weight, 0);
      let r = next() * total;
      for (const [item, weight] of items) if ((r -= weight) < 0) return item;
      return items[items.length - 1]![0];
    },
    uuid() {
      // 128 random bits, then the version (4) and variant (10xx) bits set as RFC 9562 says.
      const a = hex8();
      const b = hex8();
      const c = hex8();
      const d = hex8();
      const variant = ((parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
      return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
    },
    token: (length) => Array.from({ length }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[int(0, 35)]).join(''),
  };
}

// Types of bench/stats.mjs, which test/bench-stats.test.ts imports. The bench stays plain JavaScript,
// run by a bare `node` like the rest of bench/.
declare module '*/bench/stats.mjs' {
  export function median(values: number[]): number;
  export function medianInterval(values: number[]): { median: number; low: number; high: number; level: number };
}

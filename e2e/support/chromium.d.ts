// Types of scripts/chromium.mjs, which playwright.config.ts imports. The helper stays plain JavaScript
// so that scripts/ensure-chromium.mjs runs on a bare `node`, before any TypeScript tooling.
declare module '*/scripts/chromium.mjs' {
  export type Chromium = { kind: 'system'; path: string; version: string } | { kind: 'playwright'; path: string };
  export const LAUNCH_ARGS: string[];
  export function browserVersion(path: string): string | undefined;
  export function findChromium(): Chromium | undefined;
}

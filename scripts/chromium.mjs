// Which Chromium the e2e tests run in. Shared by scripts/ensure-chromium.mjs (which installs one when
// this finds none) and playwright.config.ts, so that both always agree. Types: e2e/support/chromium.d.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/**
 * Flags for every launch. Without the background-networking ones Chromium keeps calling Google's
 * services, which on a closed network means slow retries; QUIC would bypass the local collector's
 * plain HTTP/1.1 expectations for nothing.
 */
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** System browsers, in order of preference, after `CHROMIUM_PATH`. */
const SYSTEM_PATHS = ['/usr/bin/chromium'];
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const isFile = (path) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

const onPath = (name) =>
  (process.env.PATH || '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isFile);

/**
 * The browser's version line, or undefined when it does not run. Ubuntu's `chromium-browser` may be a
 * stub that asks for snap, and a half-removed package leaves a wrapper behind: existing is not enough.
 */
export function browserVersion(path) {
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    return /\d+\.\d+/.test(out) ? out.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Playwright's own Chromium (after `npx playwright install chromium`), when it is there. */
function playwrightChromium() {
  try {
    const { chromium } = createRequire(import.meta.url)('playwright-core');
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The browser to use, without installing anything:
 * `{ kind: 'system', path, version }` for `CHROMIUM_PATH` or a system Chromium or Chrome,
 * `{ kind: 'playwright', path }` for Playwright's own download, or undefined when there is none.
 * A `CHROMIUM_PATH` that does not run is an error, not something to fall back from silently.
 */
export function findChromium() {
  const forced = process.env.CHROMIUM_PATH;
  if (forced) {
    const version = browserVersion(forced);
    if (!version) throw new Error(`CHROMIUM_PATH=${forced} does not run (\`${forced} --version\` failed)`);
    return { kind: 'system', path: forced, version };
  }
  const candidates = [...new Set([...SYSTEM_PATHS.filter(isFile), ...SYSTEM_NAMES.map(onPath).filter(Boolean)])];
  for (const path of candidates) {
    const version = browserVersion(path);
    if (version) return { kind: 'system', path, version };
  }
  const path = playwrightChromium();
  return path ? { kind: 'playwright', path } : undefined;
}

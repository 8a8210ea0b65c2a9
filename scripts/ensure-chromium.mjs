// Makes sure the e2e tests have a Chromium: a system one (CHROMIUM_PATH, /usr/bin/chromium, chromium,
// chromium-browser, google-chrome), else Playwright's own download, else, on Debian or Ubuntu as root,
// Debian's package. `npx playwright install` cannot help on a machine that only reaches npm and apt.
// Usage: node scripts/ensure-chromium.mjs (quick and silent apart from one line when a browser exists).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium } from './chromium.mjs';

const HELP =
  'Install one of: `apt-get install chromium` (Debian, Ubuntu), `npx playwright install chromium`, ' +
  'or Google Chrome; or set CHROMIUM_PATH to a Chromium or Chrome executable.';

function find() {
  try {
    return findChromium();
  } catch (error) {
    console.error(`ensure-chromium: ${error.message}`);
    process.exit(1);
  }
}

function report(browser) {
  console.log(`ensure-chromium: ${browser.kind === 'system' ? browser.version : "Playwright's Chromium"} at ${browser.path}`);
}

const run = (command, args) =>
  spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;

const found = find();
if (found) {
  report(found);
  process.exit(0);
}

const canApt = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version') && run('sh', ['-c', 'command -v apt-get >/dev/null']);
if (!canApt) {
  console.error(`ensure-chromium: no Chromium found for the e2e tests. ${HELP}`);
  process.exit(1);
}

console.log('ensure-chromium: no Chromium found; installing Debian\'s package (apt-get install -y chromium)');
if (!run('apt-get', ['update']) || !run('apt-get', ['install', '-y', 'chromium'])) {
  console.error(`ensure-chromium: apt-get could not install chromium. ${HELP}`);
  process.exit(1);
}
const installed = find();
if (!installed) {
  console.error(`ensure-chromium: chromium was installed but does not run. ${HELP}`);
  process.exit(1);
}
report(installed);

// Makes sure the collector's PostgreSQL tests have a server to start: one found by scripts/postgres.mjs
// (PG_BINDIR, pg_config, Debian's /usr/lib/postgresql/N/bin, PATH), else, on Debian or Ubuntu as root,
// Debian's package. The tests start their own throwaway cluster from these binaries; nothing here
// starts a server.
// Usage: node scripts/ensure-postgres.mjs (quick and silent apart from one line when a server exists).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findPostgres, INSTALL_HELP } from './postgres.mjs';

function find() {
  try {
    return findPostgres();
  } catch (error) {
    console.error(`ensure-postgres: ${error.message}`);
    process.exit(1);
  }
}

const report = (server) => console.log(`ensure-postgres: ${server.version} in ${server.bindir}`);

const run = (command, args) =>
  spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;

const found = find();
if (found) {
  report(found);
  process.exit(0);
}

if (process.env.MICROCONV_SKIP_POSTGRES === '1') {
  console.log('ensure-postgres: no PostgreSQL server found; MICROCONV_SKIP_POSTGRES=1, so its tests are skipped');
  process.exit(0);
}

const canApt = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version') && run('sh', ['-c', 'command -v apt-get >/dev/null']);
if (!canApt) {
  console.error(
    `ensure-postgres: no PostgreSQL server found for the collector's PostgreSQL tests. ${INSTALL_HELP} ` +
      'To run the other tests without them, set MICROCONV_SKIP_POSTGRES=1.',
  );
  process.exit(1);
}

// Debian's package also makes and starts a "main" cluster where it can; the tests do not use it.
console.log("ensure-postgres: no PostgreSQL server found; installing Debian's package (apt-get install -y postgresql)");
if (!run('apt-get', ['update']) || !run('apt-get', ['install', '-y', 'postgresql'])) {
  console.error(`ensure-postgres: apt-get could not install postgresql. ${INSTALL_HELP}`);
  process.exit(1);
}
const installed = find();
if (!installed) {
  console.error(`ensure-postgres: postgresql was installed but its server was not found or does not run. ${INSTALL_HELP}`);
  process.exit(1);
}
report(installed);

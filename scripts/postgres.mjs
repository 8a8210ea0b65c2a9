// Finds the PostgreSQL server binaries and runs a throwaway cluster with them. Shared by
// scripts/ensure-postgres.mjs (which installs Debian's package when this finds none), the collector's
// PostgreSQL tests and scripts/two-collectors.mjs, so that all of them agree on which server they use.
// Plain JavaScript, like scripts/chromium.mjs: ensure-postgres runs on a bare `node`.
// Types: test/collector/support/postgres-mjs.d.ts.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** What a cluster needs: initdb makes it, postgres serves it, pg_ctl starts and stops it, createdb adds a database. */
const SERVER_PROGRAMS = ['initdb', 'postgres', 'pg_ctl', 'createdb'];
/** The role and database a throwaway cluster is made with. */
export const THROWAWAY_USER = 'microconv';

const isFile = (path) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};
const hasServer = (dir) => SERVER_PROGRAMS.every((program) => isFile(join(dir, program)));

/** `postgres --version` ("postgres (PostgreSQL) 15.18 (Debian ...)"), or undefined when it does not run. */
function serverVersion(bindir) {
  try {
    const out = execFileSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    return /\d+/.test(out) ? out.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Directories that may hold the server programs, best first: `pg_config --bindir` (Debian's pg_config
 * names the newest installed version's), Debian's /usr/lib/postgresql/N/bin newest first, then PATH
 * (Homebrew, Postgres.app, a source build).
 */
function candidates() {
  const dirs = [];
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // No pg_config: the client libraries' headers are not installed, which says nothing about the server.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((name) => /^\d+(\.\d+)?$/.test(name));
    dirs.push(...versions.sort((a, b) => Number(b) - Number(a)).map((version) => join(debian, version, 'bin')));
  }
  dirs.push(...(process.env.PATH || '').split(delimiter).filter(Boolean));
  return [...new Set(dirs)];
}

/**
 * The server to use, without installing anything: `{ bindir, version }`, or undefined when there is
 * none. `PG_BINDIR` picks one; a `PG_BINDIR` without a working server is an error, not something to
 * fall back from silently.
 */
export function findPostgres() {
  const forced = process.env.PG_BINDIR;
  if (forced) {
    const version = hasServer(forced) ? serverVersion(forced) : undefined;
    if (!version) throw new Error(`PG_BINDIR=${forced} holds no working PostgreSQL server (${SERVER_PROGRAMS.join(', ')})`);
    return { bindir: forced, version };
  }
  for (const bindir of candidates().filter(hasServer)) {
    const version = serverVersion(bindir);
    if (version) return { bindir, version };
  }
  return undefined;
}

/**
 * Who runs the server. PostgreSQL refuses to run as root, so root hands it to the `postgres` user
 * Debian's package creates (else `nobody`); anyone else runs it as themselves.
 */
function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      return { name, uid, gid };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error('running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL as (it refuses root)');
}

/**
 * Makes a cluster in a new temporary folder and starts it, listening only on a unix socket in that
 * folder (no TCP port to collide with anything, nothing reachable from outside; the folder is the
 * server user's alone, so `trust` authentication lets in only that user and root). fsync is off: the
 * cluster lives as long as a test run. Resolves to its connection URL (database `microconv`, role
 * `microconv`) and a `stop` that shuts it down and removes the folder.
 *
 * @example const pg = startThrowawayPostgres(); try { use(pg.url) } finally { pg.stop() }
 */
export function startThrowawayPostgres() {
  const found = findPostgres();
  if (!found) throw new Error(`no PostgreSQL server found. ${INSTALL_HELP}`);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'microconv-pg-'));
  const data = join(dir, 'data');
  const as = (program, args, timeout = 120_000) => {
    const command = user ? ['runuser', ['-u', user.name, '--', join(found.bindir, program), ...args]] : [join(found.bindir, program), args];
    try {
      // cwd: the server user may not be allowed into the caller's working directory.
      execFileSync(command[0], command[1], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout });
    } catch (error) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${program} ${args.join(' ')} failed: ${error.stderr || error.message}${log ? `\nserver log:\n${log}` : ''}`);
    }
  };
  let running = false;
  const stop = () => {
    if (running) {
      running = false;
      try {
        as('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } catch {
        // Already gone (a test stopped it to see a failure): removing the folder is all that is left.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', stop);
  };
  // A run that ends without calling stop (a crash, a forgotten afterAll) still leaves no server behind.
  process.once('exit', stop);
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    // An ICU collation like most servers' en_US, so that the store's own ordering is tested as it will run.
    as('initdb', ['-D', data, '-U', THROWAWAY_USER, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en']);
    // pg_ctl hands -o to a shell: the socket folder is quoted (mkdtemp names hold no quote).
    as('pg_ctl', ['start', '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-k '${dir}' -c listen_addresses='' -F`]);
    running = true;
    as('createdb', ['-h', dir, '-U', THROWAWAY_USER, THROWAWAY_USER]);
  } catch (error) {
    stop();
    throw error;
  }
  return { url: socketUrl(dir, THROWAWAY_USER), socketDir: dir, version: found.version, stop };
}

/** A connection URL for a database on the server listening in `socketDir` (node-postgres and libpq read it alike). */
export function socketUrl(socketDir, database) {
  return `postgresql://${THROWAWAY_USER}@localhost/${database}?host=${encodeURIComponent(socketDir)}`;
}

export const INSTALL_HELP =
  'Install it: `node scripts/ensure-postgres.mjs` as root on Debian or Ubuntu (apt-get install postgresql), ' +
  '`brew install postgresql` on macOS; or set PG_BINDIR to the folder holding initdb, postgres and pg_ctl.';

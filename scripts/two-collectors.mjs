// The demonstration of collector/README.md "More than one collector": seeded simulator traffic sent
// through TWO collector processes (requests taking them in turn, as a round-robin load balancer would)
// into one throwaway PostgreSQL, and the same traffic through one DuckDB collector; then the two
// reports, which must be equal. Exit code 1 when they are not.
// Usage: npm run demo:two-collectors [-- --sessions N --seed N]   (builds first; needs PostgreSQL's server:
// node scripts/ensure-postgres.mjs installs it)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startThrowawayPostgres } from './postgres.mjs';

const { values: args } = parseArgs({ options: { sessions: { type: 'string', default: '3000' }, seed: { type: 'string', default: '1' } } });
const PLAN = 'demo/plan.json';
const log = (line) => process.stderr.write(`${line}\n`);

for (const file of ['build/collector.mjs', 'build/simulate.mjs', 'build/report.mjs', PLAN]) {
  if (!existsSync(file)) {
    log(`two-collectors: ${file} is missing: run from the repository root, after npm run build`);
    process.exit(1);
  }
}

/** Runs `node build/<bin>.mjs args` to its end; rejects with its output when it fails. */
function run(bin, binArgs, { echo = () => false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`build/${bin}.mjs`, ...binArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    let echoed = 0;
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      // Whole lines only: a chunk may end mid-line.
      const end = stderr.lastIndexOf('\n') + 1;
      for (const line of stderr.slice(echoed, end).split('\n')) if (line && echo(line)) log(line);
      echoed = Math.max(echoed, end);
    });
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${bin} ${binArgs.join(' ')} exited ${code}:\n${stderr}`))));
  });
}

/** Starts a collector process; resolves with its URL and a stop() once it listens. */
function collector(storeArgs) {
  const child = spawn(process.execPath, ['build/collector.mjs', '--port', '0', '--no-rate-limit', '--plan', PLAN, ...storeArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const listening = /microconv collector on (http:\/\/\S+)/.exec(stderr);
      if (listening) resolve({ url: listening[1], stop: () => (child.kill('SIGTERM'), exited) });
    });
    exited.then((code) => reject(new Error(`a collector exited (${code}) before listening:\n${stderr}`)));
  });
}

const traffic = ['--sessions', args.sessions, '--seed', args.seed];
const withoutTime = (json) => ({ ...JSON.parse(json), generated_at: undefined });
const folder = mkdtempSync(join(tmpdir(), 'microconv-two-collectors-'));
const postgres = startThrowawayPostgres();
const running = [];
try {
  log(`PostgreSQL: ${postgres.version}, a throwaway cluster at ${postgres.url}`);
  const pair = await Promise.all([collector(['--postgres', postgres.url]), collector(['--postgres', postgres.url])]);
  running.push(...pair);
  log(`two collector processes on ${pair[0].url} and ${pair[1].url}, one PostgreSQL store\n`);
  await run('simulate', [...pair.flatMap(({ url }) => ['--url', `${url}/collect`]), ...traffic], { echo: () => true });
  await Promise.all(running.splice(0).map(({ stop }) => stop()));

  const duckFile = join(folder, 'events.duckdb');
  log(`\nthe same traffic through one DuckDB collector (${duckFile})`);
  const duck = await collector(['--db', duckFile]);
  running.push(duck);
  await run('simulate', ['--url', `${duck.url}/collect`, ...traffic], { echo: (line) => line.startsWith('done in') });
  await Promise.all(running.splice(0).map(({ stop }) => stop()));

  const fromPostgres = await run('report', ['--postgres', postgres.url, '--plan', PLAN, '--json']);
  const fromDuckDB = await run('report', ['--db', duckFile, '--plan', PLAN, '--json']);
  process.stdout.write(`\nnpm run report -- --postgres ${postgres.url}\n\n`);
  process.stdout.write(await run('report', ['--postgres', postgres.url, '--plan', PLAN]));
  const equal = JSON.stringify(withoutTime(fromPostgres)) === JSON.stringify(withoutTime(fromDuckDB));
  const { sessions, signals } = JSON.parse(fromPostgres);
  process.stdout.write(
    `\nPostgreSQL (two collectors) against DuckDB (one collector), report --json without generated_at: ` +
      `${equal ? 'identical' : 'DIFFERENT'} (${sessions} sessions, ${signals.length} signals)\n`,
  );
  if (!equal) process.exitCode = 1;
} finally {
  await Promise.all(running.map(({ stop }) => stop()));
  postgres.stop();
  rmSync(folder, { recursive: true, force: true });
}

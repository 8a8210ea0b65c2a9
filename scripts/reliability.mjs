// `npm run reliability`: runs the fault matrix (e2e/reliability.spec.ts, in Chromium against the test
// collector) and prints its table from the rows the tests wrote (test-results/reliability/*.json).
// Extra arguments go to Playwright (`npm run reliability -- --workers=1`). Exits as Playwright did, and
// with an error when a scenario wrote no row.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'test-results', 'reliability');
const PLAYWRIGHT = join(ROOT, 'node_modules', '.bin', 'playwright');

rmSync(RESULTS, { recursive: true, force: true });
const run = spawnSync(PLAYWRIGHT, ['test', 'e2e/reliability.spec.ts', '--project=chromium', '--project=bfcache', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });

const rows = existsSync(RESULTS)
  ? readdirSync(RESULTS)
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(RESULTS, file), 'utf8')))
      .sort((a, b) => a.order - b.order)
  : [];

const drops = (counted) =>
  Object.entries(counted)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ') || '0';
const header = ['scenario', 'tracked', 'received', 'duplicates after dedup', 'raw re-sends', 'lost', 'counted drops', 'status'];
const lines = [
  `| ${header.join(' | ')} |`,
  `| --- | ${header.slice(1, -2).map(() => '---:').join(' | ')} | --- | --- |`,
  ...rows.map((row) => `| ${[row.scenario, row.tracked, row.received, row.duplicates, row.resends, row.lost, drops(row.drops), row.status].join(' | ')} |`),
];
const total = (key) => rows.reduce((sum, row) => sum + row[key], 0);
console.log('\nFault matrix (e2e/reliability.spec.ts)\n');
console.log(lines.join('\n'));
console.log(`\n${rows.length} scenarios: ${total('tracked')} tracked, ${total('received')} received, ${total('lost')} lost, ${total('duplicates')} duplicates after dedup, ${total('resends')} raw re-sends.`);
console.log('\nWhat each scenario did:');
for (const row of rows) {
  console.log(`- ${row.scenario}: ${row.note}`);
  for (const missing of row.unaccounted || []) console.log(`    unaccounted: ${missing}`);
}

// One row per test: 19 in the chromium project, and bfcache restore in the bfcache project.
const EXPECTED_ROWS = 19;
if (rows.length < EXPECTED_ROWS) console.error(`\n${EXPECTED_ROWS - rows.length} scenario(s) wrote no row (see Playwright's output above).`);
process.exit(run.status || (rows.length < EXPECTED_ROWS ? 1 : 0));

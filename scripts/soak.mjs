// `npm run soak`: the long soak, e2e/soak.spec.ts with 10,000 events (`npm test` leaves it out).
// `SOAK_EVENTS` and `SOAK_SEED` choose others; extra arguments go to Playwright. Prints the figures from
// test-results/soak.json and exits as Playwright did.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULT = join(ROOT, 'test-results', 'soak.json');
const env = { ...process.env, SOAK_EVENTS: process.env.SOAK_EVENTS || '10000' };

rmSync(RESULT, { force: true });
const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'playwright'), ['test', 'e2e/soak.spec.ts', '--project=chromium', ...process.argv.slice(2)], { cwd: ROOT, env, stdio: 'inherit' });
if (!existsSync(RESULT)) {
  console.error('\nThe soak wrote no figures (see Playwright\'s output above).');
  process.exit(run.status || 1);
}
const soak = JSON.parse(readFileSync(RESULT, 'utf8'));
const kib = (bytes) => `${Math.round(bytes / 1024).toLocaleString('en')} KiB`;
console.log(`
Soak (e2e/soak.spec.ts), seed ${soak.seed}, ${soak.seconds} s
  events: ${soak.tracked} tracked, ${soak.received} received, ${soak.lost} lost, ${soak.duplicates} duplicates after dedup, ${soak.resends} raw re-sends, drops ${JSON.stringify(soak.drops)}
  faults before bursts: ${Object.entries(soak.faults).map(([fault, count]) => `${fault} ${count}`).join(', ')}
  requests: ${soak.requests}, of which ${soak.failedRequests} failed at the collector (aborted ones never reach it)
  queue: at most ${soak.maxQueue} events waiting
  heap after GC (CDP JSHeapUsedSize), with the events tracked so far and since the page last loaded:
${soak.heap.map((sample) => `    ${sample.at.padEnd(6)} ${kib(sample.bytes).padStart(9)}  (${sample.tracked} tracked, ${sample.sinceLoad} since load)`).join('\n')}
  heap at most ${kib(Math.max(...soak.heap.map((sample) => sample.bytes)))}; start to end ${kib(soak.heap.at(-1).bytes - soak.heap[0].bytes)}`);
process.exit(run.status ?? 1);

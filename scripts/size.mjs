// Prints the raw, gzip and brotli size of every built file, and fails when one is over its budget.
// Budgets are brotli bytes (what browsers fetch with); usage: node scripts/size.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const KB = 1024;
const budgets = {
  'microconv.js': 3 * KB, // core and the endpoint adapter (issue 2); trackers and adapters raise it
};

const files = readdirSync('dist').filter((name) => !name.endsWith('.map')).sort();
if (!files.length) throw new Error('dist/ is empty: run npm run build first');

let over = 0;
const rows = files.map((name) => {
  const raw = readFileSync(`dist/${name}`);
  const gzip = gzipSync(raw, { level: 9 }).length;
  const brotli = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  }).length;
  const budget = budgets[name];
  const verdict = budget === undefined ? '' : brotli <= budget ? `ok (budget ${budget})` : `OVER budget ${budget}`;
  if (budget !== undefined && brotli > budget) over++;
  return [name, raw.length, gzip, brotli, verdict];
});

const header = ['file', 'raw', 'gzip', 'brotli', ''];
const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((row) => String(row[i]).length)));
for (const row of [header, ...rows]) {
  console.log(row.map((cell, i) => (i === 0 || i === 4 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  '));
}
if (over) {
  console.error(`\n${over} file(s) over budget`);
  process.exit(1);
}

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parse, resolvePlan, run, UsageError } from '../cli';
import { DEFAULT_DATABASE, openDuckDBStore } from '../duckdb-store';
import { renderReportHtml } from '../render-html';
import { renderReportText } from '../render-text';
import { buildReport, type Report } from '../report';

const USAGE = `npm run report -- [options]

Does each micro-conversion predict the macro conversion? Association, not cause.

  --db PATH       DuckDB file the collector writes (default ${DEFAULT_DATABASE})
  --plan FILE     measurement plan JSON (default demo/plan.json if present)
  --url URL       read a running collector's report instead (http://127.0.0.1:8787);
                  the database file is locked while the collector runs
  --json          print JSON instead of a table
  --html FILE     also write the HTML page to FILE
  --help          this text
`;

run(async () => {
  const args = parse(process.argv.slice(2), {
    db: { type: 'string' },
    plan: { type: 'string' },
    url: { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  let report: Report;
  if (args.url) {
    if (args.db || args.plan) throw new UsageError('--url reads the running collector\'s report (with its own plan); leave out --db and --plan');
    report = await fetchReport(args.url);
  } else {
    const database = args.db ?? DEFAULT_DATABASE;
    if (database !== ':memory:' && !existsSync(database)) {
      throw new UsageError(`no database at ${database}: run the collector (npm run collector) or the simulator (npm run simulate -- --in-process) first, or pass --db`);
    }
    const plan = await resolvePlan(args.plan, log);
    const store = await openDuckDBStore(database);
    try {
      report = await buildReport(store, plan);
    } finally {
      await store.close();
    }
  }
  if (args.html) {
    await writeFile(args.html, renderReportHtml(report));
    log(`wrote ${args.html}`);
  }
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReportText(report));
}, USAGE);

async function fetchReport(base: string): Promise<Report> {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url: not a URL: "${base}"`);
  }
  if (!url.pathname.endsWith('/report.json')) url = new URL(url.pathname.replace(/\/?$/, '/report.json'), url);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}${response.status === 404 ? ' (was the collector started with a plan?)' : ''}`);
  return (await response.json()) as Report;
}

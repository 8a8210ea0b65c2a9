import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { chooseStore, openChosenStore, parse, resolvePlan, run, STORE_OPTIONS, STORE_USAGE, UsageError } from '../cli';
import { renderReportHtml } from '../render-html';
import { renderReportText } from '../render-text';
import { buildReport, type Report } from '../report';

const USAGE = `npm run report -- [options]

Does each micro-conversion predict the macro conversion? Association, not cause.

${STORE_USAGE}
                     (PostgreSQL can be read while collectors write to it)
  --plan FILE        measurement plan JSON (default demo/plan.json if present)
  --url URL          read a running collector's report instead (http://127.0.0.1:8787);
                     a DuckDB file is locked while its collector runs
  --json             print JSON instead of a table
  --html FILE        also write the HTML page to FILE
  --help             this text
`;

run(async () => {
  const args = parse(process.argv.slice(2), {
    ...STORE_OPTIONS,
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
    if (args.db || args.postgres || args.store || args.plan) {
      throw new UsageError('--url reads the running collector\'s report (with its own store and plan); leave out --store, --db, --postgres and --plan');
    }
    report = await fetchReport(args.url);
  } else {
    const choice = chooseStore(args);
    if (choice.kind === 'duckdb' && choice.path !== ':memory:' && !existsSync(choice.path)) {
      throw new UsageError(`no database at ${choice.path}: run the collector (npm run collector) or the simulator (npm run simulate -- --in-process) first, or pass --db`);
    }
    const plan = await resolvePlan(args.plan, log);
    const store = await openChosenStore(choice);
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

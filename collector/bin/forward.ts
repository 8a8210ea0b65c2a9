import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseStore, numberOption, openChosenStore, parse, resolvePlan, run, STORE_OPTIONS, STORE_USAGE, UsageError } from '../cli';
import { formatCount } from '../format';
import { loadForwardConfig } from '../forward/config';
import { storeOutbox } from '../forward/collector-hooks';
import { createForwarder } from '../forward/forwarder';
import type { OutboxCounts } from '../forward/outbox';
import { DESTINATION_LABEL, renderForwardingText, type ForwardingReport } from '../forward/report-section';
import { simulateForwarding } from '../forward/simulate';
import { DESTINATIONS, type DestinationName } from '../forward/types';
import { buildReport } from '../report';

const USAGE = `npm run forward -- COMMAND [options]

Server-side forwarding (Meta Conversions API, Google Ads, GA4 Measurement Protocol).

Commands:
  status          per destination: sent, queued, retrying, failed and why; with --forward, where
                  each signal goes and why
  retry-failed    put failed events back in the queue, once what made them fail is fixed
  google-ads-csv  print the Google Ads upload file (with googleAds.delivery "file")
  simulate        the simulator's traffic forwarded through the gate to local stand-ins of the three
                  platforms, with failures and a collector restart; prints the figures

Options:
${STORE_USAGE}
                     the collector's store, whose forward_outbox table is read (simulate: a new DuckDB file)
  --url URL          status: read a running collector's /report.json instead (it holds a DuckDB file)
  --forward FILE     the forwarding config the collector runs with
  --plan FILE        measurement plan (default demo/plan.json if present)
  --destination NAME retry-failed: only meta, google_ads or ga4
  --sessions N       simulate: sessions forwarded (default 1000)
  --history N        simulate: sessions stored first, that the verdicts come from (default 3000)
  --seed N           simulate: seed (default 1)
  --help             this text
`;

run(async () => {
  const [command, ...rest] = process.argv.slice(2);
  const args = parse(rest, {
    ...STORE_OPTIONS,
    url: { type: 'string' },
    forward: { type: 'string' },
    plan: { type: 'string' },
    destination: { type: 'string' },
    sessions: { type: 'string' },
    history: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help || command === undefined || command === '--help') return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (command === 'simulate') return simulate(args, log);
  if (command === 'status' && args.url) return void process.stdout.write(await statusFromUrl(args.url));
  if (!['status', 'retry-failed', 'google-ads-csv'].includes(command)) throw new UsageError(`unknown command ${command}`);

  const choice = chooseStore(args);
  // Opening a DuckDB file that is not there would make an empty one.
  if (choice.kind === 'duckdb' && !existsSync(choice.path)) throw new UsageError(`no database at ${choice.path} (--db)`);
  const config = args.forward ? await loadForwardConfig(args.forward) : null;
  const store = await openChosenStore(choice);
  try {
    const outbox = await storeOutbox(store);
    if (command === 'retry-failed') {
      const destination = args.destination ?? null;
      if (destination !== null && !(DESTINATIONS as readonly string[]).includes(destination)) throw new UsageError(`--destination: one of ${DESTINATIONS.join(', ')}`);
      const count = await outbox.requeueFailed(destination as DestinationName | null, Date.now());
      return void process.stdout.write(`${count} failed events queued again; the collector sends them at its next round\n`);
    }
    if (!config) {
      if (command === 'google-ads-csv') throw new UsageError('google-ads-csv needs --forward FILE (the file\'s conversion names and time zone)');
      return void process.stdout.write(countsText(await outbox.counts()));
    }
    const plan = await resolvePlan(args.plan, log);
    const forwarder = createForwarder({ ...config.forward, autoSend: false }, { store: Promise.resolve(store), plan, outbox: Promise.resolve(outbox), now: Date.now, onError: (error) => log(String((error as Error).message ?? error)) });
    try {
      if (command === 'google-ads-csv') {
        const file = await forwarder.googleAdsFile();
        if (file === null) throw new UsageError('Google Ads is not set up for file delivery (googleAds.delivery: "file") in the config');
        return void process.stdout.write(file);
      }
      process.stdout.write(renderForwardingText(await forwarder.section(await buildReport(store, plan))));
    } finally {
      await forwarder.close();
    }
  } finally {
    await store.close();
  }
}, USAGE);

async function statusFromUrl(base: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(base.replace(/\/?$/, '/report.json').replace(/\/report\.json\/report\.json$/, '/report.json'));
  } catch {
    throw new UsageError(`--url: not a URL: "${base}"`);
  }
  const response = await fetch(url).catch((error: Error) => {
    throw new Error(`cannot reach ${url}: ${error.message}`);
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}${response.status === 404 ? ' (was the collector started with a plan?)' : ''}`);
  const report = (await response.json()) as { forwarding?: ForwardingReport };
  if (!report.forwarding) throw new Error(`${url}: this collector does not forward (start it with --forward FILE)`);
  return renderForwardingText(report.forwarding);
}

/** The outbox's counts alone, without a config to say what the gate does. */
function countsText(counts: readonly OutboxCounts[]): string {
  const used = counts.filter((c) => c.queued + c.retrying + c.sent + c.tested + c.failed + c.skipped + c.dry_run + c.file > 0);
  if (used.length === 0) return 'Nothing forwarded yet.\n';
  const lines = used.flatMap((c) => [
    `${DESTINATION_LABEL[c.destination]}: sent ${formatCount(c.sent)}${c.tested ? `, tested ${formatCount(c.tested)}` : ''}${c.dry_run ? `, dry run ${formatCount(c.dry_run)}` : ''}` +
      `${c.file ? `, in the upload file ${formatCount(c.file)}` : ''}, queued ${formatCount(c.queued)}, retrying ${formatCount(c.retrying)}, failed ${formatCount(c.failed)}, skipped ${formatCount(c.skipped)}`,
    ...c.retry_reasons.map((r) => `  retrying ${formatCount(r.count)}: ${r.reason}`),
    ...c.failures.map((r) => `  failed ${formatCount(r.count)}: ${r.reason}`),
    ...c.skips.map((r) => `  skipped ${formatCount(r.count)}: ${r.reason}`),
  ]);
  return `${lines.join('\n')}\n(--forward FILE also shows where each signal goes and why)\n`;
}

async function simulate(args: Record<string, string | boolean | undefined>, log: (line: string) => void): Promise<void> {
  if (args.postgres !== undefined || (args.store ?? 'duckdb') !== 'duckdb') throw new UsageError('simulate runs on a new DuckDB file (--db PATH, or a temporary one)');
  const own = !args.db;
  const directory = own ? mkdtempSync(join(tmpdir(), 'microconv-forward-')) : null;
  const database = (args.db as string | undefined) ?? join(directory!, 'simulation.duckdb');
  if (!own && existsSync(database)) throw new UsageError(`--db: ${database} exists; the simulation wants a new file`);
  try {
    const figures = await simulateForwarding({
      database,
      sessions: numberOption(args.sessions as string | undefined, 'sessions', 1000, 4, 1_000_000),
      historySessions: numberOption(args.history as string | undefined, 'history', 3000, 100, 10_000_000),
      seed: numberOption(args.seed as string | undefined, 'seed', 1, 0, 2 ** 32 - 1),
      log,
    });
    const lines = [
      '',
      `${formatCount(figures.sessions)} sessions forwarded (${formatCount(figures.eventsSent)} events, ${formatCount(figures.batchesReplayed)} batches sent twice on purpose); ` +
        `${formatCount(figures.retryingAtRestart)} events were waiting to be retried when the collector was restarted.`,
      '',
      'destination                expected  forwarded  forwarded twice  lost  not expected  failed  skipped',
      ...figures.destinations.map(
        (d) =>
          `${DESTINATION_LABEL[d.destination].padEnd(25)}  ${formatCount(d.expected).padStart(8)}  ${formatCount(d.accepted).padStart(9)}  ${String(d.forwardedTwice).padStart(15)}  ` +
          `${String(d.lost).padStart(4)}  ${String(d.unexpected).padStart(12)}  ${formatCount(d.outbox.failed).padStart(6)}  ${formatCount(d.outbox.skipped).padStart(7)}`,
      ),
      '',
      ...figures.destinations.flatMap((d) => [
        ...d.outbox.failures.map((r) => `${d.destination} failed ${formatCount(r.count)}: ${r.reason}`),
        ...d.outbox.skips.map((r) => `${d.destination} skipped ${formatCount(r.count)}: ${r.reason}`),
      ]),
      `departures from the documented request shapes seen by the stand-ins: ${figures.problems.length}`,
      ...figures.problems.slice(0, 10).map((problem) => `  ${problem}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (figures.problems.length || figures.destinations.some((d) => d.lost || d.forwardedTwice || d.unexpected)) process.exitCode = 1;
  } finally {
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

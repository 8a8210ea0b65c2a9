import { writeFile } from 'node:fs/promises';
import { chooseStore, describeStore, numberOption, openChosenStore, parse, run, STORE_OPTIONS, STORE_USAGE, UsageError } from '../cli';
import { formatPoints, formatRate } from '../format';
import { startCollector, type RunningCollector } from '../http';
import { checkPlan } from '../plan';
import { renderReportText } from '../render-text';
import { buildReport } from '../report';
import { sendTraffic } from '../send-traffic';
import { DEFAULT_START, DEMO_MODEL, exactTruth, modelPlan } from '../simulate';

const DEFAULT_URL = 'http://127.0.0.1:8787/collect';

const USAGE = `npm run simulate -- [options]

Sends seeded synthetic sessions to a collector, as browsers running the SDK would. The true effect of
every micro-conversion is known (printed at the end), so the report can be checked against it.

  --url URL          collect URL (default ${DEFAULT_URL}, the collector of npm run collector);
                     repeat it for several collectors sharing a store: requests take them in turn
  --in-process       start a collector in this process instead (no rate limit), on the store below
${STORE_USAGE}
  --sessions N       sessions to send (default 3000)
  --seed N           seed (default 1); the same seed sends the same events, which the collector deduplicates
  --start DATE       ISO date of the first session, or "now" for the last --days (default ${new Date(DEFAULT_START).toISOString().slice(0, 10)})
  --days N           days the sessions spread over (default 14)
  --concurrency N    sessions sending at once (default 8)
  --replay-rate R    share of batches sent twice, as lost responses make the SDK do (default 0.02)
  --origin ORIGIN    send an Origin header, as a page on that site would
  --plan-out FILE    write the measurement plan that matches the simulated traffic
  --help             this text
`;

run(async () => {
  const args = parse(process.argv.slice(2), {
    url: { type: 'string', multiple: true },
    'in-process': { type: 'boolean' },
    ...STORE_OPTIONS,
    sessions: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string' },
    days: { type: 'string' },
    concurrency: { type: 'string' },
    'replay-rate': { type: 'string' },
    origin: { type: 'string' },
    'plan-out': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (args.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (args['in-process'] && args.url) throw new UsageError('--in-process starts its own collector; leave out --url');
  if ((args.db || args.postgres || args.store) && !args['in-process']) {
    throw new UsageError('--store, --db and --postgres are for --in-process; a running collector has its own store');
  }

  const sessions = numberOption(args.sessions, 'sessions', 3000, 1, 10_000_000);
  const seed = numberOption(args.seed, 'seed', 1, 0, 2 ** 32 - 1);
  const days = numberOption(args.days, 'days', 14, 0.001, 3650, false);
  const concurrency = numberOption(args.concurrency, 'concurrency', 8, 1, 256);
  const replayRate = numberOption(args['replay-rate'], 'replay-rate', 0.02, 0, 1, false);
  let start = DEFAULT_START;
  if (args.start === 'now') start = Date.now() - days * 86_400_000;
  else if (args.start !== undefined) {
    start = Date.parse(args.start);
    if (Number.isNaN(start)) throw new UsageError(`--start: expected an ISO date or "now", got "${args.start}"`);
  }
  let urls = args.url ?? [DEFAULT_URL];
  for (const url of urls) {
    try {
      new URL(url);
    } catch {
      throw new UsageError(`--url: not a URL: "${url}"`);
    }
  }

  const plan = modelPlan(DEMO_MODEL);
  if (args['plan-out']) {
    await writeFile(args['plan-out'], `${JSON.stringify(plan, null, 2)}\n`);
    log(`wrote ${args['plan-out']}`);
  }

  let running: RunningCollector | undefined;
  if (args['in-process']) {
    const choice = chooseStore(args);
    running = await startCollector({ port: 0, store: openChosenStore(choice), rateLimit: false, plan });
    urls = [`${running.url}/collect`];
    log(`in-process collector on ${running.url} (${describeStore(choice)})`);
  }

  log(`sending ${sessions} sessions (seed ${seed}) to ${urls.join(' and ')}`);
  const began = Date.now();
  let lastLine = 0;
  try {
    const result = await sendTraffic({
      url: urls,
      seed,
      sessions,
      start,
      days,
      concurrency,
      replayRate,
      origin: args.origin,
      onProgress(done, events) {
        if (Date.now() - lastLine > 2000 || done === sessions) {
          lastLine = Date.now();
          log(`  ${done}/${sessions} sessions, ${events} events`);
        }
      },
    });
    log(
      `done in ${((Date.now() - began) / 1000).toFixed(1)} s: ${result.events} events in ${result.requests} requests, ` +
        `${result.replays} batches replayed, ${result.rateLimited} rate-limited answers, ${result.failed} batches failed, ${result.rejected} events rejected`,
    );
    if (urls.length > 1) log(`  requests by collector: ${Object.entries(result.requestsByUrl).map(([url, count]) => `${url} ${count}`).join(', ')}`);
    for (const problem of result.problems) log(`  ${problem}`);

    const truth = exactTruth(DEMO_MODEL);
    log(`\nThe model's truth (what the report estimates), overall conversion ${formatRate(truth.conversionRate)}:`);
    for (const signal of truth.signals) {
      const model = DEMO_MODEL.signals.find((entry) => entry.name === signal.signal)!;
      log(
        `  ${signal.signal.padEnd(16)} with ${formatRate(signal.rateWith).padStart(7)}  without ${formatRate(signal.rateWithout).padStart(7)}  ` +
          `difference ${formatPoints(signal.difference).padStart(6)} points  (odds ratio of its own: ${model.oddsRatio}${model.requires ? `, needs ${model.requires}` : ''})`,
      );
    }
    if (running) process.stdout.write(`\n${renderReportText(await buildReport(await running.collector.store, checkPlan(plan)))}`);
    if (result.failed || result.rejected) process.exitCode = 1;
  } finally {
    await running?.close();
  }
}, USAGE);

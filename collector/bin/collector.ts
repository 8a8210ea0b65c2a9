import { numberOption, parse, resolvePlan, run, UsageError } from '../cli';
import { DEFAULT_DATABASE } from '../duckdb-store';
import { startCollector } from '../http';
import { DEFAULT_RATE_LIMIT } from '../rate-limit';
import { loadForwardConfig } from '../forward/config';
import { DESTINATION_LABEL } from '../forward/report-section';

const USAGE = `npm run collector -- [options]

The reference collector: POST /collect stores events (DuckDB), GET /report and /report.json show the report.

  --port N           port to listen on (default 8787)
  --host HOST        address to bind (default 127.0.0.1)
  --db PATH          DuckDB file (default ${DEFAULT_DATABASE}); :memory: for a throwaway one
  --origin ORIGIN    allow browsers on this origin (https://www.example.com) to send events; repeatable
  --plan FILE        measurement plan JSON for the report (default demo/plan.json if present)
  --burst N          rate limit: requests a client may send at once (default ${DEFAULT_RATE_LIMIT.capacity})
  --rate N           rate limit: requests per second sustained per client (default ${DEFAULT_RATE_LIMIT.refillPerSecond})
  --no-rate-limit    no rate limit
  --limit-loopback   rate-limit requests from this machine too (by default they are not)
  --trust-proxy      take the client address from X-Forwarded-For (only behind your own proxy)
  --forward FILE     forward to Meta, Google Ads and GA4 as this JSON config says (README, "Server-side forwarding")
  --dry-run          with --forward: print each request instead of sending it
  --help             this text
`;

run(async () => {
  const args = parse(process.argv.slice(2), {
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    origin: { type: 'string', multiple: true },
    plan: { type: 'string' },
    burst: { type: 'string' },
    rate: { type: 'string' },
    'no-rate-limit': { type: 'boolean' },
    'limit-loopback': { type: 'boolean' },
    'trust-proxy': { type: 'boolean' },
    forward: { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (args.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  for (const origin of args.origin ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--origin: expected scheme://host[:port] with no path, got "${origin}"`);
  }
  if (args['dry-run'] && !args.forward) throw new UsageError('--dry-run goes with --forward FILE');
  const forwarding = args.forward ? await loadForwardConfig(args.forward) : null;
  const plan = await resolvePlan(args.plan, log);
  const database = args.db ?? DEFAULT_DATABASE;
  const running = await startCollector({
    port: numberOption(args.port, 'port', 8787, 0, 65535),
    host: args.host ?? '127.0.0.1',
    database,
    allowedOrigins: args.origin ?? [],
    plan,
    trustProxy: args['trust-proxy'] ?? false,
    ...(forwarding ? { forward: { ...forwarding.forward, dryRun: args['dry-run'] ?? false }, identifiers: forwarding.identifiers } : {}),
    rateLimit: args['no-rate-limit']
      ? false
      : {
          capacity: numberOption(args.burst, 'burst', DEFAULT_RATE_LIMIT.capacity, 1),
          refillPerSecond: numberOption(args.rate, 'rate', DEFAULT_RATE_LIMIT.refillPerSecond, 0.001, Number.MAX_SAFE_INTEGER, false),
          exemptLoopback: !args['limit-loopback'],
        },
  });
  log(`microconv collector on ${running.url}`);
  log(`  POST ${running.url}/collect   (database: ${database})`);
  log(`  GET  ${running.url}/report    ${running.url}/report.json`);
  for (const destination of running.collector.forwarder?.destinations.values() ?? []) {
    log(`  forwarding to ${DESTINATION_LABEL[destination.name]} (${args['dry-run'] ? 'dry run: printed, not sent' : destination.mode})`);
  }
  const stop = () => {
    log('stopping');
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, USAGE);

import { chooseStore, describeStore, numberOption, openChosenStore, parse, resolvePlan, run, STORE_OPTIONS, STORE_USAGE, UsageError } from '../cli';
import { parseTrustProxy } from '../client-address';
import { startCollector } from '../http';
import { DEFAULT_RATE_LIMIT } from '../rate-limit';
import { loadForwardConfig } from '../forward/config';
import { DESTINATION_LABEL } from '../forward/report-section';

const USAGE = `npm run collector -- [options]

The reference collector: POST /collect stores events (DuckDB, or PostgreSQL for several collectors
behind a load balancer), GET /report and /report.json show the report.

  --port N           port to listen on (default 8787)
  --host HOST        address to bind (default 127.0.0.1)
${STORE_USAGE}
  --origin ORIGIN    allow browsers on this origin (https://www.example.com) to send events; repeatable
  --plan FILE        measurement plan JSON for the report (default demo/plan.json if present)
  --burst N          rate limit: requests a client may send at once (default ${DEFAULT_RATE_LIMIT.capacity})
  --rate N           rate limit: requests per second sustained per client (default ${DEFAULT_RATE_LIMIT.refillPerSecond})
  --no-rate-limit    no rate limit
  --limit-loopback   rate-limit requests from this machine too (by default a loopback peer is not;
                     an address named in X-Forwarded-For is never exempt)
  --trust-proxy P    behind your own reverse proxies: how many (1), or their addresses and ranges
                     (127.0.0.1,10.0.0.0/8); the client is the address the outermost one saw, read
                     from the right of X-Forwarded-For (what clients write there is never believed)
  --forward FILE     forward to Meta, Google Ads and GA4 as this JSON config says (README, "Server-side
                     forwarding"); the outbox is a table in the store, DuckDB or PostgreSQL
  --dry-run          with --forward: print each request instead of sending it
  --help             this text
`;

run(async () => {
  const args = parse(process.argv.slice(2), {
    port: { type: 'string' },
    host: { type: 'string' },
    ...STORE_OPTIONS,
    origin: { type: 'string', multiple: true },
    plan: { type: 'string' },
    burst: { type: 'string' },
    rate: { type: 'string' },
    'no-rate-limit': { type: 'boolean' },
    'limit-loopback': { type: 'boolean' },
    'trust-proxy': { type: 'string' },
    forward: { type: 'string' },
    'dry-run': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (args.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  for (const origin of args.origin ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--origin: expected scheme://host[:port] with no path, got "${origin}"`);
  }
  let trustProxy: number | string[] | false = false;
  try {
    if (args['trust-proxy'] !== undefined) trustProxy = parseTrustProxy(args['trust-proxy']);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (args['dry-run'] && !args.forward) throw new UsageError('--dry-run goes with --forward FILE');
  const forwarding = args.forward ? await loadForwardConfig(args.forward) : null;
  const plan = await resolvePlan(args.plan, log);
  const port = numberOption(args.port, 'port', 8787, 0, 65535);
  const choice = chooseStore(args);
  const running = await startCollector({
    port,
    host: args.host ?? '127.0.0.1',
    store: openChosenStore(choice),
    allowedOrigins: args.origin ?? [],
    plan,
    trustProxy,
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
  log(`  POST ${running.url}/collect   (${describeStore(choice)})`);
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

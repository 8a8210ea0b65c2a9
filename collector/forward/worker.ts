import { DestinationError, type Destination } from './destination';
import { sendHttp } from './http-send';
import type { ClaimedRow, ForwardOutbox, RowChange } from './outbox';
import type { DestinationName, SendOutcome } from './types';

export const DEFAULT_BACKOFF = { baseMs: 10_000, capMs: 3_600_000 };
/** Rows claimed per pass. */
const CLAIM_LIMIT = 1000;
/** Even with nothing due, look again this often (a row added by another process, a clock jump). */
const IDLE_POLL_MS = 60_000;

export interface WorkerDeps {
  outbox: ForwardOutbox;
  destinations: ReadonlyMap<DestinationName, Destination>;
  now: () => number;
  fetch: typeof fetch;
  timeoutMs: number;
  backoff: { baseMs: number; capMs: number };
  random: () => number;
  /** Print requests instead of sending them. */
  dryRun: boolean;
  print: (line: string) => void;
  onError: (error: unknown) => void;
}

export interface Worker {
  /** Sends everything due now (retries due later wait); resolves when done. */
  flush(): Promise<void>;
  /** Sends from a timer loop until `stop`. */
  start(): void;
  /** Something was added: look soon. */
  poke(): void;
  /** Stops the loop; resolves once the request under way has been settled. */
  stop(): Promise<void>;
}

/**
 * The wait before retry `attempt` (1 for the first): doubling from `baseMs` up to `capMs`, with
 * "equal jitter" (half fixed, half random) so that rows that failed together do not retry together.
 */
export function retryDelay(attempt: number, backoff: { baseMs: number; capMs: number }, random: () => number): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The sender: claims due rows, groups them by destination and batch key, sends, and writes each
 * row's outcome back. Transient failures (network, timeout, 408, 429, 5xx, a platform's temporary
 * codes) wait and retry, honouring `Retry-After`; permanent ones fail with their reason and are
 * never retried; a refused request of several rows is resent row by row, so one bad event does not
 * fail the others. A row older than its platform accepts fails as expired instead of retrying on.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { outbox, destinations, now } = deps;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let started = false;
  let stopping = false;

  const apply = async (destination: Destination, rows: readonly ClaimedRow[], outcome: SendOutcome) => {
    const ids = rows.map((row) => row.event_id);
    let change: RowChange;
    if (outcome.kind === 'sent') change = { status: destination.mode === 'test' ? 'tested' : 'sent', note: outcome.note };
    else if (outcome.kind === 'failed') change = { status: 'failed', error: outcome.reason };
    else {
      // Rows of one batch share their attempt count closely enough: the first one's sets the wait.
      const wait = outcome.retryAfterMs ?? retryDelay(rows[0]!.attempts + 1, deps.backoff, deps.random);
      change = { status: 'pending', error: outcome.reason, nextAttemptAt: now() + wait };
    }
    await outbox.update(destination.name, ids, change, now());
  };

  const sendBatch = async (destination: Destination, rows: readonly ClaimedRow[]): Promise<void> => {
    const items = rows.map((row) => row.payload);
    let request;
    try {
      request = await destination.request(items, false);
    } catch (error) {
      if (!(error instanceof DestinationError)) throw error;
      return apply(destination, rows, error.retry ? { kind: 'retry', reason: error.reason, retryAfterMs: error.retryAfterMs } : { kind: 'failed', reason: error.reason });
    }
    const answer = await sendHttp(deps.fetch, request, deps.timeoutMs);
    if ('error' in answer) return apply(destination, rows, { kind: 'retry', reason: answer.error });
    const outcome = destination.interpret(answer, items, now());
    if (outcome.kind === 'rejected') {
      if (rows.length === 1) return apply(destination, rows, { kind: 'failed', reason: outcome.reason });
      for (const row of rows) await sendBatch(destination, [row]);
      return;
    }
    if (outcome.kind === 'all') return apply(destination, rows, outcome.outcome);
    // Per item: rows that share an outcome are written together.
    const groups = new Map<string, { outcome: SendOutcome; rows: ClaimedRow[] }>();
    outcome.outcomes.forEach((one, index) => {
      const key = JSON.stringify(one);
      const group = groups.get(key) ?? groups.set(key, { outcome: one, rows: [] }).get(key)!;
      group.rows.push(rows[index]!);
    });
    for (const group of groups.values()) await apply(destination, group.rows, group.outcome);
  };

  const printBatch = async (destination: Destination, rows: readonly ClaimedRow[]) => {
    const request = await destination.request(rows.map((row) => row.payload), true);
    deps.print(`[dry run] ${destination.name}: ${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`);
    await outbox.update(destination.name, rows.map((row) => row.event_id), { status: 'dry_run' }, now());
  };

  /**
   * One pass: claim what was due at `dueBy` and settle it. Resolves to how many rows it took. Rows
   * it reschedules are due after `dueBy`, so a flush ends even while a platform keeps failing.
   */
  const pass = async (dueBy: number): Promise<number> => {
    // The lease runs from now, not from `dueBy`: a flush's later passes come long after it began.
    const leaseUntil = now() + deps.timeoutMs * 4;
    const claimed = await outbox.claim(dueBy, CLAIM_LIMIT, leaseUntil);
    // A request starts only while the lease has room for it (and a token request) to end: past the
    // lease, another collector sharing the outbox may claim the same rows and send them too.
    const leaseHolds = () => leaseUntil - now() >= 2 * deps.timeoutMs;
    for (const [name, rows] of groupBy(claimed, (row) => row.destination)) {
      const destination = destinations.get(name);
      if (!destination) {
        // Rows of a destination no longer configured wait, untouched, for it to come back.
        await outbox.update(name, rows.map((row) => row.event_id), { status: 'pending', error: 'destination not configured', nextAttemptAt: now() + IDLE_POLL_MS }, now());
        continue;
      }
      const fresh = rows.filter((row) => now() - row.event_ts <= destination.maxAgeMs);
      const expired = rows.filter((row) => now() - row.event_ts > destination.maxAgeMs);
      if (expired.length) {
        await apply(destination, expired, { kind: 'failed', reason: `expired: older than ${Math.round(destination.maxAgeMs / 86_400_000)} days, which ${destination.name} refuses` });
      }
      for (const batch of groupBy(fresh, (row) => row.batch_key).values()) {
        for (let start = 0; start < batch.length; start += destination.maxBatch) {
          // Stopping, or the lease running out: what is left stays leased until the lease ends (or,
          // for a store only this process opens, until the next start releases it: `releaseLeases`).
          if (stopping || !leaseHolds()) return claimed.length;
          const chunk = batch.slice(start, start + destination.maxBatch);
          await (deps.dryRun ? printBatch(destination, chunk) : sendBatch(destination, chunk));
        }
      }
    }
    return claimed.length;
  };

  const flush = async (): Promise<void> => {
    while (running) await running;
    const dueBy = now();
    // Assigned before it is awaited, and cleared only if still current: a flush that ends at once
    // (stopping) must not leave a settled promise behind for the next waiter to spin on.
    const current = (async () => {
      while (!stopping && (await pass(dueBy)) > 0);
    })();
    running = current;
    try {
      await current;
    } finally {
      if (running === current) running = null;
    }
  };

  const schedule = (ms: number) => {
    if (!started) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(loop, Math.max(0, Math.min(ms, IDLE_POLL_MS)));
    timer.unref?.();
  };

  const loop = async () => {
    timer = null;
    if (!started) return;
    try {
      do {
        again = false;
        await flush();
      } while (again && started);
      const next = await outbox.nextDue();
      schedule(next === null ? IDLE_POLL_MS : next - now());
    } catch (error) {
      deps.onError(error);
      schedule(deps.backoff.baseMs);
    }
  };

  return {
    flush,
    start() {
      if (started) return;
      started = true;
      stopping = false;
      schedule(0);
    },
    poke() {
      again = true;
      schedule(0);
    },
    async stop() {
      started = false;
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running;
    },
  };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

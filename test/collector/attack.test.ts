// @vitest-environment node
/**
 * The collector under attack (issue 10): slow and endless requests, hostile bodies, forged forwarding
 * headers and a flood. Each gets the right status, the collector never crashes, no row is stored
 * twice, and memory stays bounded. Slow clients are real sockets that trickle bytes; every wait here
 * is on a socket event, bounded by the collector's own deadlines (set to fractions of a second).
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, test } from 'vitest';
import type { DuckDBStore } from '../../collector/duckdb-store';
import { createCollector, DEFAULT_TIMEOUTS, serverTimeouts, startCollector, type CollectorOptions, type RunningCollector } from '../../collector/http';
import { mulberry32 } from '../../collector/prng';

const random = mulberry32(7);
const SITE = 'https://tally.example';

function event(params: Record<string, unknown> = { cta_name: 'start_trial' }) {
  return {
    event_id: random.uuid(),
    name: 'cta_click',
    ts: 1_750_000_000_000,
    session_id: 's-1',
    anonymous_id: null,
    page: { url: 'https://tally.example/', path: '/', title: 'Tally', referrer: '' },
    params,
    attribution: { utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null, gclid: null, fbclid: null, landing_page: '', referrer: '' },
  };
}
const payload = (events: unknown[]) => JSON.stringify({ v: 1, sent_at: '2025-06-15T10:00:00.000Z', events });

let running: RunningCollector | undefined;
let mounted: Server | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  mounted?.closeAllConnections();
  await new Promise((resolve) => (mounted ? mounted.close(resolve) : resolve(undefined)));
  mounted = undefined;
});

async function start(options: CollectorOptions = {}) {
  running = await startCollector({ port: 0, database: ':memory:', onError: () => {}, ...options });
  const store = (await running.collector.store) as DuckDBStore;
  const { port } = running.server.address() as AddressInfo;
  return { url: running.url, port, store };
}

interface Exchange {
  /** Everything the server wrote back. */
  answer: string;
  /** Milliseconds from connecting until the server closed the connection. */
  ms: number;
}

/**
 * A raw connection: sends `head`, then lets `feed` write to the socket as it likes (it returns its
 * own stop function). Resolves once the server closes the connection, with what it answered.
 */
function exchange(port: number, head: string, feed: (socket: Socket) => () => void = () => () => {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let stop = () => {};
    socket.on('connect', () => {
      if (head) socket.write(head);
      stop = feed(socket);
    });
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    // A write after the server has closed (EPIPE, ECONNRESET) is expected: the close follows.
    socket.on('error', () => {});
    socket.on('close', () => {
      stop();
      resolve({ answer, ms: performance.now() - started });
    });
  });
}

/** Writes `chunk` every `everyMs` (the slow client: this is the fault, not a wait). */
const trickle = (chunk: string, everyMs: number) => (socket: Socket) => {
  const timer = setInterval(() => socket.writable && socket.write(chunk), everyMs);
  return () => clearInterval(timer);
};

/** Writes `chunk` as fast as the socket takes it, until the server closes it. */
const flood = (chunk: Buffer) => (socket: Socket) => {
  let stopped = false;
  const pump = () => {
    while (!stopped && socket.writable && socket.write(chunk));
  };
  socket.on('drain', pump);
  pump();
  return () => void (stopped = true);
};

const postHead = (extra: string) => `POST /collect HTTP/1.1\r\nHost: collector\r\nContent-Type: text/plain\r\n${extra}\r\n`;
const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

describe('slow clients (defect 12): deadlines in seconds, answered 408', () => {
  test('the defaults are seconds, not minutes', async () => {
    expect(DEFAULT_TIMEOUTS).toEqual({ headersMs: 10_000, bodyMs: 10_000, requestMs: 20_000, idleMs: 5_000 });
    const { url } = await start();
    expect(url).toMatch(/^http:/);
    const server = running!.server;
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([10_000, 20_000, 5_000]);
  });

  test('a deadline that is not a positive number of milliseconds is refused when the collector is made', () => {
    expect(() => createCollector({ store: new Promise(() => {}), timeouts: { bodyMs: 0 } })).toThrow('timeouts.bodyMs: expected a positive number of milliseconds, got 0');
    expect(() => serverTimeouts({ headersMs: Number.NaN })).toThrow(/timeouts\.headersMs/);
  });

  test('a body that trickles in gets 408 at the body deadline, and its socket is closed', async () => {
    const { port, store } = await start({ timeouts: { bodyMs: 400 } });
    const { answer, ms } = await exchange(port, postHead('Content-Length: 1000\r\n'), trickle('x', 50));
    console.log(`trickled body: answered ${statusOf(answer)} and closed after ${Math.round(ms)} ms (body deadline 400 ms)`);
    expect(statusOf(answer)).toBe(408);
    expect(answer).toContain('"error":"request_timeout"');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3_000);
    expect(Number((await store.query('SELECT count(*) AS n FROM events'))[0]!.n)).toBe(0);
  });

  test('mounted in a server of its own with Node defaults, the handler still holds its body deadline', async () => {
    const collector = createCollector({ database: ':memory:', timeouts: { bodyMs: 400 }, onError: () => {} });
    mounted = createServer((request, response) => collector(request, response));
    await new Promise<void>((resolve) => mounted!.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = mounted.address() as AddressInfo;
      const { answer, ms } = await exchange(port, postHead('Content-Length: 1000\r\n'), trickle('x', 50));
      expect(statusOf(answer)).toBe(408);
      expect(ms).toBeLessThan(3_000);
    } finally {
      await collector.close();
    }
  });

  test('an endless chunked body that stays small: 408 at the body deadline', async () => {
    const { port } = await start({ timeouts: { bodyMs: 400 } });
    const { answer, ms } = await exchange(port, postHead('Transfer-Encoding: chunked\r\n'), trickle('1\r\nx\r\n', 50));
    expect(statusOf(answer)).toBe(408);
    expect(ms).toBeLessThan(3_000);
  });

  test('an endless body sent fast: 413 once past 64 KiB, and the connection is closed', async () => {
    const { port } = await start();
    const chunk = Buffer.from(`4000\r\n${'x'.repeat(0x4000)}\r\n`);
    const { answer, ms } = await exchange(port, postHead('Transfer-Encoding: chunked\r\n'), flood(chunk));
    expect(statusOf(answer)).toBe(413);
    expect(ms).toBeLessThan(3_000);
  });

  test('headers that trickle in get 408 at the headers deadline', async () => {
    const { port } = await start({ timeouts: { headersMs: 400, requestMs: 1_000 } });
    const { answer, ms } = await exchange(port, 'POST /collect HTTP/1.1\r\n', trickle('X-Slow: 1\r\n', 50));
    console.log(`trickled headers: answered ${statusOf(answer)} and closed after ${Math.round(ms)} ms (headers deadline 400 ms)`);
    expect(statusOf(answer)).toBe(408);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3_000);
  });

  test('a connection that sends nothing at all is closed at the headers deadline', async () => {
    const { port } = await start({ timeouts: { headersMs: 400, requestMs: 1_000 } });
    const { ms } = await exchange(port, '');
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3_000);
  });

  test('an idle keep-alive connection is closed after the idle timeout', async () => {
    const { port } = await start({ timeouts: { idleMs: 300 } });
    const body = payload([event()]);
    const { answer, ms } = await exchange(port, postHead(`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n`) + body);
    expect(statusOf(answer)).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(3_000);
  });
});

describe('under attack', () => {
  test('each hostile request gets its status, no crash, no row twice, and memory stays bounded', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const capacity = 40;
    // The rate limit's clock stands still: tokens never come back, so the flood's count is exact.
    const { url, port, store } = await start({ allowedOrigins: [SITE], trustProxy: 1, rateLimit: { capacity, refillPerSecond: 1 }, now: () => 1_000_000 });
    const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
      fetch(`${url}/collect`, { method: 'POST', body: body as BodyInit, headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers } });
    const stored = new Set<string>();
    const good = () => {
      const one = event();
      stored.add(one.event_id);
      return one;
    };
    const replayed = payload([good(), good(), good()]);
    const hostile: Array<[string, () => Promise<number>, number]> = [
      ['malformed JSON', async () => (await post('{"v":1,"events":[')).status, 400],
      ['not UTF-8', async () => (await post(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).status, 400],
      ['events of the wrong type', async () => (await post('{"v":1,"events":"all of them"}')).status, 400],
      ['a payload nested 30,000 deep', async () => (await post(`${'['.repeat(30_000)}${']'.repeat(30_000)}`)).status, 400],
      ['wrong types inside an event', async () => (await post(payload([{ ...event(), ts: 'now', page: 7 }, good()]))).status, 200],
      ['parameters nested 10,000 deep', async () => (await post(payload([event({ deep: '__RAW__' }), good()]).replace('"__RAW__"', `${'{"a":'.repeat(10_000)}0${'}'.repeat(10_000)}`))).status, 200],
      ['lone surrogates', async () => (await post(payload([event({ link_text: 'Buy \ud83d' }), event({ ['\udc00']: 1 }), good()]))).status, 200],
      ['a 10 MB body with its length declared', async () => statusOf((await exchange(port, postHead('Content-Length: 10485760\r\n'), flood(Buffer.alloc(65_536, 0x78)))).answer), 413],
      ['a 10 MB body streamed', async () => statusOf((await exchange(port, postHead('Transfer-Encoding: chunked\r\n'), flood(Buffer.from(`10000\r\n${'x'.repeat(65_536)}\r\n`)))).answer), 413],
      ['a wrong origin', async () => (await post(payload([event()]), { Origin: 'https://evil.example' })).status, 403],
      ['a replay', async () => (await post(replayed)).status, 200],
    ];

    // The flood: one client behind the proxy (which appends 203.0.113.66), writing its own forwarding entries.
    const forged = ['127.0.0.1', '::1', '10.0.0.1', '127.0.0.1, 127.0.0.1', 'localhost', `${'9'.repeat(500)}`];
    const statuses = new Map<number, number>();
    let sent = 0;
    const floodOneClient = async (requests: number) => {
      const end = sent + requests;
      const worker = async () => {
        while (sent < end) {
          const i = sent++;
          const response = await post(payload([good()]), { 'X-Forwarded-For': `${forged[i % forged.length]}, 203.0.113.66` });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await response.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    };
    const attack = async (rounds: number, floodSize: number) => {
      for (let round = 0; round < rounds; round++) {
        for (const [name, send, expected] of hostile) expect([name, await send()]).toEqual([name, expected]);
      }
      await floodOneClient(floodSize);
    };
    // A first wave warms up what any server allocates once (code, connection pools, the database's
    // buffers); memory is then measured over a second wave four times its size: a leak grows with it.
    await attack(1, 600);
    gc();
    const before = process.memoryUsage();
    const ROUNDS = 3;
    const FLOOD = 2_400;
    await attack(ROUNDS, FLOOD);
    gc();
    const after = process.memoryUsage();
    const heapGrowth = (after.heapUsed - before.heapUsed) / 2 ** 20;
    const rssGrowth = (after.rss - before.rss) / 2 ** 20;
    console.log(
      `under attack: after a first wave, ${ROUNDS} rounds of ${hostile.length} hostile requests (${ROUNDS * 2} bodies of 10 MB among them) and a flood of ${FLOOD} requests ` +
        `grew the heap by ${heapGrowth.toFixed(1)} MB and RSS by ${rssGrowth.toFixed(1)} MB (after garbage collection); flood answers over both waves ${JSON.stringify(Object.fromEntries(statuses))}`,
    );

    expect(Object.fromEntries(statuses)).toEqual({ 200: capacity, 429: sent - capacity });
    // Still serving: a good request after all that.
    const last = good();
    expect((await post(payload([last]))).status).toBe(200);
    // No row twice, and exactly the events that were accepted: the good ones, and of the flood only what the limit let through.
    const [rows] = await store.query('SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_ids FROM events');
    const floodDropped = sent - capacity;
    expect(rows).toEqual({ n: stored.size - floodDropped, distinct_ids: stored.size - floodDropped });
    expect(heapGrowth).toBeLessThan(8);
    expect(rssGrowth).toBeLessThan(64);
  }, 180_000);
});

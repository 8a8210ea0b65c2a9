/**
 * The e2e test server: the built bundles under `/dist/`, the fixture pages of `e2e/pages/` at the root,
 * and `POST /collect`, a collector the test steers (scripted statuses, holding) and watches (`waitFor`).
 * One per test, on a port of its own, so that every test also has an origin (and IndexedDB) of its own.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MicroconvEvent } from '../../src/types';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist');
const PAGES = join(ROOT, 'e2e', 'pages');
const MEDIA = join(ROOT, 'demo', 'media');

/** The strict policy that pages named `*.csp.html` are served under: the SDK and its overlay must work in it. */
export const STRICT_CSP = "script-src 'self'; style-src 'self'";
/** The strict policy with Trusted Types enforced, for pages named `*.tt.html`: only microconv's own policy may make script URLs. */
export const TRUSTED_TYPES_CSP = `${STRICT_CSP}; require-trusted-types-for 'script'; trusted-types microconv`;
/**
 * The policy the `csp` project serves every file under (issue 10): the whole suite must run in it without a
 * violation. It names the one Trusted Types policy allowed, microconv's own (loader.ts), so that the suite
 * also proves microconv needs no other, and that a site listing `trusted-types microconv` is enough.
 */
export const SUITE_CSP = TRUSTED_TYPES_CSP;

/**
 * Stand-ins for the players of YouTube and Vimeo, served at the paths their embeds use, so the video
 * tracker finds them as it finds real embeds. They speak the players' documented message protocols.
 */
const PLAYERS: [prefix: string, page: string][] = [
  ['/fake-youtube/embed/', 'fake-youtube.html'],
  ['/fake-vimeo/video/', 'fake-vimeo.html'],
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webm': 'video/webm',
  '.pdf': 'application/pdf',
};

/** The endpoint payload (contract 5). */
export interface WirePayload {
  v: number;
  sent_at: string;
  events: MicroconvEvent[];
}

/** One request that reached `/collect`. */
export interface CollectedRequest {
  /** Milliseconds since the server started. */
  at: number;
  /** When it was answered, by the wall clock (`Date.now()`), for comparing with an HTTP date. */
  time: number;
  /** The raw body size in bytes, as it came over the wire. */
  bytes: number;
  contentType: string;
  /** `Sec-Fetch-Mode`: `no-cors` for `sendBeacon` with a text body, `cors` for our `fetch`. */
  fetchMode: string;
  /** The status the collector answered; 0 for a connection it destroyed. */
  status: number;
  /** Answered 2xx: only these count as delivered (less the events the answer named as rejected). */
  delivered: boolean;
  /** The event_ids the answer's body named as rejected (`{ "rejected": [{ "event_id", "problems" }] }`). */
  rejected: string[];
  /** The parsed body, or undefined when it was not JSON. */
  payload: WirePayload | undefined;
  events: MicroconvEvent[];
}

/**
 * A scripted answer: a status, and a `Retry-After` header and a JSON body to send with it; or a fault:
 * `hang` keeps the request unanswered until `release()` (a collector that stalls), `destroy` closes the
 * connection without an answer (the page sees a network error; recorded with status 0).
 */
export type Answer = number | { status: number; retryAfter?: string; body?: unknown } | 'hang' | 'destroy';

/** A rule that answers a request by the events it carries, or leaves it to the default (undefined). */
export type Rule = (events: MicroconvEvent[]) => Answer | undefined;

/** How to answer one request: scripted answers first, then the rule, then either 503 (holding) or 204. */
type Mode = { hold: boolean; script: Answer[]; rule?: Rule };

export interface Collector {
  /** Every request so far, in the order they arrived. */
  readonly requests: readonly CollectedRequest[];
  /** Answers the next requests with these, in order; after them, the default again. */
  answer(...answers: Answer[]): void;
  /** Answers 503 to everything (delivering nothing) until `accept()`. */
  hold(): void;
  /** Stops holding: answers 204 again (scripted answers still come first). */
  accept(): void;
  /** Answers each request by `rule` from now on, where it gives an answer (scripted answers still come first). */
  respond(rule: Rule | undefined): void;
  /** How many requests are hanging now (answered `'hang'`): they are recorded once released. */
  readonly hanging: number;
  /** Answers every hanging request: with `answer`, or by the rules as they stand (204 by default). */
  release(answer?: Answer): void;
  /** The events of every 2xx request but those its answer rejected, in arrival order (duplicates included). */
  delivered(): MicroconvEvent[];
  /** How many 2xx requests carried each event_id. */
  deliveryCounts(): Map<string, number>;
  /**
   * Resolves with `check`'s first truthy result, tested now and after each request; rejects after
   * `timeoutMs` with `what` and a summary of what arrived.
   */
  waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** Resolves with the delivered events once every one of `names` has been delivered at least once. */
  waitForDelivered(names: string[], timeoutMs?: number): Promise<MicroconvEvent[]>;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  collector: Collector;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

function parse(body: Buffer): WirePayload | undefined {
  try {
    const payload = JSON.parse(body.toString('utf8')) as WirePayload;
    return payload && Array.isArray(payload.events) ? payload : undefined;
  } catch {
    return undefined;
  }
}

function createCollector(started: number) {
  const requests: CollectedRequest[] = [];
  const watchers = new Set<() => void>();
  const mode: Mode = { hold: false, script: [] };
  const hung: ((answer?: Answer) => void)[] = [];
  const notify = () => [...watchers].forEach((watcher) => watcher());

  const collector: Collector = {
    requests,
    answer: (...answers) => void mode.script.push(...answers),
    hold: () => void (mode.hold = true),
    accept: () => void (mode.hold = false),
    respond: (rule) => void (mode.rule = rule),
    get hanging() {
      return hung.length;
    },
    release: (answer) => (hung.splice(0).forEach((finish) => finish(answer)), notify()),
    delivered: () => requests.filter((request) => request.delivered).flatMap((request) => request.events.filter((event) => !request.rejected.includes(event.event_id))),
    deliveryCounts() {
      const counts = new Map<string, number>();
      for (const event of collector.delivered()) counts.set(event.event_id, (counts.get(event.event_id) || 0) + 1);
      return counts;
    },
    waitFor(what, check, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const test = () => {
          let result;
          try {
            result = check();
          } catch (error) {
            return finish(() => reject(error));
          }
          if (result) finish(() => resolve(result));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          watchers.delete(test);
          settle();
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the collector saw:\n${summary(requests)}`))),
          timeoutMs,
        );
        watchers.add(test);
        test();
      });
    },
    waitForDelivered(names, timeoutMs) {
      return collector.waitFor(
        `delivery of ${names.join(', ')}`,
        () => {
          const delivered = collector.delivered();
          return names.every((name) => delivered.some((event) => event.name === name)) && delivered;
        },
        timeoutMs,
      );
    },
  };

  const nextAnswer = (events: MicroconvEvent[]): Answer => mode.script.shift() ?? mode.rule?.(events) ?? (mode.hold ? 503 : 204);

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const payload = parse(body);
    const events = payload?.events || [];
    const record = (status: number, rejected: string[]) =>
      requests.push({
        at: performance.now() - started,
        time: Date.now(),
        bytes: body.length,
        contentType: String(req.headers['content-type'] || ''),
        fetchMode: String(req.headers['sec-fetch-mode'] || ''),
        status,
        delivered: status >= 200 && status < 300,
        rejected,
        payload,
        events,
      });
    const answer = (given: Answer) => {
      if (given === 'hang') return void hung.push((later) => answer(later ?? nextAnswer(events)));
      if (given === 'destroy') return record(0, []), req.socket.destroy();
      const { status, retryAfter, body: json } = typeof given === 'number' ? { status: given } : given;
      record(status, (json as { rejected?: { event_id: string }[] } | undefined)?.rejected?.map((item) => item.event_id) || []);
      res.writeHead(status, { ...(retryAfter && { 'Retry-After': retryAfter }), ...(json !== undefined && { 'Content-Type': 'application/json' }) });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    answer(nextAnswer(events));
    notify();
  }

  return { collector, handle };
}

/** One line per request, for failure messages. */
export const summary = (requests: readonly CollectedRequest[]): string =>
  requests.map((r) => `  ${Math.round(r.at)} ms ${r.status} ${r.fetchMode} ${r.bytes} B: ${r.events.map((e) => e.name).join(', ') || '(no events)'}`).join('\n') ||
  '  (nothing)';

async function serveFile(path: string, req: IncomingMessage, res: ServerResponse, csp: string | undefined) {
  // Pages are served without `Cache-Control: no-store`, which would keep them out of the back/forward cache.
  const player = PLAYERS.find(([prefix]) => path.startsWith(prefix));
  const [dir, rest] = path.startsWith('/dist/')
    ? [DIST, path.slice('/dist/'.length)]
    : path.startsWith('/media/')
      ? [MEDIA, path.slice('/media/'.length)]
      : [PAGES, player ? player[1] : path.slice(1) || 'index.html'];
  const file = normalize(join(dir, decodeURIComponent(rest)));
  if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    return void res.writeHead(404).end();
  }
  const headers: Record<string, string> = { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Accept-Ranges': 'bytes' };
  if (csp) headers['Content-Security-Policy'] = csp;
  if (file.endsWith('.csp.html')) headers['Content-Security-Policy'] = STRICT_CSP;
  if (file.endsWith('.tt.html')) headers['Content-Security-Policy'] = TRUSTED_TYPES_CSP;
  // Media elements fetch by ranges, and seek only where ranges are served.
  const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range || ''));
  if (range) {
    const start = range[1] ? Number(range[1]) : Math.max(0, content.length - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
    headers['Content-Range'] = `bytes ${start}-${end}/${content.length}`;
    return void res.writeHead(206, headers).end(content.subarray(start, end + 1));
  }
  res.writeHead(200, headers).end(content);
}

export interface ServerOptions {
  /** A Content-Security-Policy sent with every file served (pages named `*.csp.html`, `*.tt.html` keep their own). */
  csp?: string;
}

export async function startServer({ csp }: ServerOptions = {}): Promise<TestServer> {
  const { collector, handle } = createCollector(performance.now());
  const server = createServer((req, res) => {
    const path = new URL(req.url || '/', 'http://localhost').pathname;
    // A page answers a form POSTed to it, as a site would: a test that intercepted requests instead (page.route)
    // would hold the leaving page's beacon in Playwright's hands, and lose it when the page is gone.
    const done = req.method === 'POST' && path === '/collect' ? handle(req, res) : req.method === 'GET' || (req.method === 'POST' && path.endsWith('.html')) ? (req.resume(), serveFile(path, req, res, csp)) : Promise.resolve(void res.writeHead(405).end());
    done.catch(() => res.headersSent || res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    collector,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

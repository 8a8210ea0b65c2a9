/**
 * `npm run demo`: the demo landing page, the built microconv files, and the reference collector with its
 * report, on one local origin. The page is served under a strict Content Security Policy
 * (`script-src 'self'; style-src 'self'`), which the SDK and its overlay work under.
 *
 *   npm run demo -- [--port 8787] [--db data/microconv.duckdb]
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCollector, DEFAULT_TIMEOUTS, loadPlan, serverTimeouts } from '../collector/index';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webm': 'video/webm',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
};
/** What the landing page may load: its own files, and nothing inline. */
const PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'";

/** URL paths to folders, first match wins. `/` is the page; the built SDK files sit beside it. */
const MOUNTS: [prefix: string, folder: string][] = [
  ['/media/', 'demo/media'],
  ['/microconv', 'dist'],
  ['/', 'demo/public'],
];

async function serveFile(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(request.url || '/', 'http://demo').pathname);
  const [prefix, folder] = MOUNTS.find(([mount]) => path.startsWith(mount))!;
  const relative = prefix === '/microconv' ? path.slice(1) : path.slice(prefix.length);
  const base = join(ROOT, folder);
  let file = normalize(join(base, relative));
  // The second view of the page is a History API route: it is the same page.
  if (path === '/' || path === '/customers') file = join(ROOT, 'demo/public/index.html');
  if (!file.startsWith(base + sep) && file !== base) return void response.writeHead(403).end();
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch {
    return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
  const type = TYPES[extname(file)] || 'application/octet-stream';
  const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store' };
  if (type.startsWith('text/html')) headers['content-security-policy'] = PAGE_POLICY;
  response.writeHead(200, headers).end(request.method === 'HEAD' ? undefined : await readFile(file));
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string' }, db: { type: 'string' }, host: { type: 'string' } } });
  const port = Number(values.port ?? process.env.PORT ?? 8787);
  const host = values.host ?? '127.0.0.1';
  const plan = await loadPlan(join(ROOT, 'demo/plan.json'));
  const collector = createCollector({ database: values.db ?? 'data/microconv.duckdb', plan });
  await collector.store; // fail early, and clearly, when the database cannot be opened
  // Slow clients get 408 in seconds, as from the collector's own server.
  const server = createServer(serverTimeouts(), (request, response) =>
    collector(request, response, () =>
      serveFile(request, response).catch((error: unknown) => {
        console.error(error);
        if (!response.headersSent) response.writeHead(500).end();
      }),
    ),
  );
  server.keepAliveTimeout = DEFAULT_TIMEOUTS.idleMs;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const origin = `http://${host}:${port}`;
  console.log(`microconv demo

  landing page   ${origin}/            (debug overlay on; events go to the local collector)
  report         ${origin}/report      (fill it with: npm run simulate)
  collector      ${origin}/collect     (stored in ${values.db ?? 'data/microconv.duckdb'})

Ctrl+C stops it.`);
  const stop = () => {
    server.close();
    void collector.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

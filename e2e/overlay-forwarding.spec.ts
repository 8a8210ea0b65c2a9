/**
 * Issue 12, item 5: the debug overlay shows which events the server will forward, and why not. The page
 * talks to the real collector (not the e2e test collector), forwarding to the local stand-ins of Meta
 * and GA4 by the default gate; what the overlay says is checked against what the stand-ins receive.
 * Pages are served with `pageHeaders`: in the csp project, under the suite's strict CSP.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from '@playwright/test';
import { createCollector, type Collector } from '../collector/http';
import { checkPlan } from '../collector/plan';
import { startStandIns, type StandIns } from '../collector/forward/stand-ins';
import type { ForwardOptions } from '../collector/forward/types';
import { expect, test } from './support/test';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLAN = checkPlan({ macro: ['generate_lead'], stages: { intent: ['cta_click'] } });

const overlay = (page: Page): Locator => page.locator('#microconv-overlay');
const serverLine = (page: Page, id: string): Locator => overlay(page).locator(`.events > li[data-event-id="${id}"] .server`);
const serverSummary = (page: Page): Locator => overlay(page).locator('.server-summary');

let standIns: StandIns;
let collector: Collector;
let server: Server;
let origin: string;
let folder: string;

/** The real collector, forwarding to the stand-ins when `forward` says so, and the fixture pages beside it. */
async function start(headers: Record<string, string>, forward: (standIns: StandIns) => ForwardOptions | undefined): Promise<void> {
  standIns = await startStandIns();
  folder = await mkdtemp(join(tmpdir(), 'mc-overlay-forwarding-'));
  collector = createCollector({ database: join(folder, 'db.duckdb'), rateLimit: false, plan: PLAN, forward: forward(standIns) });
  await collector.forwarder?.ready;
  server = createServer((request, response) =>
    collector(request, response, async () => {
      const path = (request.url ?? '/').split('?')[0]!;
      const file = path.startsWith('/dist/') ? join(ROOT, path) : join(ROOT, 'e2e', 'pages', path);
      const body = await readFile(file).catch(() => null);
      response.writeHead(body === null ? 404 : 200, { ...headers, 'Content-Type': path.endsWith('.html') ? 'text/html' : 'text/javascript' });
      response.end(body);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Meta and GA4, each by the default gate (macro conversions and signals associated with more conversion). */
const metaAndGa4 = (standIns: StandIns): ForwardOptions => {
  const { meta, ga4 } = standIns.credentials;
  return {
    meta: { pixelId: meta.pixelId, accessToken: meta.accessToken, baseUrl: standIns.url, events: 'standard' },
    ga4: { measurementId: ga4.measurementId, apiSecret: ga4.apiSecret, baseUrl: standIns.url },
  };
};

const track = (page: Page, name: string): Promise<string> => page.evaluate((name) => window.microconv.track(name), name);

test.afterEach(async () => {
  // The page is still open here, and its keep-alive connections would hold close() until the test times out.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await collector.close();
  await standIns.close();
  await rm(folder, { recursive: true, force: true });
});

test('the overlay shows which events the server forwards, and why not, as the collector then does', async ({ page, pageHeaders }) => {
  await start(pageHeaders, metaAndGa4);
  const asked = page.waitForResponse((response) => new URL(response.url()).pathname === '/forwarding');
  await page.goto(`${origin}/o-forwarding.html`);
  await page.waitForFunction(() => window.microconv.loaded);
  const lead = await track(page, 'generate_lead');
  const cta = await track(page, 'cta_click');
  expect((await asked).status()).toBe(200);

  // A macro conversion goes; a micro-conversion the report cannot judge yet waits.
  await expect(serverLine(page, lead)).toHaveText('Meta, GA4 — server');
  await expect(serverLine(page, cta)).toHaveText('not forwarded: not enough data yet to tell');
  await expect(serverSummary(page)).toHaveText('Server forwarding to Meta, GA4: 1 of 2 event names here; consent applies per event.');

  // And so it goes: the stand-ins get the lead, each once, and never the click.
  await page.evaluate(() => window.microconv.flush());
  await expect.poll(() => [standIns.accepted.meta.get(lead), standIns.accepted.ga4.get(lead)], { timeout: 20_000 }).toEqual([1, 1]);
  const counts = await (await collector.forwarder!.outbox).counts();
  // One outbox row per destination: the lead's (Google Ads is not configured here).
  expect(counts.map((c) => [c.destination, c.sent + c.queued + c.retrying + c.failed + c.skipped])).toEqual([
    ['meta', 1],
    ['google_ads', 0],
    ['ga4', 1],
  ]);
  expect([standIns.accepted.meta.has(cta), standIns.accepted.ga4.has(cta)]).toEqual([false, false]);
  expect(standIns.problems).toEqual([]);
});

test('a name outside the plan is asked about once it is tracked, with the reason per destination', async ({ page, pageHeaders }) => {
  await start(pageHeaders, (standIns) => {
    const forward = metaAndGa4(standIns);
    return { ...forward, ga4: { ...forward.ga4!, send: 'all' } };
  });
  await page.goto(`${origin}/o-forwarding.html`);
  await page.waitForFunction(() => window.microconv.loaded);
  await expect(serverSummary(page)).toHaveText('Server forwarding to Meta, GA4; consent applies per event.');
  const asked = page.waitForResponse((response) => new URL(response.url()).searchParams.getAll('name').includes('pricing_view'));
  const id = await track(page, 'pricing_view');
  await asked;
  await expect(serverLine(page, id)).toHaveText('GA4 — server · not Meta: no verdict yet: not in the report');
});

test('nothing is shown when the collector does not forward', async ({ page, pageHeaders }) => {
  await start(pageHeaders, () => undefined);
  const asked = page.waitForResponse((response) => new URL(response.url()).pathname === '/forwarding');
  await page.goto(`${origin}/o-forwarding.html`);
  await page.waitForFunction(() => window.microconv.loaded);
  const id = await track(page, 'generate_lead');
  expect((await asked).status()).toBe(404);
  await expect(overlay(page).locator(`.events > li[data-event-id="${id}"]`)).toBeAttached();
  await expect(serverLine(page, id)).toBeHidden();
  await expect(serverSummary(page)).toBeHidden();
});

test('a collector that cannot be asked gets a quiet note, and the page no exception', async ({ page, pageHeaders }) => {
  await start(pageHeaders, metaAndGa4);
  await page.route('**/forwarding*', (route) => route.abort('connectionrefused'));
  await page.goto(`${origin}/o-forwarding.html`);
  await page.waitForFunction(() => window.microconv.loaded);
  const id = await track(page, 'generate_lead');
  await expect(serverSummary(page)).toHaveText(/^Server forwarding could not be read \(.+\)\.$/);
  await expect(serverLine(page, id)).toBeHidden();
});

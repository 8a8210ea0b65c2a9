/**
 * Issue 12 end to end: a page with the Meta Pixel and gtag snippets (their loaders left out) tracks a
 * `generate_lead` after identify(); the real collector, forwarding to the local stand-ins of Meta,
 * Google Ads and GA4 (collector/forward/stand-ins.ts), sends it on with the browser pixel's event id
 * and hashed user data only. Also: the cookies read in Chromium and fbc composed from fbclid.
 */
import { expect, test } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCollector, type Collector } from '../collector/http';
import { checkPlan } from '../collector/plan';
import { startStandIns, type StandIns } from '../collector/forward/stand-ins';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const EMAIL = 'Jane.Doe@Example.com';
const PHONE = '+1 (616) 954-7888';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Lead</title>
<script src="/v-gtag-snippet.js"></script>
<script src="/v-meta-pixel.js"></script>
<script>
  window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
  microconv('init', { endpoint: '/collect', adapters: ['endpoint', 'gtag', 'meta'], meta: { events: 'standard' }, batch: { intervalMs: 200 } });
</script>
<script async src="/dist/microconv.js"></script></head><body><h1>Lead</h1></body></html>`;

let standIns: StandIns;
let collector: Collector;
let server: Server;
let origin: string;
let folder: string;
/** Every request body the collector received, as text. */
let bodies: string[];

test.beforeEach(async () => {
  bodies = [];
  standIns = await startStandIns();
  folder = await mkdtemp(join(tmpdir(), 'mc-server-side-'));
  const { meta, googleAds, ga4 } = standIns.credentials;
  collector = createCollector({
    database: join(folder, 'db.duckdb'),
    rateLimit: false,
    plan: checkPlan({ macro: ['generate_lead'] }),
    forward: {
      meta: { pixelId: meta.pixelId, accessToken: meta.accessToken, baseUrl: standIns.url, events: 'standard' },
      googleAds: {
        customerId: googleAds.customerId,
        developerToken: googleAds.developerToken,
        loginCustomerId: googleAds.loginCustomerId,
        oauth: { clientId: googleAds.clientId, clientSecret: googleAds.clientSecret, refreshToken: googleAds.refreshToken, tokenUrl: `${standIns.url}/token` },
        conversions: { generate_lead: { action: '1001' } },
        baseUrl: standIns.url,
      },
      ga4: { measurementId: ga4.measurementId, apiSecret: ga4.apiSecret, baseUrl: standIns.url },
    },
  });
  await collector.forwarder!.ready;
  server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === '/collect') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => bodies.push(Buffer.concat(chunks).toString()));
      // The collector reads the body itself: a second listener only watches it go by.
      return collector(request, response);
    }
    const file = path === '/' ? null : path.startsWith('/dist/') ? join(ROOT, path) : join(ROOT, 'e2e', 'pages', path);
    const body = file ? await readFile(file).catch(() => null) : PAGE;
    response.writeHead(body === null ? 404 : 200, { 'Content-Type': file ? 'text/javascript' : 'text/html' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterEach(async () => {
  // The page is still open here, and its keep-alive connections would hold close() until the test times out.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await collector.close();
  await standIns.close();
  await rm(folder, { recursive: true, force: true });
});

test('a generate_lead after identify() reaches Meta, Google Ads and GA4 with the pixel call`s event id and hashed user data only', async ({ page }) => {
  await page.context().addCookies([
    { name: '_fbp', value: 'fb.1.1596403881668.1116446470', url: origin },
    { name: '_ga', value: 'GA1.1.1234567890.1700000000', url: origin },
  ]);
  await page.goto(`${origin}/?gclid=Cj0KCQjwTEST&fbclid=IwAR2abc`);
  await page.waitForFunction(() => (window as any).microconv?.loaded);
  const id: string = await page.evaluate(
    ([email, phone]) => {
      const mc = (window as any).microconv;
      mc.identify({ user_id: 'u-42', email, phone });
      return mc.track('generate_lead', { value: 10, currency: 'EUR' });
    },
    [EMAIL, PHONE],
  );
  expect(id).toMatch(/^[0-9a-f-]{36}$/);

  // The browser's pixel calls carry the id: fbq eventID, gtag event_id.
  await expect.poll(() => page.evaluate(() => JSON.stringify((window as any).fbq.queue))).toContain(id);
  const fbq = await page.evaluate(() => (window as any).fbq.queue.map((call: IArguments) => Array.from(call)));
  expect(fbq).toContainEqual(['track', 'Lead', { value: 10, currency: 'EUR' }, { eventID: id }]);
  const gtag = await page.evaluate(() => (window as any).dataLayer.map((call: IArguments) => Array.from(call)));
  expect(gtag).toContainEqual(['event', 'generate_lead', expect.objectContaining({ event_id: id })]);

  // The collector forwards it; the stand-ins accept it under the same id.
  await expect.poll(() => ['meta', 'google_ads', 'ga4'].map((name) => standIns.accepted[name as 'meta'].get(id) ?? 0), { timeout: 20_000 }).toEqual([1, 1, 1]);
  expect(standIns.problems).toEqual([]);

  const metaBody = standIns.requests.find((request) => request.destination === 'meta')!.body as { data: any[] };
  const [lead] = metaBody.data;
  expect(lead).toMatchObject({ event_name: 'Lead', event_id: id, action_source: 'website' });
  expect(lead.user_data).toMatchObject({
    em: [sha('jane.doe@example.com')],
    ph: [sha('16169547888')],
    fbp: 'fb.1.1596403881668.1116446470',
    fbc: expect.stringMatching(/^fb\.1\.\d{13}\.IwAR2abc$/),
  });
  const ga4Body = standIns.requests.find((request) => request.destination === 'ga4')!.body as { client_id: string; events: any[] };
  expect(ga4Body.client_id).toBe('1234567890.1700000000');
  expect(ga4Body.events[0].params.event_id).toBe(id);
  const adsBody = standIns.requests.find((request) => request.destination === 'google_ads')!.body as { conversions: any[] };
  expect(adsBody.conversions[0]).toMatchObject({ gclid: 'Cj0KCQjwTEST', orderId: id });

  // No raw address or number anywhere: not from the browser, not to any platform.
  const everything = JSON.stringify([bodies, standIns.requests, fbq, gtag]);
  for (const raw of ['jane.doe', 'Jane.Doe', '6169547888', '954-7888']) expect(everything).not.toContain(raw);
  expect(bodies.join('')).toContain(sha('jane.doe@example.com'));
});

test('without crypto.subtle the raw values go to the first-party collector alone, which hashes them; IndexedDB never holds them', async ({ page }) => {
  // As on a page served over plain http from another host: no crypto.subtle.
  await page.addInitScript(() => Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined }));
  await page.goto(`${origin}/?fbclid=IwAR2abc`);
  await page.waitForFunction(() => (window as any).microconv?.loaded);
  const id: string = await page.evaluate(
    ([email, phone]) => {
      const mc = (window as any).microconv;
      mc.identify({ email, phone });
      return mc.track('generate_lead');
    },
    [EMAIL, PHONE],
  );
  // What IndexedDB holds while the event waits for its batch.
  const stored = await page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((db) => db.name!);
    const out: unknown[] = [];
    for (const name of names) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => Object.assign(indexedDB.open(name), { onsuccess(this: IDBOpenDBRequest) { resolve(this.result); }, onerror: reject }));
      for (const store of Array.from(db.objectStoreNames)) {
        const all = await new Promise((resolve) => (db.transaction(store).objectStore(store).getAll().onsuccess = (e) => resolve((e.target as IDBRequest).result)));
        out.push(all);
      }
      db.close();
    }
    return JSON.stringify(out);
  });
  expect(stored).toContain(id);
  expect(stored).not.toMatch(/jane|6169547888/i);

  await expect.poll(() => standIns.accepted.meta.get(id) ?? 0, { timeout: 20_000 }).toBe(1);
  // The collector got the normalised raw values and hashed them; Meta got hashes only.
  expect(bodies.join('')).toContain('jane.doe@example.com');
  const lead = (standIns.requests.find((request) => request.destination === 'meta')!.body as { data: any[] }).data[0];
  expect(lead.user_data).toMatchObject({ em: [sha('jane.doe@example.com')], ph: [sha('16169547888')] });
  const fbq = await page.evaluate(() => JSON.stringify((window as any).fbq.queue.map((call: IArguments) => Array.from(call))));
  expect(JSON.stringify([standIns.requests, fbq])).not.toMatch(/jane|6169547888/i);
});

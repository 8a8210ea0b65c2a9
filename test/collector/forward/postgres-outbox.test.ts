// @vitest-environment node
import { afterEach, expect, test, vi } from 'vitest';
import { openPostgresOutbox } from '../../../collector/forward/postgres-outbox';
import { startStandIns, type StandIns } from '../../../collector/forward/stand-ins';
import type { ForwardOptions } from '../../../collector/forward/types';
import { openPostgresStore, type PostgresStore } from '../../../collector/postgres-store';
import { describePostgres, useThrowawayPostgres } from '../support/postgres';
import { event, setup, T0, type Setup } from './support';

// Each test starts collectors, the stand-ins and PostgreSQL connections: seconds on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

const DESTINATIONS = ['meta', 'google_ads', 'ga4'] as const;
const metaOnly = (forward: ForwardOptions): ForwardOptions => ({ ...forward, googleAds: undefined, ga4: undefined });

describePostgres('the forward outbox on PostgreSQL', () => {
  const postgres = useThrowawayPostgres();
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Stand-ins on a clock moved by hand; closed after the test. */
  const standInsOn = async (clock: { now: number }): Promise<StandIns> => {
    const standIns = await startStandIns({ now: () => clock.now });
    cleanups.push(() => standIns.close());
    return standIns;
  };
  /** A collector on the PostgreSQL database at `url`, forwarding to `standIns`; `close` it to restart. */
  const collector = async (url: string, standIns: StandIns, clock: { now: number }, configure?: (forward: ForwardOptions) => ForwardOptions): Promise<Setup> => {
    const started = await setup(configure, { store: openPostgresStore(url), standIns, clock });
    let closed = false;
    cleanups.push(async () => void (closed || (await started.close())));
    return {
      ...started,
      async close() {
        closed = true;
        await started.close();
      },
    };
  };

  test('retries, consent and the report, as on DuckDB: each event reaches each stand-in once', async () => {
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const { post, forwarder, rows, running } = await collector(await postgres.database(), standIns, clock);
    standIns.script('meta', { status: 503 });
    // A GA4 client id holding U+0000, which PostgreSQL's text and jsonb cannot hold: the payload is json (the escape kept), and it arrives as sent.
    const lead = event('generate_lead', { at: T0 - 2000, ids: { ga_client_id: 'c.\u00001', user_id: 'u-1' } });
    const noAds = event('purchase', { at: T0 - 1000, consent: { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' } });
    expect(await (await post([lead, noAds])).json()).toEqual({ stored: 2, duplicates: 0, rejected: [] });
    await forwarder.flush();
    expect((await rows('meta')).map((row) => [row.status, row.attempts, row.next_attempt_at])).toEqual([
      ['pending', 1, T0 + 750],
      ['skipped', 0, T0],
    ]);
    clock.now = T0 + 750;
    await forwarder.flush();
    expect((await rows()).map((row) => [row.destination, row.status, row.payload === null])).toEqual([
      ['ga4', 'sent', true],
      ['google_ads', 'sent', true],
      ['meta', 'sent', true],
      ['ga4', 'sent', true],
      ['google_ads', 'skipped', true],
      ['meta', 'skipped', true],
    ]);
    expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
    expect([...standIns.accepted.google_ads]).toEqual([[lead.event_id, 1]]);
    expect([...standIns.accepted.ga4].sort()).toEqual([[lead.event_id, 1], [noAds.event_id, 1]].sort());
    expect(standIns.requests.find((request) => request.destination === 'ga4' && (request.body as any).client_id === 'c.\u00001')).toBeDefined();
    const report = await (await fetch(`${running.url}/report.json`)).json();
    expect(report.forwarding.destinations.map((d: any) => [d.destination, d.sent, d.skipped])).toEqual([
      ['meta', 1, 1],
      ['google_ads', 1, 1],
      ['ga4', 2, 0],
    ]);
  });

  test('two collectors on one database: a batch replayed to the other adds no row, and both sending at once send each event once', async () => {
    const url = await postgres.database();
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const [first, second] = [await collector(url, standIns, clock), await collector(url, standIns, clock)];
    const events = Array.from({ length: 40 }, (_, index) => event(index % 2 ? 'purchase' : 'generate_lead', { at: T0 - 60_000 + index * 1000, session_id: `s-${index}`, ids: { ga_client_id: `c.${index}` } }));
    // The same batches through both collectors at once, as a load balancer hands a retry to another.
    await Promise.all([first.post(events), second.post(events), first.post(events.slice(20)), second.post(events.slice(0, 20))]);
    expect(await first.rows()).toHaveLength(120);
    await Promise.all([first.forwarder.flush(), second.forwarder.flush(), first.forwarder.flush(), second.forwarder.flush()]);
    expect((await second.rows()).every((row) => row.status === 'sent')).toBe(true);
    for (const destination of DESTINATIONS) {
      expect(standIns.accepted[destination].size, destination).toBe(40);
      expect([...standIns.accepted[destination].values()].every((count) => count === 1), destination).toBe(true);
    }
  });

  test('claims at the same moment take different rows (SKIP LOCKED), and a claimed row is not due again while its lease holds', async () => {
    const url = await postgres.database();
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const { post } = await collector(url, standIns, clock, metaOnly);
    await post(Array.from({ length: 30 }, (_, index) => event('generate_lead', { at: T0 - 60_000 + index * 1000 })));
    const stores: PostgresStore[] = [];
    for (let i = 0; i < 3; i++) stores.push(await openPostgresStore(url));
    cleanups.push(async () => void (await Promise.all(stores.map((store) => store.close()))));
    const outboxes = await Promise.all(stores.map(openPostgresOutbox));
    const claimed = (await Promise.all([...outboxes, ...outboxes].map((outbox) => outbox.claim(T0, 5, T0 + 60_000)))).flat();
    expect(claimed).toHaveLength(30);
    expect(new Set(claimed.map((row) => row.event_id)).size).toBe(30);
    expect(await outboxes[0]!.claim(T0 + 59_999, 100, T0 + 119_999)).toEqual([]);
    expect(await outboxes[1]!.claim(T0 + 60_000, 100, T0 + 120_000)).toHaveLength(30);
  });

  test('a restart while events wait to be retried loses none and sends none twice', async () => {
    const url = await postgres.database();
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const first = await collector(url, standIns, clock);
    const down = { status: 503, body: { error: { message: 'unavailable' } } };
    for (const destination of DESTINATIONS) standIns.script(destination, down, down);
    const events = Array.from({ length: 5 }, (_, index) => event('generate_lead', { at: T0 - 10_000 + index * 1000 }));
    await first.post(events);
    await first.forwarder.flush();
    expect((await first.rows()).every((row) => row.status === 'pending' && row.attempts === 1)).toBe(true);
    await first.close();

    clock.now += 60_000;
    const second = await collector(url, standIns, clock);
    await second.forwarder.flush();
    expect((await second.rows()).every((row) => row.status === 'pending' && row.attempts === 2)).toBe(true);
    clock.now += 60_000;
    await second.forwarder.flush();
    expect((await second.rows()).map((row) => row.status)).toEqual(Array(15).fill('sent'));
    for (const destination of DESTINATIONS) {
      expect([...standIns.accepted[destination].keys()].sort()).toEqual(events.map((e) => e.event_id).sort());
      expect([...standIns.accepted[destination].values()]).toEqual([1, 1, 1, 1, 1]);
    }
  });

  test("rows a crashed collector had claimed wait out their lease (another collector may be sending them), then go once", async () => {
    const url = await postgres.database();
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const first = await collector(url, standIns, clock, metaOnly);
    const lead = event('generate_lead');
    await first.post([lead]);
    // The collector takes the row and dies before any answer.
    expect(await first.outbox.claim(clock.now, 10, clock.now + 120_000)).toHaveLength(1);
    await first.close();
    const second = await collector(url, standIns, clock, metaOnly);
    await second.forwarder.flush();
    expect(standIns.count('meta')).toBe(0);
    clock.now += 120_000;
    await second.forwarder.flush();
    expect(await second.rows('meta')).toMatchObject([{ status: 'sent' }]);
    expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
  });

  test('failed rows are queued again on request; the Google Ads upload file lists its rows', async () => {
    const clock = { now: T0 };
    const standIns = await standInsOn(clock);
    const { post, forwarder, outbox, rows } = await collector(await postgres.database(), standIns, clock, (forward) => ({
      meta: forward.meta,
      googleAds: { ...forward.googleAds!, delivery: 'file' },
      autoSend: false,
    }));
    standIns.script('meta', { status: 400, body: { error: { message: 'Invalid parameter', code: 100 } } });
    const lead = event('generate_lead');
    await post([lead]);
    await forwarder.flush();
    expect((await rows()).map((row) => [row.destination, row.status])).toEqual([
      ['google_ads', 'file'],
      ['meta', 'failed'],
    ]);
    expect(await forwarder.googleAdsFile()).toContain(`${lead.attribution.gclid},Demo request,`);
    expect(await outbox.requeueFailed('meta', clock.now)).toBe(1);
    await forwarder.flush();
    expect((await rows('meta')).map((row) => row.status)).toEqual(['sent']);
    expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
  });
});

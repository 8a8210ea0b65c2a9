// @vitest-environment node
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { openDuckDBStore } from '../../../collector/duckdb-store';
import { sha256Hex } from '../../../collector/forward/hash';
import { startStandIns } from '../../../collector/forward/stand-ins';
import { UnstorableEventsError } from '../../../collector/store';
import type { ForwardOptions } from '../../../collector/forward/types';
import { bodies, event, setup, T0, type Setup } from './support';

// Each test starts a collector and the stand-ins, on DuckDB: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 30_000 });

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});
const start = async (...args: Parameters<typeof setup>) => (current = await setup(...args));
const metaOnly = (forward: ForwardOptions): ForwardOptions => ({ ...forward, googleAds: undefined, ga4: undefined });

describe('retries and failures', () => {
  test('a 400 with details fails for good, its reason kept, and is never sent again', async () => {
    const { post, forwarder, standIns, rows, clock } = await start(metaOnly);
    standIns.script('meta', {
      status: 400,
      body: { error: { message: 'Invalid parameter', type: 'OAuthException', code: 100, error_subcode: 2804019, error_user_msg: 'The event_source_url is not a valid URL.', fbtrace_id: 'A1' } },
    });
    await post([event('generate_lead')]);
    await forwarder.flush();
    expect(await rows('meta')).toMatchObject([{ status: 'failed', attempts: 0, error: 'http_400: The event_source_url is not a valid URL. (OAuthException code 100 subcode 2804019)' }]);
    clock.now += 24 * 3_600_000;
    await forwarder.flush();
    expect(standIns.count('meta')).toBe(1);
    const counts = (await (await forwarder.outbox).counts()).find((count) => count.destination === 'meta')!;
    expect(counts).toMatchObject({ failed: 1, failures: [{ reason: 'http_400: The event_source_url is not a valid URL. (OAuthException code 100 subcode 2804019)', count: 1 }] });
  });

  test('a 429 waits as long as Retry-After says, then the event is sent once', async () => {
    const { post, forwarder, standIns, rows, clock } = await start(metaOnly);
    standIns.script('meta', { status: 429, headers: { 'Retry-After': '120' }, body: { error: { message: 'Too many calls', code: 80004 } } });
    const lead = event('generate_lead');
    await post([lead]);
    await forwarder.flush();
    expect(await rows('meta')).toMatchObject([{ status: 'pending', attempts: 1, next_attempt_at: T0 + 120_000, error: expect.stringMatching(/^http_429: Too many calls/) }]);
    clock.now = T0 + 119_999;
    await forwarder.flush();
    expect(standIns.count('meta')).toBe(1);
    clock.now = T0 + 120_000;
    await forwarder.flush();
    expect(await rows('meta')).toMatchObject([{ status: 'sent' }]);
    expect(standIns.count('meta')).toBe(2);
    expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
  });

  test('5xx and network errors are retried with growing waits; the event is sent once', async () => {
    const { post, forwarder, standIns, rows, clock } = await start(metaOnly);
    standIns.script('meta', { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } }, { hangUp: true }, { status: 500 });
    const lead = event('generate_lead');
    await post([lead]);
    // Backoff base 1 s, jitter fixed at 0.5: waits of 0.75 s, 1.5 s, 3 s.
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await forwarder.flush();
      const [row] = await rows('meta');
      expect(row).toMatchObject({ status: 'pending', attempts: attempt });
      waits.push(Number(row!.next_attempt_at) - clock.now);
      clock.now = Number(row!.next_attempt_at);
    }
    expect(waits).toEqual([750, 1500, 3000]);
    await forwarder.flush();
    expect(await rows('meta')).toMatchObject([{ status: 'sent' }]);
    expect(standIns.requests.map((request) => request.status)).toEqual([503, 0, 500, 200]);
    expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
  });

  test('a refused batch is resent event by event: only the event refused on its own fails', async () => {
    const { post, forwarder, standIns, rows } = await start(metaOnly);
    const events = [event('generate_lead', { at: T0 - 3000 }), event('generate_lead', { at: T0 - 2000 }), event('generate_lead', { at: T0 - 1000 })];
    const refusal = { status: 400, body: { error: { message: 'Invalid parameter', code: 100, error_subcode: 2804003 } } };
    standIns.script('meta', refusal, { pass: true }, refusal, { pass: true });
    await post(events);
    await forwarder.flush();
    expect(bodies(standIns, 'meta').map((body) => body.data.length)).toEqual([3, 1, 1, 1]);
    expect((await rows('meta')).map((row) => row.status)).toEqual(['sent', 'failed', 'sent']);
    expect([...standIns.accepted.meta.keys()]).toEqual([events[0]!.event_id, events[2]!.event_id]);
  });

  test('an event older than its platform accepts fails as expired instead of retrying', async () => {
    const { post, forwarder, standIns, rows } = await start();
    await post([event('generate_lead', { at: T0 - 4 * 86_400_000 })]);
    await forwarder.flush();
    const byDestination = Object.fromEntries((await rows()).map((row) => [row.destination, [row.status, row.error]]));
    expect(byDestination).toEqual({
      meta: ['sent', null],
      google_ads: ['sent', null],
      ga4: ['failed', 'expired: older than 3 days, which ga4 refuses'],
    });
    expect(standIns.count('ga4')).toBe(0);
  });
});

describe('consent', () => {
  test('no ad destination without the ad purposes the event was tracked with; GA4 needs analytics_storage', async () => {
    const { post, forwarder, standIns, rows } = await start();
    const noRecord = event('generate_lead', { at: T0 - 4000, consent: undefined });
    const noAdUserData = event('generate_lead', { at: T0 - 3000, consent: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' } });
    const pendingPersonalisation = event('generate_lead', { at: T0 - 2000, consent: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'pending' } });
    const noAnalytics = event('generate_lead', { at: T0 - 1000, consent: { analytics_storage: 'denied', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' } });
    await post([noRecord, noAdUserData, pendingPersonalisation, noAnalytics]);
    await forwarder.flush();
    const status = async (destination: string) => (await rows(destination)).map((row) => [row.status, row.error]);
    expect(await status('meta')).toEqual([
      ['skipped', 'consent: ad_storage not recorded'],
      ['skipped', 'consent: ad_user_data denied'],
      ['skipped', 'consent: ad_personalization pending'],
      ['sent', null],
    ]);
    expect(await status('google_ads')).toEqual([
      ['skipped', 'consent: ad_storage not recorded'],
      ['skipped', 'consent: ad_user_data denied'],
      ['sent', null],
      ['sent', null],
    ]);
    expect(await status('ga4')).toEqual([
      ['sent', null],
      ['sent', null],
      ['sent', null],
      ['skipped', 'consent: analytics_storage denied'],
    ]);
    expect([...standIns.accepted.meta.keys()]).toEqual([noAnalytics.event_id]);
    expect(bodies(standIns, 'ga4').map((body) => body.consent)).toEqual([
      { ad_user_data: 'DENIED', ad_personalization: 'DENIED' },
      { ad_user_data: 'DENIED', ad_personalization: 'GRANTED' },
      { ad_user_data: 'GRANTED', ad_personalization: 'DENIED' },
    ]);
  });
});

describe('at most once, and nothing lost', () => {
  test('a replayed batch adds nothing: every event reaches every stand-in once', async () => {
    const { post, forwarder, standIns, rows } = await start();
    const events = Array.from({ length: 6 }, (_, index) => event(index % 2 ? 'purchase' : 'generate_lead', { at: T0 - 10_000 + index * 1000, session_id: `s-${index}`, ids: { ga_client_id: `c.${index}` } }));
    await Promise.all([post(events), post(events), post(events.slice(2))]);
    await forwarder.flush();
    await post(events);
    await forwarder.flush();
    expect(await rows()).toHaveLength(18);
    for (const destination of ['meta', 'google_ads', 'ga4'] as const) {
      expect(standIns.accepted[destination].size).toBe(6);
      expect([...standIns.accepted[destination].values()].every((count) => count === 1)).toBe(true);
    }
  });

  test('a restart while events wait to be retried loses none and sends none twice', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'microconv-forward-'));
    const database = join(directory, 'collector.duckdb');
    const standIns = await startStandIns({ now: () => clock.now });
    const clock = { now: T0 };
    try {
      const first = await setup(undefined, { database, standIns, clock });
      const down = { status: 503, body: { error: { message: 'unavailable' } } };
      // One request per destination before the restart and one after: both refused.
      for (const destination of ['meta', 'google_ads', 'ga4'] as const) standIns.script(destination, down, down);
      const events = Array.from({ length: 5 }, (_, index) => event('generate_lead', { at: T0 - 10_000 + index * 1000 }));
      await first.post(events);
      await first.forwarder.flush();
      expect((await first.rows()).every((row) => row.status === 'pending' && row.attempts === 1)).toBe(true);
      await first.close();

      clock.now += 60_000;
      const second = await setup(undefined, { database, standIns, clock });
      try {
        await second.forwarder.flush();
        expect((await second.rows()).every((row) => row.status === 'pending' && row.attempts === 2)).toBe(true);
        clock.now += 60_000;
        await second.forwarder.flush();
        expect((await second.rows()).map((row) => row.status)).toEqual(Array(15).fill('sent'));
      } finally {
        await second.close();
      }
      for (const destination of ['meta', 'google_ads', 'ga4'] as const) {
        expect([...standIns.accepted[destination].keys()].sort()).toEqual(events.map((e) => e.event_id).sort());
        expect([...standIns.accepted[destination].values()]).toEqual([1, 1, 1, 1, 1]);
      }
    } finally {
      await standIns.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('rows a crashed process had claimed are claimed again after the restart', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'microconv-forward-'));
    const database = join(directory, 'collector.duckdb');
    const clock = { now: T0 };
    const standIns = await startStandIns({ now: () => clock.now });
    try {
      const first = await setup(metaOnly, { database, standIns, clock });
      const lead = event('generate_lead');
      await first.post([lead]);
      // The process takes the row and dies before any answer: its lease would keep it for minutes.
      expect(await first.outbox.claim(clock.now, 10, clock.now + 120_000)).toHaveLength(1);
      expect(await first.outbox.claim(clock.now, 10, clock.now + 120_000)).toHaveLength(0);
      await first.close();
      const second = await setup(metaOnly, { database, standIns, clock });
      try {
        await second.forwarder.flush();
        expect(await second.rows('meta')).toMatchObject([{ status: 'sent' }]);
      } finally {
        await second.close();
      }
      expect([...standIns.accepted.meta]).toEqual([[lead.event_id, 1]]);
    } finally {
      await standIns.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('a pass starts no request once its lease is nearly over: the rows left wait for the lease to end, then go once', async () => {
    const clock = { now: T0 };
    // Each request takes 1.5 s of the collector's clock; the lease is 4 request timeouts (4 s), and a
    // request starts only while two timeouts (2 s) of it are left.
    const slow: typeof fetch = async (input, init) => {
      clock.now += 1500;
      return fetch(input, init);
    };
    const { post, forwarder, standIns, rows } = await start((forward) => ({ ga4: forward.ga4, autoSend: false, timeoutMs: 1000, fetch: slow }), { clock });
    // Three GA4 clients: three requests.
    const events = [0, 1, 2].map((index) => event('generate_lead', { at: T0 - 3000 + index * 1000, ids: { ga_client_id: `c.${index}` } }));
    await post(events);
    await forwarder.flush();
    expect((await rows()).map((row) => [row.status, row.attempts])).toEqual([
      ['sent', 0],
      ['sent', 0],
      ['pending', 0],
    ]);
    expect(standIns.count('ga4')).toBe(2);
    clock.now = T0 + 3999;
    await forwarder.flush();
    expect(standIns.count('ga4')).toBe(2);
    clock.now = T0 + 4000;
    await forwarder.flush();
    expect((await rows()).map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
    expect([...standIns.accepted.ga4.values()]).toEqual([1, 1, 1]);
  });

  test('a lease runs from the moment of its claim, not from the start of the flush: each request starts with two timeouts of it left', async () => {
    const clock = { now: T0 };
    // Each request notes how long the lease of the row it carries has left, then takes 1.5 s.
    const leftAtStart: number[] = [];
    let leaseLeft = async (): Promise<number> => NaN;
    const slow: typeof fetch = async (input, init) => {
      leftAtStart.push(await leaseLeft());
      clock.now += 1500;
      return fetch(input, init);
    };
    const { post, forwarder, standIns, rows, outbox, store } = await start((forward) => ({ ga4: forward.ga4, autoSend: false, timeoutMs: 1000, fetch: slow }), { clock });
    leaseLeft = async () => {
      const [leased] = await store.query(`SELECT lease_until FROM forward_outbox WHERE status = 'pending' AND lease_until IS NOT NULL`);
      return Number(leased!.lease_until) - clock.now;
    };
    // One row per claim, as when a flush finds more due rows than one claim takes: later claims come
    // seconds after the flush began.
    const claim = outbox.claim.bind(outbox);
    outbox.claim = (dueBy, _limit, lease) => claim(dueBy, 1, lease);
    await post([0, 1, 2].map((index) => event('generate_lead', { at: T0 - 3000 + index * 1000, ids: { ga_client_id: `c.${index}` } })));
    await forwarder.flush();
    expect(leftAtStart).toEqual([4000, 4000, 4000]);
    expect((await rows()).map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
    expect([...standIns.accepted.ga4.values()]).toEqual([1, 1, 1]);
  });

  test('by default a timer loop sends, and retries when the wait is over', async () => {
    const clock = {
      get now() {
        return Date.now();
      },
    };
    const { post, standIns } = await start((forward) => ({ ...metaOnly(forward), autoSend: true, backoff: { baseMs: 20, capMs: 100 } }), { clock });
    standIns.script('meta', { status: 503 });
    const lead = event('generate_lead', { at: Date.now() - 1000 });
    await post([lead]);
    await vi.waitFor(() => expect(standIns.accepted.meta.get(lead.event_id)).toBe(1), { timeout: 10_000, interval: 20 });
    expect(standIns.requests.map((request) => request.status)).toEqual([503, 200]);
  });
});

describe('what POST /collect puts in the outbox', () => {
  test('the events stored, now or before, never a rejected one: refused by the schema or by the store', async () => {
    const duck = await openDuckDBStore(':memory:');
    const unstorable = event('generate_lead', { at: T0 - 1000 });
    // A store that cannot keep one event (its database refuses the content) and stores the others.
    const store = {
      ...duck,
      async insert(events: Parameters<typeof duck.insert>[0], at: number) {
        const others = events.filter((one) => one.event_id !== unstorable.event_id);
        const stored = await duck.insert(others, at);
        if (others.length === events.length) return stored;
        throw new UnstorableEventsError(stored, [{ event_id: unstorable.event_id, problem: 'cannot be stored: test' }]);
      },
    };
    const { post, forwarder, standIns, rows, errors } = await start(undefined, { store });
    const first = event('generate_lead', { at: T0 - 3000 });
    const second = event('purchase', { at: T0 - 2000 });
    const badTs = { ...event('generate_lead'), ts: 'yesterday' } as never;
    const answer = await post([first, badTs, unstorable, second]);
    expect(await answer.json()).toEqual({
      stored: 2,
      duplicates: 0,
      rejected: [
        { event_id: expect.any(String), index: 1, problems: ['ts: expected a number (epoch milliseconds), got string'] },
        { event_id: unstorable.event_id, index: 2, problems: ['cannot be stored: test'] },
      ],
    });
    expect(errors.splice(0)).toEqual([expect.any(UnstorableEventsError)]);
    const enqueued = async () => [...new Set((await rows()).map((row) => row.event_id))];
    expect(await enqueued()).toEqual([first.event_id, second.event_id]);
    // A replay: the events are duplicates now, and enqueued again adds no row.
    expect(await (await post([first, second])).json()).toEqual({ stored: 0, duplicates: 2, rejected: [] });
    expect(await rows()).toHaveLength(6);
    await forwarder.flush();
    for (const destination of ['meta', 'google_ads', 'ga4'] as const) expect([...standIns.accepted[destination]]).toEqual([[first.event_id, 1], [second.event_id, 1]]);
  });

  test('a server conversion with only the required fields is forwarded where it can go, and answered 200', async () => {
    const { post, forwarder, standIns, rows } = await start();
    // Nothing but the four required fields, the consent and the ids: no page, no params, no attribution.
    const lead = { event_id: event('x').event_id, name: 'generate_lead', ts: T0 - 1000, session_id: 's-9', consent: 'granted', ids: { email: 'Lead@Example.com', ga_client_id: '1.2' } };
    expect(await (await post([lead as never])).json()).toEqual({ stored: 1, duplicates: 0, rejected: [] });
    await forwarder.flush();
    expect((await rows()).map((row) => [row.destination, row.status, row.error])).toEqual([
      ['ga4', 'sent', null],
      ['google_ads', 'sent', null],
      ['meta', 'skipped', 'no page URL (Meta requires event_source_url for website events)'],
    ]);
    expect(bodies(standIns, 'google_ads')[0].conversions[0]).toMatchObject({ orderId: lead.event_id, userIdentifiers: [{ hashedEmail: sha256Hex('lead@example.com') }] });
    expect(standIns.problems).toEqual([]);
  });

  test('an outbox that cannot take the events answers 503; the retry, a duplicate by then, enqueues them', async () => {
    const { post, forwarder, outbox, standIns, errors } = await start();
    const add = outbox.add;
    outbox.add = async () => {
      throw new Error('disk full');
    };
    const lead = event('generate_lead');
    const failed = await post([lead]);
    expect([failed.status, await failed.json(), failed.headers.get('retry-after')]).toEqual([503, { error: 'storage_unavailable' }, '5']);
    expect(errors.splice(0).map((error) => (error as Error).message)).toEqual(['disk full']);
    outbox.add = add;
    expect(await (await post([lead])).json()).toEqual({ stored: 0, duplicates: 1, rejected: [] });
    await forwarder.flush();
    for (const destination of ['meta', 'google_ads', 'ga4'] as const) expect([...standIns.accepted[destination]]).toEqual([[lead.event_id, 1]]);
  });

  test('a destination that cannot build an item for an event skips it with the reason: no 503 for what can never go', async () => {
    const { post, forwarder, rows, errors } = await start();
    forwarder.destinations.get('meta')!.build = () => {
      throw new TypeError('unexpected shape');
    };
    const lead = event('generate_lead');
    expect((await post([lead])).status).toBe(200);
    expect(errors.splice(0).map((error) => (error as Error).message)).toEqual(['unexpected shape']);
    expect((await rows('meta')).map((row) => [row.status, row.error])).toEqual([['skipped', 'could not be built: unexpected shape']]);
    expect((await rows()).filter((row) => row.destination !== 'meta').map((row) => row.status)).toEqual(['pending', 'pending']);
  });
});

describe('dry run', () => {
  test('prints each request that would be sent, secrets masked, and sends nothing', async () => {
    const printed: string[] = [];
    const { post, forwarder, standIns, rows } = await start((forward) => ({ ...forward, dryRun: true, print: (line) => printed.push(line) }));
    const lead = event('generate_lead');
    await post([lead]);
    await forwarder.flush();
    expect(standIns.requests).toEqual([]);
    expect((await rows()).map((row) => row.status)).toEqual(['dry_run', 'dry_run', 'dry_run']);
    const text = printed.join('\n');
    expect(text).toContain(`[dry run] meta: POST ${standIns.url}/v22.0/${standIns.credentials.meta.pixelId}/events?access_token=***`);
    expect(text).toContain(`[dry run] ga4: POST ${standIns.url}/mp/collect?measurement_id=G-TEST123&api_secret=***`);
    expect(text).toContain('"developer-token":"***","Authorization":"Bearer ***"');
    expect(text).toContain(lead.event_id);
    for (const secret of [standIns.credentials.meta.accessToken, standIns.credentials.ga4.apiSecret, standIns.credentials.googleAds.developerToken]) expect(text).not.toContain(secret);
    const report = await (await fetch(`${current!.running.url}/report.json`)).json();
    expect(report.forwarding.destinations.map((d: any) => [d.destination, d.mode, d.dry_run])).toEqual([
      ['meta', 'dry_run', 1],
      ['google_ads', 'dry_run', 1],
      ['ga4', 'dry_run', 1],
    ]);
  });
});

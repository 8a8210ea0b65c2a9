// @vitest-environment node
/**
 * `GET /forwarding` (issue 12, item 5): what the gate decides now, per event name and destination,
 * with the reason, for the debug overlay; the same decisions `enqueue` acts on.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/http';
import type { CollectedEvent } from '../../../collector/store';
import { askedNames, MAX_PREVIEW_NAMES } from '../../../collector/forward/preview';
import { event, PLAN, setup, T0, type Setup } from './support';

// Each test starts a collector and the stand-ins, on DuckDB: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 30_000 });

/** 400 sessions: those with cta_click convert far more often; every session scrolls, so scroll_depth cannot be judged. */
function history(): CollectedEvent[] {
  return Array.from({ length: 400 }, (_, i) => {
    const at = T0 - 3_600_000 + i * 1000;
    const withCta = i % 2 === 0;
    const converted = withCta ? i % 10 < 6 : i % 20 === 1;
    const base = { session_id: `h-${i}`, consent: undefined, ids: null };
    return [event('scroll_depth', { ...base, at }), ...(withCta ? [event('cta_click', { ...base, at: at + 1 })] : []), ...(converted ? [event('generate_lead', { ...base, at: at + 2 })] : [])];
  }).flat() as CollectedEvent[];
}

/** An event's decisions as `destination: yes|no (why)` lines, to read a failure at a glance. */
const lines = (decisions: Array<{ destination: string; forwarded: boolean; why: string }>) => decisions.map((d) => `${d.destination}: ${d.forwarded ? 'yes' : 'no'} (${d.why})`);

describe('GET /forwarding', () => {
  let current: Setup | undefined;
  let plain: RunningCollector | undefined;
  afterEach(async () => {
    await current?.close();
    await plain?.close();
    current = plain = undefined;
  });

  test('the default gate: macro conversions and signals associated with more conversion, each with its reason; the same decisions enqueue acts on', async () => {
    current = await setup((forward) => ({ ...forward, meta: { ...forward.meta!, send: 'validated' }, googleAds: undefined, ga4: { ...forward.ga4!, send: 'validated' }, gateRefreshMs: 3_600_000 }));
    const { running, store, forwarder, post, rows } = current;
    await store.insert(history(), T0);
    await forwarder.refreshGate();

    const response = await fetch(`${running.url}/forwarding?name=never_seen`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const answer = await response.json();
    expect(answer).toMatchObject({ forwarding: true, dryRun: false, testMode: false });
    expect(answer.destinations).toEqual([
      { destination: 'meta', label: 'Meta', mode: 'live', consent: ['ad_storage', 'ad_user_data', 'ad_personalization'] },
      { destination: 'ga4', label: 'GA4', mode: 'live', consent: ['analytics_storage'] },
    ]);
    // Every name the plan and the report know, and the one asked about.
    expect(Object.keys(answer.events).sort()).toEqual(['cta_click', 'generate_lead', 'never_seen', 'purchase', 'scroll_depth']);
    expect(lines(answer.events.generate_lead)).toEqual(['meta: yes (macro conversion)', 'ga4: yes (macro conversion)']);
    expect(lines(answer.events.cta_click)).toEqual(['meta: yes (associated with more conversion)', 'ga4: yes (associated with more conversion)']);
    expect(lines(answer.events.scroll_depth)).toEqual(['meta: no (not enough data yet to tell)', 'ga4: no (not enough data yet to tell)']);
    expect(lines(answer.events.never_seen)).toEqual(['meta: no (no verdict yet: not in the report)', 'ga4: no (no verdict yet: not in the report)']);

    // What the preview says is what the forwarder does with the next events of those names.
    await post(['generate_lead', 'cta_click', 'scroll_depth', 'never_seen'].map((name) => event(name, { at: T0 - 500 })));
    const queued = (await rows()).map((row) => `${row.destination}: ${row.event_name} (${row.why})`).sort();
    const previewed = Object.entries(answer.events as Record<string, Array<{ destination: string; forwarded: boolean; why: string }>>)
      .filter(([name]) => name !== 'purchase')
      .flatMap(([name, decisions]) => decisions.filter((d) => d.forwarded).map((d) => `${d.destination}: ${name} (${d.why})`))
      .sort();
    expect(queued).toEqual(previewed);
    expect(queued).toHaveLength(4);
  });

  test('"all" and a send list per destination; a destination\'s own limits first; test mode and dry run are said', async () => {
    current = await setup((forward) => ({
      ...forward,
      meta: { ...forward.meta!, send: 'all', testEventCode: 'TEST123' },
      googleAds: { ...forward.googleAds!, send: 'all' },
      ga4: { ...forward.ga4!, send: ['scroll_depth', 'video_progress'] },
    }));
    const answer = await (await fetch(`${current.running.url}/forwarding?name=cta_click,page_view&name=NOT%20A%20NAME`)).json();
    expect(answer).toMatchObject({ dryRun: false, testMode: true });
    expect(answer.destinations.map((d: { destination: string; mode: string }) => `${d.destination} ${d.mode}`)).toEqual(['meta test', 'google_ads live', 'ga4 live']);
    // The send list's names are known too; a name that is not an event name is not looked at.
    expect(Object.keys(answer.events).sort()).toEqual(['cta_click', 'generate_lead', 'page_view', 'purchase', 'scroll_depth', 'video_progress']);
    expect(lines(answer.events.page_view)).toEqual([
      'meta: yes (send: all)',
      'google_ads: no (no conversion action for it in forward.googleAds.conversions)',
      'ga4: no (GA4 reserves the event name page_view)',
    ]);
    expect(lines(answer.events.scroll_depth)).toEqual(['meta: yes (send: all)', 'google_ads: no (no conversion action for it in forward.googleAds.conversions)', 'ga4: yes (in the send list)']);
    expect(lines(answer.events.cta_click)).toEqual(['meta: yes (send: all)', 'google_ads: yes (send: all)', 'ga4: no (not in the send list)']);

    await current.close();
    current = await setup((forward) => ({ ...forward, dryRun: true, print: () => undefined }));
    const dry = await (await fetch(`${current.running.url}/forwarding`)).json();
    expect(dry.dryRun).toBe(true);
    expect(dry.destinations.map((d: { mode: string }) => d.mode)).toEqual(['dry_run', 'dry_run', 'dry_run']);
  });

  test('CORS as for /collect: a configured origin may read it, another may not; GET and HEAD only', async () => {
    current = await setup((forward) => forward, { allowedOrigins: ['https://tally.example'] });
    const url = `${current.running.url}/forwarding`;
    const allowed = await fetch(url, { headers: { Origin: 'https://tally.example' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://tally.example');
    const other = await fetch(url, { headers: { Origin: 'https://elsewhere.example' } });
    expect([other.status, other.headers.get('access-control-allow-origin'), (await other.json()).error]).toEqual([403, null, 'origin_not_allowed']);
    // Same origin (and no Origin at all) needs no entry.
    expect((await fetch(url, { headers: { Origin: current.running.url } })).status).toBe(200);
    const post = await fetch(url, { method: 'POST', body: '{}' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await fetch(url, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });

  test('without forwarding configured there is no such path: 404, as for any other', async () => {
    plain = await startCollector({ port: 0, database: ':memory:', plan: PLAN, onError: (error) => expect.fail(String(error)) });
    const response = await fetch(`${plain.url}/forwarding`);
    expect([response.status, await response.json()]).toEqual([404, { error: 'not_found' }]);
  });

  test('beside a collect path of its own', async () => {
    current = await setup((forward) => forward, { collectPath: '/mc/collect' });
    expect((await fetch(`${current.running.url}/mc/forwarding`)).status).toBe(200);
    expect((await fetch(`${current.running.url}/forwarding`)).status).toBe(404);
  });

  test('the names asked about: event names only, each once, at most MAX_PREVIEW_NAMES', () => {
    expect(askedNames(new URLSearchParams('name=a_1,b&name=a_1&name=Bad&name=&name=x'.replace('x', '1abc')))).toEqual(['a_1', 'b']);
    const many = Array.from({ length: MAX_PREVIEW_NAMES + 20 }, (_, i) => `n_${i}`).join(',');
    expect(askedNames(new URLSearchParams({ name: many }))).toHaveLength(MAX_PREVIEW_NAMES);
  });
});

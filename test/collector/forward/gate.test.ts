// @vitest-environment node
import { afterEach, describe, expect, test, vi } from 'vitest';
import { consentGap, gate } from '../../../collector/forward/gate';
import type { Report } from '../../../collector/report';
import type { CollectedEvent } from '../../../collector/store';
import { renderReportText } from '../../../collector/render-text';
import { event, setup, T0, type Setup } from './support';

// Each test starts a collector and the stand-ins, on DuckDB: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 30_000 });

const report = (signals: Array<[string, 'more' | 'less' | 'unclear']>) =>
  ({ macro: ['generate_lead'], signals: signals.map(([signal, verdict]) => ({ signal, verdict })) }) as unknown as Pick<Report, 'macro' | 'signals'>;

describe('gate', () => {
  const verdicts = report([
    ['cta_click', 'more'],
    ['scroll_depth', 'unclear'],
    ['form_abandon', 'less'],
  ]);

  test('by default: macro conversions and signals associated with more conversion, each with its reason', () => {
    const decide = gate(verdicts);
    expect(['generate_lead', 'cta_click', 'scroll_depth', 'form_abandon', 'never_seen'].map(decide)).toEqual([
      { forwarded: true, why: 'macro conversion' },
      { forwarded: true, why: 'associated with more conversion' },
      { forwarded: false, why: 'not enough data yet to tell' },
      { forwarded: false, why: 'associated with less conversion' },
      { forwarded: false, why: 'no verdict yet: not in the report' },
    ]);
  });

  test('"all" and a list override the verdicts; a destination\'s own limits come first', () => {
    expect(gate(verdicts, 'all')('form_abandon')).toEqual({ forwarded: true, why: 'send: all' });
    const listed = gate(verdicts, ['scroll_depth']);
    expect([listed('scroll_depth'), listed('generate_lead')]).toEqual([
      { forwarded: true, why: 'in the send list' },
      { forwarded: false, why: 'not in the send list' },
    ]);
    expect(gate(verdicts, 'all', (name) => (name === 'cta_click' ? 'no conversion action' : null))('cta_click')).toEqual({ forwarded: false, why: 'no conversion action' });
  });

  test('consent: every purpose granted; analytics_storage implied for an event without a record', () => {
    const granted = event('x');
    expect(consentGap(granted, ['ad_storage', 'ad_user_data', 'ad_personalization'])).toBeNull();
    expect(consentGap({ ...granted, consent: undefined }, ['analytics_storage'])).toBeNull();
    expect(consentGap({ ...granted, consent: undefined }, ['ad_storage'])).toBe('consent: ad_storage not recorded');
    expect(consentGap({ ...granted, consent: { ...granted.consent, ad_user_data: 'pending' } }, ['ad_storage', 'ad_user_data'])).toBe('consent: ad_user_data pending');
  });
});

describe('the gate in the collector, and the report', () => {
  let current: Setup | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  /** 400 sessions: cta_click goes with far more conversion; every session scrolls, so scroll_depth cannot be judged. */
  function history() {
    return Array.from({ length: 400 }, (_, i) => {
      const at = T0 - 3_600_000 + i * 1000;
      const converted = i % 2 === 0 ? i % 10 < 6 : i % 20 === 1;
      const base = { session_id: `h-${i}`, consent: undefined, ids: null };
      return [
        event('scroll_depth', { ...base, at }),
        ...(i % 2 === 0 ? [event('cta_click', { ...base, at: at + 1 })] : []),
        ...(converted ? [event('generate_lead', { ...base, at: at + 2 })] : []),
      ];
    }).flat();
  }

  test('a micro-conversion is forwarded from the moment its verdict is "more"; the report shows where each signal goes and why', async () => {
    current = await setup((forward) => ({
      ...forward,
      meta: { ...forward.meta!, send: 'validated' },
      googleAds: { ...forward.googleAds!, send: 'all' },
      ga4: { ...forward.ga4!, send: ['scroll_depth'] },
      gateRefreshMs: 3_600_000,
    }));
    const { post, store, forwarder, rows, running } = current;
    // Before any data, only the macro conversion passes the default gate.
    const early = event('cta_click', { at: T0 - 2000 });
    await post([early]);
    expect((await rows()).map((row) => [row.destination, row.event_name, row.why])).toEqual([['google_ads', 'cta_click', 'send: all']]);

    // Consent and ids left out: the shape a store takes (`CollectedEvent`).
    await store.insert(history() as CollectedEvent[], T0);
    await forwarder.refreshGate();
    const later = [event('cta_click', { at: T0 - 1000 }), event('scroll_depth', { at: T0 - 900 }), event('generate_lead', { at: T0 - 800 })];
    await post(later);
    const added = (await rows()).filter((row) => row.event_id !== early.event_id).map((row) => [row.destination, row.event_name, row.status, row.why]);
    expect(added.sort()).toEqual(
      [
        ['meta', 'cta_click', 'pending', 'associated with more conversion'],
        ['meta', 'generate_lead', 'pending', 'macro conversion'],
        ['google_ads', 'cta_click', 'pending', 'send: all'],
        ['google_ads', 'generate_lead', 'pending', 'send: all'],
        ['ga4', 'scroll_depth', 'pending', 'in the send list'],
      ].sort(),
    );

    const json = await (await fetch(`${running.url}/report.json`)).json();
    const verdicts = Object.fromEntries(json.signals.map((signal: any) => [signal.signal, signal.verdict]));
    expect(verdicts).toEqual({ scroll_depth: 'unclear', cta_click: 'more' });
    const where = Object.fromEntries(json.forwarding.signals.map((signal: any) => [signal.signal, signal.forwarding.map((f: any) => `${f.destination}: ${f.forwarded ? 'yes' : 'no'}, ${f.why}`)]));
    expect(where).toEqual({
      generate_lead: ['meta: yes, macro conversion', 'google_ads: yes, send: all', 'ga4: no, not in the send list'],
      purchase: ['meta: yes, macro conversion', 'google_ads: yes, send: all', 'ga4: no, not in the send list'],
      scroll_depth: ['meta: no, not enough data yet to tell', 'google_ads: no, no conversion action for it in forward.googleAds.conversions', 'ga4: yes, in the send list'],
      cta_click: ['meta: yes, associated with more conversion', 'google_ads: yes, send: all', 'ga4: no, not in the send list'],
    });
    expect(json.forwarding.destinations.map((d: any) => [d.destination, d.mode, d.queued, d.consent.join('+')])).toEqual([
      ['meta', 'live', 2, 'ad_storage+ad_user_data+ad_personalization'],
      ['google_ads', 'live', 3, 'ad_storage+ad_user_data'],
      ['ga4', 'live', 1, 'analytics_storage'],
    ]);

    await forwarder.flush();
    const html = await (await fetch(`${running.url}/report`)).text();
    expect(html).toContain('<h2>Server-side forwarding</h2>');
    expect(html).toMatch(/<td><strong>cta_click<\/strong><\/td><td class="more">forwarded<br><span class="muted">associated with more conversion<\/span><\/td>/);
    expect(html).toMatch(/<tr><td>Google Ads<\/td><td class="n">3<\/td><td class="n">0<\/td><td class="n">0<\/td><td class="n">0<\/td><td class="n">0<\/td>/);
    const text = renderReportText(await (await fetch(`${running.url}/report.json`)).json());
    expect(text).toContain('Meta Conversions API (live, needs ad_storage + ad_user_data + ad_personalization): sent 2, queued 0, retrying 0, failed 0, skipped 0');
    expect(text).toContain('    cta_click: meta yes (associated with more conversion); google_ads yes (send: all); ga4 no (not in the send list)');
  });
});

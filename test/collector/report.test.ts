// @vitest-environment node
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MicroconvEvent } from '../../src/types';
import { numberOption, parse, UsageError } from '../../collector/cli';
import { openDuckDBStore, type DuckDBStore } from '../../collector/duckdb-store';
import { checkPlan, loadPlan, PlanError } from '../../collector/plan';
import { mulberry32 } from '../../collector/prng';
import { escapeHtml, renderReportHtml } from '../../collector/render-html';
import { renderReportText } from '../../collector/render-text';
import { buildReport, type Report } from '../../collector/report';

const random = mulberry32(5);
const at = (session: string, name: string, ts: number): MicroconvEvent => ({
  event_id: random.uuid(),
  name,
  ts,
  session_id: session,
  anonymous_id: null,
  page: { url: 'https://tally.example/', path: '/', title: 'Tally', referrer: '' },
  params: {},
  attribution: { utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null, gclid: null, fbclid: null, landing_page: 'https://tally.example/', referrer: '' },
});

// Five sessions, small enough to count by hand.
//   s1: cta_click, generate_lead, then scroll_depth (after converting: does not count)
//   s2: cta_click, scroll_depth, no conversion
//   s3: scroll_depth, generate_lead, generate_lead again
//   s4: form_begin in the same millisecond as generate_lead ("at or before": counts)
//   s5: web_vitals only (not in the plan)
const EVENTS = [
  at('s1', 'cta_click', 1000),
  at('s1', 'generate_lead', 2000),
  at('s1', 'scroll_depth', 3000),
  at('s2', 'cta_click', 1000),
  at('s2', 'scroll_depth', 1500),
  at('s3', 'scroll_depth', 1000),
  at('s3', 'generate_lead', 2000),
  at('s3', 'generate_lead', 9000),
  at('s4', 'form_begin', 5000),
  at('s4', 'generate_lead', 5000),
  at('s5', 'web_vitals', 1000),
];
const PLAN = checkPlan({ macro: ['generate_lead'], stages: { engagement: ['scroll_depth'], intent: ['cta_click', 'form_begin'] } });

describe('buildReport on a hand-counted table', () => {
  let store: DuckDBStore;
  let report: Report;
  beforeAll(async () => {
    store = await openDuckDBStore(':memory:');
    await store.insert(EVENTS, Date.UTC(2025, 5, 15));
    report = await buildReport(store, PLAN, Date.UTC(2025, 5, 15, 12));
  });
  afterAll(() => store.close());

  test('totals: 5 sessions, 3 converted', () => {
    expect(report).toMatchObject({ generated_at: '2025-06-15T12:00:00.000Z', sessions: 5, converted: 3, macro: ['generate_lead'] });
    expect(report.conversion_rate!.estimate).toBeCloseTo(0.6, 12);
  });

  test('each signal counted at or before the first conversion, the plan first, then names it does not list', () => {
    const rows = report.signals.map((s) => [s.signal, s.stage, s.sessions_with, s.converted_with, s.sessions_without, s.converted_without]);
    expect(rows).toEqual([
      // scroll_depth: s2, s3 (s1's came after its conversion) → 1 of 2 converted; without: s1, s4, s5 → 2 of 3
      ['scroll_depth', 'engagement', 2, 1, 3, 2],
      // cta_click: s1, s2 → 1 of 2; without: s3, s4, s5 → 2 of 3
      ['cta_click', 'intent', 2, 1, 3, 2],
      // form_begin: s4, at the very millisecond of its conversion → 1 of 1; without → 2 of 4
      ['form_begin', 'intent', 1, 1, 4, 2],
      // web_vitals: s5 → 0 of 1; without → 3 of 4
      ['web_vitals', null, 1, 0, 4, 3],
    ]);
    expect(report.signals.map((s) => s.in_plan)).toEqual([true, true, true, false]);
    const webVitals = report.signals[3]!;
    expect(webVitals.ratio!.corrected).toBe(true);
    expect(webVitals.verdict).toBe('unclear');
  });

  test('the funnel: the furthest stage a session reached, at any time; drop-off between steps; the weakest step', () => {
    expect(report.funnel.steps).toEqual([
      { step: 'all sessions', kind: 'all', sessions: 5, share: 1, drop_off: null },
      // s3 got to engagement; s1, s2 and s4 got to intent, so through engagement too
      { step: 'engagement', kind: 'stage', sessions: 4, share: 0.8, drop_off: expect.closeTo(0.2, 12) },
      // s1, s2, s4
      { step: 'intent', kind: 'stage', sessions: 3, share: 0.6, drop_off: expect.closeTo(0.25, 12) },
      { step: 'macro conversion', kind: 'macro', sessions: 3, share: 0.6, drop_off: 0 },
    ]);
    expect(report.funnel.weakest).toEqual({ from: 'engagement', to: 'intent', drop_off: expect.closeTo(0.25, 12) });
  });

  test('every output says it is association, not cause, and states the counting rule', () => {
    expect(report.note).toMatch(/^This is association, not cause/);
    expect(report.rule).toMatch(/at or before the session's first macro conversion/);
    const text = renderReportText(report);
    expect(text).toContain('This is association, not cause');
    expect(text).toContain('(association, not cause)');
    expect(text).toContain("at or before the session's first macro conversion");
    const html = renderReportHtml(report);
    expect(html).toContain('<strong>Association, not cause.</strong>');
    expect(html).toContain('at or before the session&#39;s first macro conversion');
  });

  test('the text report: a table of signals, each verdict in words, the funnel with its weakest step', () => {
    const text = renderReportText(report);
    expect(text).toMatch(/signal\s+stage\s+sessions with\s+conv\. with\s+conv\. without\s+lift, points \[anytime\]\s+verdict\s+lift \[one look only\]\s+ratio \[one look only\]/);
    expect(text).toContain('valid for one pre-planned look only');
    expect(text).toContain('web_vitals: not enough data yet');
    expect(text).toContain('Weakest step: engagement → intent, 25.0 % of sessions lost.');
    expect(text).toContain('* a group had no conversions: 0.5 added to every cell for the ratio');
  });
});

describe('error control across the signals', () => {
  let store: DuckDBStore;
  beforeAll(async () => {
    store = await openDuckDBStore(':memory:');
    await store.insert(EVENTS, 0);
  });
  afterAll(() => store.close());

  test("family (the default): the plan's signals share 5 %, said beside the verdicts; events outside the plan at the same level", async () => {
    const report = await buildReport(store, PLAN);
    expect(report.error_control).toEqual({
      mode: 'family',
      alpha: 0.05,
      family_size: 3,
      per_signal_alpha: 0.05 / 3,
      statement: expect.stringMatching(/^The plan's 3 signals share a 5 % error rate: each is judged at 1\.67 %, so the chance that any of them is ever called associated while it has no association is at most 5 %, however often the report is read\. The 1 event outside the plan is judged at the same level, outside that 5 %\.$/),
    });
    expect(report.signals.map((s) => s.alpha)).toEqual([0.05 / 3, 0.05 / 3, 0.05 / 3, 0.05 / 3]);
    expect(report.multiple_comparisons).toBe(report.error_control.statement);
    expect(renderReportText(report)).toContain("The plan's 3 signals share a 5 % error rate");
    expect(renderReportHtml(report)).toContain('The plan&#39;s 3 signals share a 5 % error rate');
  });

  test('per-signal: each signal at 5 %, and the chance for the plan as a whole stated plainly', async () => {
    const report = await buildReport(store, checkPlan({ ...PLAN, errorControl: 'per-signal' }));
    expect(report.error_control).toMatchObject({ mode: 'per-signal', family_size: 3, per_signal_alpha: 0.05 });
    expect(report.error_control.statement).toContain('Each signal is judged at 5 % on its own');
    expect(report.error_control.statement).toContain('Across the 4 signals judged, the chance that at least one with no association is called is up to 20 %');
    expect(report.signals.every((s) => s.alpha === 0.05)).toBe(true);
    // A wider level, a narrower interval: the same counts, the family's interval contains this one.
    const family = await buildReport(store, PLAN);
    report.signals.forEach((s, index) => {
      expect(family.signals[index]!.difference!.low).toBeLessThanOrEqual(s.difference!.low);
      expect(family.signals[index]!.difference!.high).toBeGreaterThanOrEqual(s.difference!.high);
    });
  });

  test('the anytime-valid interval is the main one; the fixed-horizon one is beside it, labelled', async () => {
    const report = await buildReport(store, PLAN);
    const cta = report.signals.find((s) => s.signal === 'cta_click')!;
    // 1 of 2 against 2 of 3: Newcombe's 95 % interval for one look, and the wider anytime-valid one.
    expect(cta.difference_fixed_horizon!.estimate).toBeCloseTo(0.5 - 2 / 3, 12);
    expect(cta.difference!.low).toBeLessThan(cta.difference_fixed_horizon!.low);
    expect(cta.difference!.high).toBeGreaterThan(cta.difference_fixed_horizon!.high);
    expect(report.intervals).toMatch(/anytime-valid.*valid for one pre-planned look only/);
    const html = renderReportHtml(report);
    expect(html).toContain('Thin grey bars: the fixed-horizon 95 % interval (Newcombe), valid for one pre-planned look only.');
    expect(html).toContain('lift, points [anytime-valid]; [95 %, one pre-planned look only]');
    // Beneath each bar of the chart, and in each row of the table.
    expect(html.match(/one look only: \[/g)).toHaveLength(2 * report.signals.length);
  });
});

test('an empty store gives a valid, empty report', async () => {
  const store = await openDuckDBStore(':memory:');
  const report = await buildReport(store, PLAN);
  await store.close();
  expect(report).toMatchObject({ sessions: 0, converted: 0, conversion_rate: null });
  expect(report.signals.map((s) => [s.signal, s.sessions_with, s.difference, s.verdict])).toEqual([
    ['scroll_depth', 0, null, 'unclear'],
    ['cta_click', 0, null, 'unclear'],
    ['form_begin', 0, null, 'unclear'],
  ]);
  expect(report.funnel.steps.map((step) => [step.step, step.sessions, step.share, step.drop_off])).toEqual([
    ['all sessions', 0, null, null],
    ['engagement', 0, null, null],
    ['intent', 0, null, null],
    ['macro conversion', 0, null, null],
  ]);
  expect(renderReportText(report)).toContain('0 sessions, 0 converted');
  expect(renderReportHtml(report)).toContain('<h2>Funnel</h2>');
});

describe('verdicts in words', () => {
  test('more, less, and how many sessions would settle an open question', async () => {
    const store = await openDuckDBStore(':memory:');
    const events: MicroconvEvent[] = [];
    // 1,000 sessions: "strong" in 500 of them, with 200 conversions there against 50 in the others;
    // "weak" in every other session, converting like the rest; "never" in the sessions that did not convert.
    for (let i = 0; i < 1000; i++) {
      const session = `s${i}`;
      const strong = i < 500;
      const converts = strong ? i < 200 : i < 550;
      if (strong) events.push(at(session, 'strong', 1));
      if (i % 2 === 0) events.push(at(session, 'weak', 2));
      if (!converts) events.push(at(session, 'never', 3));
      if (converts) events.push(at(session, 'generate_lead', 10));
    }
    await store.insert(events, 0);
    const report = await buildReport(store, checkPlan({ macro: ['generate_lead'] }));
    await store.close();
    const verdict = (name: string) => report.signals.find((s) => s.signal === name)!;
    expect(verdict('strong')).toMatchObject({ verdict: 'more', sessions_with: 500, converted_with: 200 });
    expect(verdict('strong').verdict_text).toMatch(/^associated with more conversion: \+30\.0 points \(anytime-valid interval \+[\d.]+ to \+[\d.]+ points\)$/);
    expect(verdict('never')).toMatchObject({ verdict: 'less', converted_with: 0 });
    expect(verdict('never').verdict_text).toMatch(/^associated with less conversion/);
    const weak = verdict('weak');
    expect(weak.verdict).toBe('unclear');
    if (weak.more_sessions_to_settle === null) expect(weak.verdict_text).toMatch(/too small to settle with any practical amount of traffic/);
    else expect(weak.verdict_text).toContain(`about ${weak.more_sessions_to_settle.toLocaleString('en-US')} more sessions`);
    // The plan lists no signals: the three judged share 5 %.
    expect(report.error_control).toMatchObject({ mode: 'family', family_size: 3, per_signal_alpha: 0.05 / 3 });
    for (const s of report.signals) expect(s.alpha).toBe(0.05 / 3);
  });
});

describe('the HTML page', () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const report: Report = {
    generated_at: '2025-06-15T12:00:00.000Z',
    note: 'This is association, not cause: test.',
    rule: 'rule',
    macro: [hostile],
    sessions: 10,
    converted: 2,
    conversion_rate: { estimate: 0.2, low: 0.05, high: 0.5 },
    multiple_comparisons: '',
    intervals: 'intervals note',
    error_control: { mode: 'family', alpha: 0.05, family_size: 1, per_signal_alpha: 0.05, statement: hostile },
    signals: [
      {
        signal: hostile,
        stage: null,
        in_plan: false,
        sessions_with: 5,
        converted_with: 2,
        sessions_without: 5,
        converted_without: 0,
        rate_with: { estimate: 0.4, low: 0.1, high: 0.8 },
        rate_without: { estimate: 0, low: 0, high: 0.43 },
        difference: { estimate: 0.4, low: -0.25, high: 0.9 },
        difference_fixed_horizon: { estimate: 0.4, low: -0.05, high: 0.77 },
        ratio: { estimate: 5, low: 0.3, high: 80, corrected: true },
        alpha: 0.05,
        verdict: 'unclear',
        verdict_text: `not enough data yet ${hostile}`,
        sessions_to_settle: 90,
        more_sessions_to_settle: 80,
        sessions_for_80pct_power: 40,
        more_sessions: 30,
      },
    ],
    funnel: {
      rule: 'funnel rule',
      steps: [
        { step: 'all sessions', kind: 'all', sessions: 10, share: 1, drop_off: null },
        { step: hostile, kind: 'stage', sessions: 4, share: 0.4, drop_off: 0.6 },
        { step: 'macro conversion', kind: 'macro', sessions: 2, share: 0.2, drop_off: 0.5 },
      ],
      weakest: { from: 'all sessions', to: hostile, drop_off: 0.6 },
    },
  };

  test('is one self-contained page: two inline SVG charts, no script, nothing fetched', () => {
    const html = renderReportHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg role="img"/g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object| src="| href="|url\(/i);
  });

  test('puts every piece of data in as escaped text', () => {
    const html = renderReportHtml(report);
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(hostile));
    expect(escapeHtml(`<a href="x" title='y'>&`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;');
  });
});

describe('plans and command-line input', () => {
  test('a plan is checked, with every problem named', () => {
    expect(() => checkPlan({ macro: ['Purchase'], stages: { awareness: ['x'], intent: ['cta_click', 'cta_click'], conversion: ['cta_click'] } })).toThrow(PlanError);
    // Caught outside any catch block, so that a plan that stopped throwing fails here instead of skipping the check.
    const refusal = (() => {
      try {
        checkPlan({ macro: ['Purchase'], stages: { awareness: ['x'], intent: ['cta_click'], conversion: ['cta_click'] } });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(PlanError);
    expect((refusal as PlanError).problems).toEqual([
      'macro[0]: "Purchase" is not an event name (^[a-z][a-z0-9_]{0,39}$)',
      'stages.awareness: unknown stage (expected one of engagement, consideration, intent, conversion)',
      'stages.conversion: "cta_click" is already in stages.intent',
    ]);
    expect(checkPlan({})).toEqual({ macro: ['purchase', 'generate_lead'], stages: [], errorControl: 'family' });
    expect(checkPlan({ errorControl: 'per-signal' }).errorControl).toBe('per-signal');
    expect(() => checkPlan({ errorControl: 'bonferroni' })).toThrow('errorControl: expected "family" or "per-signal", got "bonferroni"');
    // Checking a checked plan changes nothing.
    expect(checkPlan(PLAN)).toEqual(PLAN);
  });

  test('a plan file that cannot be used says which file and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'microconv-'));
    writeFileSync(join(dir, 'broken.json'), '{ "macro": [');
    await expect(loadPlan(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json is not valid JSON/);
    await expect(loadPlan(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json/);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ macro: 'purchase' }));
    await expect(loadPlan(join(dir, 'plan.json'))).rejects.toThrow(/plan\.json: macro: expected an array of event names/);
  });

  test('options: unknown ones and bad numbers are usage errors that name the option', () => {
    expect(() => parse(['--nope'], { db: { type: 'string' } })).toThrow(UsageError);
    expect(() => numberOption('12x', 'port', 8787, 0, 65535)).toThrow("--port: expected a whole number from 0 to 65535, got \"12x\"");
    expect(() => numberOption('70000', 'port', 8787, 0, 65535)).toThrow(UsageError);
    expect(numberOption(undefined, 'port', 8787, 0, 65535)).toBe(8787);
    expect(numberOption('0.5', 'rate', 1, 0.001, 10, false)).toBe(0.5);
  });
});

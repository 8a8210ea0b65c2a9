// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { DuckDBStore } from '../../collector/duckdb-store';
import { startCollector, type RunningCollector } from '../../collector/http';
import { checkPlan, planSignals } from '../../collector/plan';
import { mulberry32 } from '../../collector/prng';
import { sendTraffic } from '../../collector/send-traffic';
import { DEMO_MODEL, drawSession, exactTruth, generateTraffic, modelPlan, tally, type TrafficModel } from '../../collector/simulate';
import { validatePayload } from '../../collector/validate';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('mulberry32', () => {
  test('a seed gives the same sequence; another seed another one', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });

  test('uuids are version 4, variant 10xx, and do not repeat', () => {
    const random = mulberry32(1);
    const ids = Array.from({ length: 20_000 }, () => random.uuid());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('draws are uniform enough: mean and deciles of 100,000', () => {
    const random = mulberry32(3);
    const deciles = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const value = random.next();
      sum += value;
      deciles[Math.floor(value * 10)]++;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    // Each decile holds 10,000 ± 3 standard deviations (95).
    for (const count of deciles) expect(Math.abs(count - 10_000)).toBeLessThan(300);
  });
});

describe('the traffic model', () => {
  test('exactTruth agrees with 200,000 drawn sessions (within 4 standard errors)', () => {
    const truth = exactTruth(DEMO_MODEL);
    const random = mulberry32(11);
    const counts = tally(DEMO_MODEL, Array.from({ length: 200_000 }, () => drawSession(DEMO_MODEL, random)));
    for (const row of counts) {
      const expected = truth.signals.find((signal) => signal.signal === row.signal)!;
      const rateWith = row.convertedWith / row.sessionsWith;
      const rateWithout = row.convertedWithout / row.sessionsWithout;
      const se = Math.sqrt((rateWith * (1 - rateWith)) / row.sessionsWith + (rateWithout * (1 - rateWithout)) / row.sessionsWithout);
      expect(Math.abs(rateWith - rateWithout - expected.difference)).toBeLessThan(4 * se);
    }
  });

  test('exactTruth on a model small enough to work by hand', () => {
    // Two independent signals, a (p 0.5, odds ratio 3) and b (p 0.5, no effect), baseline 0.1 (odds 1/9).
    // Sessions with a convert with odds 3/9 → 0.25; without a, 0.1. Sessions with neither signal are
    // seen only when they convert: the no-signal cell (mass 0.25) is visible with mass 0.25 · 0.1 = 0.025.
    // Without a: visible mass 0.25 (b only) + 0.025 = 0.275, converted 0.25·0.1 + 0.025 = 0.05 → 0.181818.
    const model: TrafficModel = {
      baseline: 0.1,
      signals: [
        { name: 'a', stage: 'intent', probability: 0.5, oddsRatio: 3 },
        { name: 'b', stage: 'engagement', probability: 0.5, oddsRatio: 1 },
      ],
      macro: [{ name: 'generate_lead', weight: 1 }],
      afterConversion: 0,
    };
    const [a, b] = exactTruth(model).signals;
    expect(a!.rateWith).toBeCloseTo(0.25, 12);
    expect(a!.rateWithout).toBeCloseTo(0.05 / 0.275, 12);
    // b has no effect of its own; with b: (0.25 + 0.1) / 2 = 0.175. Without b: visible 0.25 (a only) +
    // 0.025, converted 0.0625 + 0.025 = 0.0875 → 0.318182: the invisible sessions make "without" look better.
    expect(b!.rateWith).toBeCloseTo(0.175, 12);
    expect(b!.rateWithout).toBeCloseTo(0.0875 / 0.275, 12);
  });

  test('a milestone cannot come without its play', () => {
    const random = mulberry32(5);
    const play = DEMO_MODEL.signals.findIndex((signal) => signal.name === 'video_play');
    const milestone = DEMO_MODEL.signals.findIndex((signal) => signal.name === 'video_milestone');
    let milestones = 0;
    for (let i = 0; i < 10_000; i++) {
      const session = drawSession(DEMO_MODEL, random);
      if (!session.has[milestone]) continue;
      milestones++;
      expect(session.has[play]).toBe(true);
    }
    // The check above ran: enough sessions reached a milestone for it to mean something.
    expect(milestones).toBeGreaterThan(100);
  });

  test("the simulator's plan is the demo's plan", () => {
    // The demo's plan is part of the repository: a missing file fails here (readFileSync throws), it is not skipped.
    const path = new URL('../../demo/plan.json', import.meta.url);
    expect(modelPlan(DEMO_MODEL)).toEqual(JSON.parse(readFileSync(path, 'utf8')));
  });
});

describe('generated traffic', () => {
  const sessions = [...generateTraffic(DEMO_MODEL, { seed: 9, sessions: 400 })];
  const macro = DEMO_MODEL.macro.map((entry) => entry.name);

  test('the same seed gives byte-identical traffic', () => {
    expect(JSON.stringify([...generateTraffic(DEMO_MODEL, { seed: 9, sessions: 400 })])).toBe(JSON.stringify(sessions));
    expect(JSON.stringify([...generateTraffic(DEMO_MODEL, { seed: 10, sessions: 400 })])).not.toBe(JSON.stringify(sessions));
  });

  test('every batch is a valid wire payload of at most 10 events and 64 KiB', () => {
    for (const session of sessions) {
      expect(session.batches.flat()).toEqual(session.events);
      for (const batch of session.batches) {
        const body = JSON.stringify({ v: 1, sent_at: new Date(batch[0]!.ts).toISOString(), events: batch });
        expect(validatePayload(JSON.parse(body), 500)).toMatchObject({ ok: true, rejected: [] });
        expect(batch.length).toBeLessThanOrEqual(10);
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(65_536);
      }
    }
  });

  test('times increase within a session; signals come before the first macro event; utm values are set on some', () => {
    let withUtm = 0;
    for (const session of sessions) {
      const times = session.events.map((event) => event.ts);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      const firstMacro = session.events.findIndex((event) => macro.includes(event.name));
      expect(firstMacro >= 0).toBe(session.converted);
      if (session.events[0]?.attribution.utm_source) withUtm++;
    }
    expect(withUtm).toBeGreaterThan(sessions.length * 0.4);
    expect(withUtm).toBeLessThan(sessions.length * 0.7);
  });
});

describe('sending to a collector over HTTP', () => {
  let running: RunningCollector | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  test('stores every event once (replays deduplicated), and the report counts equal the simulated truth', async () => {
    const plan = checkPlan(modelPlan(DEMO_MODEL));
    running = await startCollector({ port: 0, database: ':memory:', rateLimit: false, plan });
    const result = await sendTraffic({ url: `${running.url}/collect`, seed: 21, sessions: 120, replayRate: 0.2, concurrency: 6 });
    const sessions = [...generateTraffic(DEMO_MODEL, { seed: 21, sessions: 120 })];
    const events = sessions.flatMap((session) => session.events);
    expect(result).toMatchObject({ sessions: 120, events: events.length, failed: 0, rejected: 0 });
    expect(result.replays).toBeGreaterThan(10);
    const store = (await running.collector.store) as DuckDBStore;
    expect(await store.query('SELECT count(*) AS n, count(DISTINCT session_id) AS s FROM events')).toEqual([
      { n: events.length, s: sessions.filter((session) => session.events.length > 0).length },
    ]);
    const counts = await store.signalCounts({ macro: plan.macro, signals: planSignals(plan) });
    const bySignal = (a: { signal: string }, b: { signal: string }) => a.signal.localeCompare(b.signal);
    expect(counts.sort(bySignal)).toEqual(tally(DEMO_MODEL, sessions).sort(bySignal));
    // Sending the same seed again (its first 30 sessions are the same sessions) stores nothing new.
    const again = await sendTraffic({ url: `${running.url}/collect`, seed: 21, sessions: 30, replayRate: 0 });
    expect(again.events).toBeGreaterThan(100);
    expect(await store.query('SELECT count(*) AS n FROM events')).toEqual([{ n: events.length }]);
  }, 90_000);

  test('honours 429 Retry-After, as the SDK does, and loses nothing', async () => {
    running = await startCollector({ port: 0, database: ':memory:', rateLimit: { capacity: 5, refillPerSecond: 100, exemptLoopback: false } });
    const result = await sendTraffic({ url: `${running.url}/collect`, seed: 4, sessions: 12, replayRate: 0, concurrency: 8 });
    expect(result.rateLimited).toBeGreaterThan(0);
    expect(result.failed).toBe(0);
    const store = (await running.collector.store) as DuckDBStore;
    expect(await store.query('SELECT count(*) AS n FROM events')).toEqual([{ n: result.events }]);
  }, 30_000);

  test('counts the events a collector rejects in a 2xx answer, with the first problems, and not as sent', async () => {
    // A collector that stores nothing and names the first event of every batch as rejected.
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const [first] = JSON.parse(body).events;
        const answer = { stored: 0, duplicates: 0, rejected: [{ event_id: first.event_id, index: 0, problems: ['name: made up for the test'] }] };
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`;
      const result = await sendTraffic({ url, seed: 4, sessions: 3, replayRate: 0 });
      const batches = [...generateTraffic(DEMO_MODEL, { seed: 4, sessions: 3 })].flatMap((session) => session.batches);
      expect(result.rejected).toBe(batches.length);
      expect(result.events).toBe(batches.flat().length - batches.length);
      expect(result.failed).toBe(0);
      expect(result.problems[0]).toMatch(/^rejected [0-9a-f-]{36}: name: made up for the test$/);
    } finally {
      server.close();
    }
  });

  test('reports refused batches with the answer', async () => {
    running = await startCollector({ port: 0, database: ':memory:', rateLimit: false, allowedOrigins: ['https://tally.example'] });
    const result = await sendTraffic({ url: `${running.url}/collect`, seed: 4, sessions: 2, origin: 'https://other.example' });
    expect(result.failed).toBeGreaterThan(0);
    expect(result.events).toBe(0);
    expect(result.problems[0]).toMatch(/^HTTP 403: .*origin_not_allowed/);
  });
});

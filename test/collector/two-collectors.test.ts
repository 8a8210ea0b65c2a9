// @vitest-environment node
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { openDuckDBStore } from '../../collector/duckdb-store';
import { checkPlan } from '../../collector/plan';
import { openPostgresStore } from '../../collector/postgres-store';
import { buildReport, type Report } from '../../collector/report';
import { sendTraffic } from '../../collector/send-traffic';
import { DEMO_MODEL, generateTraffic, modelPlan } from '../../collector/simulate';
import { runBin, startCollectorProcess, type CollectorProcess } from './support/processes';
import { describePostgres, useThrowawayPostgres } from './support/postgres';

// Two real collector processes (`npm run collector -- --postgres URL`, from the sources) sharing one
// PostgreSQL, as behind a load balancer.
describePostgres('two collector processes, one PostgreSQL', () => {
  const postgres = useThrowawayPostgres();
  const plan = modelPlan(DEMO_MODEL);
  const processes: CollectorProcess[] = [];
  let folder = '';
  let planFile = '';
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'microconv-two-'));
    planFile = join(folder, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  afterEach(async () => {
    const codes = await Promise.all(processes.splice(0).map((process) => process.stop()));
    // SIGTERM: each closes its pool and exits 0.
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  async function twoCollectors(url: string): Promise<[CollectorProcess, CollectorProcess]> {
    const started = await Promise.all([0, 1].map(() => startCollectorProcess(['--postgres', url, '--no-rate-limit', '--plan', planFile])));
    processes.push(...started);
    return started as [CollectorProcess, CollectorProcess];
  }

  test('the same batches sent to both at the same moment, and overlapping ones: every event stored once', async () => {
    const url = await postgres.database();
    const [left, right] = await twoCollectors(url);
    const sessions = [...generateTraffic(DEMO_MODEL, { seed: 12, sessions: 300 })];
    const events = sessions.flatMap((session) => session.events);
    const body = (batch: unknown[]) => JSON.stringify({ v: 1, sent_at: '2025-06-15T10:00:00Z', events: batch });
    const post = (collector: CollectorProcess, batch: unknown[]) =>
      fetch(`${collector.url}/collect`, { method: 'POST', body: body(batch) }).then((response) => response.status);
    // Windows of 80 events, each overlapping the next by half, each sent to both collectors at once,
    // forwards to one and backwards to the other: every event reaches the store two to four times at once.
    const windows = Array.from({ length: Math.ceil(events.length / 40) }, (_, index) => events.slice(index * 40, index * 40 + 80));
    const statuses = await Promise.all(windows.flatMap((window) => [post(left, window), post(right, [...window].reverse())]));
    expect(new Set(statuses)).toEqual(new Set([200]));
    const store = await openPostgresStore(url);
    try {
      expect(await store.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM events')).toEqual([{ n: events.length, ids: events.length }]);
      const stored = await store.query<{ event_id: string }>('SELECT event_id::text FROM events');
      expect(new Set(stored.map((row) => row.event_id))).toEqual(new Set(events.map((event) => event.event_id)));
    } finally {
      await store.close();
    }
  }, 120_000);

  test("the simulator through two collector processes into PostgreSQL: the report equals DuckDB's on the same traffic", async () => {
    const url = await postgres.database();
    const [left, right] = await twoCollectors(url);
    const traffic = { seed: 7, sessions: 1500, replayRate: 0.05, concurrency: 8 };
    const sent = await sendTraffic({ url: [`${left.url}/collect`, `${right.url}/collect`], ...traffic });
    expect(sent).toMatchObject({ sessions: 1500, failed: 0 });
    expect(Object.values(sent.requestsByUrl).every((count) => count > sent.requests / 3)).toBe(true);

    // The same traffic into DuckDB (the events themselves: replays store nothing, as just shown).
    const events = [...generateTraffic(DEMO_MODEL, traffic)].flatMap((session) => session.events);
    expect(events.length).toBe(sent.events);
    const duck = await openDuckDBStore(':memory:');
    try {
      for (let start = 0; start < events.length; start += 1000) await duck.insert(events.slice(start, start + 1000), 0);
      const checked = checkPlan(plan);
      const expected = await buildReport(duck, checked, 0);
      expect(expected.sessions).toBeGreaterThan(1000);
      const pgStore = await openPostgresStore(url);
      try {
        expect(await pgStore.query('SELECT count(*)::int AS n FROM events')).toEqual([{ n: events.length }]);
        expect(await buildReport(pgStore, checked, 0)).toEqual(expected);
      } finally {
        await pgStore.close();
      }
      // Each collector serves the report of the shared store; so does `npm run report -- --postgres`.
      const sameAs = (report: Report) => ({ ...report, generated_at: expected.generated_at });
      for (const collector of [left, right]) expect(sameAs(await (await fetch(`${collector.url}/report.json`)).json())).toEqual(expected);
      const cli = await runBin('report', ['--postgres', url, '--plan', planFile, '--json']);
      expect(cli.stderr).toBe('');
      expect(sameAs(JSON.parse(cli.stdout))).toEqual(expected);
    } finally {
      await duck.close();
    }
  }, 120_000);
});

// @vitest-environment node
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { simulateForwarding } from '../../../collector/forward/simulate';

test('the simulator forwarded through the gate, with a restart during an outage: nothing forwarded twice, nothing lost', { timeout: 240_000 }, async () => {
  const directory = mkdtempSync(join(tmpdir(), 'microconv-forward-sim-'));
  try {
    // 3,000 sessions of history: the anytime-valid verdicts find cta_click associated by then (at 1,200 only
    // form_begin and form_step), and its Google Ads clicks bring the unparseable gclids checked below.
    const figures = await simulateForwarding({ database: join(directory, 'sim.duckdb'), historySessions: 3000, sessions: 160, seed: 7 });
    expect(figures.problems).toEqual([]);
    expect(figures.retryingAtRestart).toBeGreaterThan(0);
    for (const destination of figures.destinations) {
      expect(destination.expected, destination.destination).toBeGreaterThan(0);
      expect(destination.forwardedTwice, destination.destination).toBe(0);
      expect(destination.lost, destination.destination).toBe(0);
      expect(destination.unexpected, destination.destination).toBe(0);
      // The outbox agrees with the stand-in: what it calls sent is what arrived, and nothing is left waiting.
      expect(destination.outbox.sent, destination.destination).toBe(destination.accepted);
      expect(destination.outbox.queued + destination.outbox.retrying, destination.destination).toBe(0);
    }
    const google = figures.destinations.find((d) => d.destination === 'google_ads')!;
    expect(google.outbox.failures.map((f) => f.reason)).toEqual(['UNPARSEABLE_GCLID: The imported gclid could not be decoded.']);
    expect(google.accepted + google.outbox.failed).toBe(google.expected);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

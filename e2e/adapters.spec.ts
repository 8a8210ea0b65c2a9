import type { Page } from '@playwright/test';
import type { DeliveryStatus } from '../src/types';
import { expect, load, test } from './support/test';

/** Tracks three events (a full batch on adapters.html); returns their ids and when the test asked. */
async function trackBatch(page: Page, prefix: string): Promise<{ ids: string[]; started: number }> {
  const started = Date.now();
  const ids = await page.evaluate((prefix) => [1, 2, 3].map((i) => window.microconv.track(`${prefix}_${i}`)), prefix);
  return { ids, started };
}

/** Resolves once `adapter` has reported `status` for every one of `ids` (adapters.html records the reports). */
const reported = (page: Page, adapter: string, status: DeliveryStatus, ids: string[]): Promise<void> =>
  page.evaluate(
    ([adapter, status, ids]) =>
      new Promise<void>((resolve) => {
        const seen = () => window.probe.deliveries!.filter((r) => r.adapter === adapter && r.status === status).flatMap((r) => r.event_ids);
        const check = () => ids.every((id) => seen().includes(id)) && (off(), resolve());
        const off = window.microconv.on('delivery', check);
        check();
      }),
    [adapter, status, ids] as const,
  );

test('an adapter that throws and one that never settles do not hold up the endpoint', async ({ page, collector }) => {
  await load(page, '/adapters.html');

  const first = await trackBatch(page, 'first');
  await collector.waitForDelivered(['first_1', 'first_2', 'first_3']);
  // Well inside the 10 s after which the hung send would time out.
  expect(Date.now() - first.started).toBeLessThan(5_000);
  await reported(page, 'endpoint', 'sent', first.ids);
  expect((await page.evaluate(() => window.microconv.stats())).waiting).toEqual({ endpoint: 0, thrower: 3, hanger: 3 });

  // The thrower is retrying and the hanger still hangs: the endpoint's next batch goes all the same.
  const second = await trackBatch(page, 'second');
  await collector.waitForDelivered(['second_1', 'second_2', 'second_3']);
  expect(Date.now() - second.started).toBeLessThan(5_000);

  // The thrower's batches fail for good after three attempts, each counted; the endpoint saw none of that.
  await reported(page, 'endpoint', 'sent', second.ids);
  await reported(page, 'thrower', 'failed', [...first.ids, ...second.ids]);
  const stats = await page.evaluate(() => window.microconv.stats());
  expect(stats.dropped).toEqual({ 'thrower is broken': 6 });
  expect(stats.waiting).toEqual({ endpoint: 0, thrower: 0, hanger: 6 });
  expect(collector.requests.map((request) => request.status)).toEqual([204, 204]);
  expect(collector.delivered().map((event) => event.event_id).sort()).toEqual([...first.ids, ...second.ids].sort());
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_QUEUED_EVENTS, MAX_REQUEST_BYTES, SEND_TIMEOUT_MS, createOutbox, type OutboxOptions } from '../src/core/outbox';
import { deliveryError } from '../src/core/backoff';
import { LEASE_MS, claimRule, type Journal, type StoredEvent } from '../src/core/journal';
import type { Adapter, ConsentValue, DeliveryStatus, MicroconvEvent } from '../src/types';

let seq = 0;
const event = (params: Record<string, unknown> = {}): MicroconvEvent => ({
  event_id: `id-${++seq}`,
  name: 'cta_click',
  ts: seq,
  session_id: 's',
  anonymous_id: null,
  page: { url: 'https://x.example/', path: '/', title: '', referrer: '' },
  params: params as MicroconvEvent['params'],
  attribution: { utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null, gclid: null, fbclid: null, landing_page: '', referrer: '' },
});

/** A journal with the semantics of the IndexedDB one, in memory. */
function memoryJournal() {
  const rows = new Map<string, StoredEvent>();
  const journal: Journal = {
    put: async (_, events) => void events.forEach((stored) => rows.set(stored.e.event_id, { ...stored })),
    release: async (_, events) => void events.forEach((stored) => rows.set(stored.e.event_id, { ...stored, o: null, l: 0 })),
    remove: async (_, ids) => void ids.forEach((id) => rows.delete(id)),
    clear: async () => rows.clear(),
    claim: async (_, owner, now, gone) => {
      const claimed: StoredEvent[] = [];
      const owners = new Set<string>();
      for (const row of [...rows.values()]) {
        const rule = claimRule(row, owner, now, gone);
        if (rule === 'delete') rows.delete(row.e.event_id);
        else if (rule === 'leave') owners.add(row.o!);
        else claimed.push(row), rows.set(row.e.event_id, { ...row, o: owner, l: now + LEASE_MS });
      }
      return { claimed: claimed.sort((a, b) => a.e.ts - b.e.ts || a.q - b.q), owners };
    },
  };
  return Object.assign(journal, { rows });
}

type Report = { status: DeliveryStatus; ids: string[]; reason?: string };

function setup(send: Adapter['send'], overrides: Partial<OutboxOptions> & { consent?: () => ConsentValue } = {}) {
  const reports: Report[] = [];
  const calls: { ids: string[]; leaving: boolean }[] = [];
  const adapter: Adapter = {
    name: 'test',
    send: (events, context) => {
      calls.push({ ids: events.map((e) => e.event_id), leaving: context.leaving });
      return send(events, context);
    },
  };
  const outbox = createOutbox({
    adapter,
    owner: 'me',
    consent: () => 'granted',
    journal: () => undefined,
    journalFailed: () => {},
    batch: { size: 3, intervalMs: 1000 },
    report: (status, ids, reason) => ids.length && reports.push({ status, ids, reason }),
    note: () => {},
    log: () => {},
    ...overrides,
  });
  const ids = (status: DeliveryStatus) => reports.filter((r) => r.status === status).flatMap((r) => r.ids);
  return { outbox, reports, calls, ids };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('batching', () => {
  it('sends when the batch reaches its size', async () => {
    const { outbox, calls } = setup(() => {});
    outbox.add([event()]);
    outbox.add([event()]);
    expect(calls).toHaveLength(0);
    outbox.add([event()]);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.ids).toHaveLength(3);
  });

  it('sends after the interval when the batch stays small', async () => {
    const { outbox, calls, ids } = setup(() => {});
    const first = event();
    outbox.add([first]);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    expect(ids('sent')).toEqual([first.event_id]);
  });

  it('sends at once, by the leaving path, when the page is hidden', async () => {
    const { outbox, calls } = setup(() => {});
    outbox.add([event()]);
    outbox.leave();
    expect(calls).toEqual([{ ids: [expect.any(String)], leaving: true }]);
  });

  it('splits what is over the request limit into several requests', async () => {
    const { outbox, calls, ids } = setup(() => {});
    const big = 'x'.repeat(20_000);
    const events = Array.from({ length: 7 }, () => event({ big }));
    outbox.add(events);
    await outbox.flush();
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) expect(call.ids.length * 20_300).toBeLessThan(MAX_REQUEST_BYTES);
    expect(ids('sent').sort()).toEqual(events.map((e) => e.event_id).sort());
  });
});

describe('retries', () => {
  it('retries retryable failures with backoff, with the same events, until delivered', async () => {
    let answers = [deliveryError('http_503', true), deliveryError('http_503', true)];
    const { outbox, calls, ids } = setup(() => {
      const answer = answers.shift();
      return answer ? Promise.reject(answer) : Promise.resolve();
    });
    const events = [event(), event(), event()];
    outbox.add(events);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000); // first backoff: 0.5 to 1 s
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000); // second: 1 to 2 s
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.ids.join()))).toEqual(new Set([events.map((e) => e.event_id).join()]));
    expect(ids('sent')).toHaveLength(3);
    answers = [];
  });

  it('honours Retry-After, even over flush', async () => {
    let fail = true;
    const { outbox, calls } = setup(() => (fail ? Promise.reject(deliveryError('http_429', true, 30_000)) : undefined));
    outbox.add([event()]);
    await outbox.flush();
    expect(calls).toHaveLength(1);
    fail = false;
    await outbox.flush();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(calls).toHaveLength(2);
  });

  it('drops, counted with the status, what cannot succeed by retrying', async () => {
    const { outbox, calls, reports } = setup(() => Promise.reject(deliveryError('http_400', false)));
    outbox.add([event()]);
    await outbox.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(reports.at(-1)).toMatchObject({ status: 'failed', reason: 'http_400' });
    expect(outbox.size()).toBe(0);
  });

  it('gives a throwing adapter three attempts, then drops its events, counted', async () => {
    const { outbox, calls, reports } = setup(() => {
      throw new Error('boom');
    });
    outbox.add([event()]);
    await outbox.flush();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(3);
    expect(reports.at(-1)).toMatchObject({ status: 'failed', reason: 'boom' });
  });

  it('times out a send that never settles and tries again', async () => {
    const { outbox, calls, reports } = setup(() => new Promise(() => {}));
    outbox.add([event()]);
    void outbox.flush();
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS);
    expect(reports.some((r) => r.status === 'retrying' && r.reason === 'timeout')).toBe(true);
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS + 2000);
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });

  it('does not beacon after a failure when the events are stored for the next page', async () => {
    const journal = memoryJournal();
    vi.spyOn(journal, 'release');
    let failing = true;
    const { outbox, calls } = setup(() => (failing ? Promise.reject(deliveryError('network', true)) : undefined), { journal: () => journal });
    outbox.add([event()]);
    await outbox.flush();
    expect(calls).toHaveLength(1);
    failing = false;
    outbox.leave();
    expect(calls).toHaveLength(1);
    expect(journal.release).toHaveBeenCalledOnce();
  });
});

describe('the journal', () => {
  it('adopts what a closed page left, sends it first, and forgets what another tab took', async () => {
    const journal = memoryJournal();
    const left = event();
    const taken = event();
    await journal.put('test', [
      { e: left, o: null, l: 0, q: 1 },
      { e: taken, o: 'other-tab', l: Date.now() + LEASE_MS, q: 1 },
    ]);
    const { outbox, calls, reports } = setup(() => {}, { journal: () => journal });
    const mine = event();
    outbox.add([mine]);
    await outbox.flush();
    expect(calls).toEqual([{ ids: [left.event_id, mine.event_id], leaving: false }]);
    expect(reports).toContainEqual({ status: 'queued', ids: [left.event_id], reason: 'recovered' });
    expect([...journal.rows.keys()]).toEqual([taken.event_id]);
  });

  it.each([
    ['throws at once', () => { throw new Error('indexedDB.open is broken'); }],
    ['rejects', () => Promise.reject(new Error('open failed'))],
  ])('carries on in memory when IndexedDB %s', async (_, broken) => {
    const journal = { put: broken, claim: broken, remove: broken, release: broken, clear: broken } as unknown as Journal;
    const journalFailed = vi.fn();
    let usable = true;
    const { outbox, ids } = setup(() => {}, {
      journal: () => (usable ? journal : undefined),
      journalFailed: (error) => ((usable = false), journalFailed(error)),
    });
    const events = [event(), event()];
    outbox.add(events);
    await outbox.flush();
    expect(ids('sent')).toEqual(events.map((e) => e.event_id));
    expect(journalFailed).toHaveBeenCalled();
  });

  it('stores an event by the end of the task that tracked it, so a crash right after loses nothing', async () => {
    const journal = memoryJournal();
    const { outbox } = setup(() => new Promise(() => {}), { journal: () => journal, batch: { size: 100, intervalMs: 60_000 } });
    const put = vi.spyOn(journal, 'put');
    const first = event();
    const second = event();
    outbox.add([first]);
    outbox.add([second]);
    await Promise.resolve();
    expect([...journal.rows.keys()]).toEqual([first.event_id, second.event_id]);
    expect(put).toHaveBeenCalledOnce(); // one task, one transaction
  });

  it('keeps an event tracked while a round claims from the journal', async () => {
    const journal = memoryJournal();
    const claim = journal.claim;
    let during: MicroconvEvent | undefined;
    const { outbox, calls } = setup(() => {}, {
      journal: () => journal,
      batch: { size: 100, intervalMs: 60_000 },
    });
    journal.claim = async (...args) => {
      const result = await claim(...args);
      if (!during) outbox.add([(during = event())]); // arrives while the claim is under way
      return result;
    };
    outbox.add([event()]);
    await outbox.flush();
    expect(calls.flatMap((call) => call.ids)).toContain(during!.event_id);
    expect(outbox.size()).toBe(0);
  });

  it('frees what it cannot beacon when the page is left, for the next page', async () => {
    const journal = memoryJournal();
    const { outbox, calls } = setup(() => Promise.reject(deliveryError('http_503', true)), { journal: () => journal });
    outbox.add([event()]);
    await outbox.flush();
    outbox.leave();
    expect(calls).toHaveLength(1);
    expect([...journal.rows.values()].map((row) => row.o)).toEqual([null]);
  });
});

describe('leaving the page', () => {
  it('hands over only what fits the 64 KiB beacon budget, and frees the rest for the next page', () => {
    const journal = memoryJournal();
    const { outbox, calls } = setup(() => {}, { journal: () => journal, batch: { size: 100, intervalMs: 60_000 } });
    const events = Array.from({ length: 6 }, () => event({ text: 'x'.repeat(20_000) }));
    outbox.add(events);
    outbox.leave();
    const sent = calls.flatMap((call) => call.ids);
    expect(sent).toEqual(events.slice(0, 3).map((e) => e.event_id)); // 3 × 20 kB fit, a 4th would not
    expect(calls.every((call) => call.leaving)).toBe(true);
    const left = [...journal.rows.values()];
    expect(left.map((row) => row.e.event_id)).toEqual(events.slice(3).map((e) => e.event_id));
    expect(left.every((row) => row.o === null)).toBe(true);
  });

  it("tells the next page, through localStorage, which of a closed page's events to take over and which it sent", async () => {
    localStorage.clear();
    const journal = memoryJournal();
    const closing = setup(() => {}, { journal: () => journal, owner: 'closing', batch: { size: 100, intervalMs: 60_000 } });
    const events = Array.from({ length: 5 }, () => event({ text: 'x'.repeat(20_000) }));
    closing.outbox.add(events);
    await Promise.resolve(); // stored at the end of the task
    closing.outbox.leave(true);
    // The page's IndexedDB writes at pagehide may not land: as if none had, every event is still its own.
    for (const row of journal.rows.values()) row.o = 'closing';
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls.flatMap((call) => call.ids)).toEqual(events.slice(3).map((e) => e.event_id));
    expect(journal.rows.size).toBe(0);
    expect(Object.keys(localStorage).filter((key) => key.startsWith('microconv:gone:'))).toEqual([]);
  });

  it("keeps a server's Retry-After for the next page of the site", async () => {
    localStorage.clear();
    const journal = memoryJournal();
    const first = setup(() => Promise.reject(deliveryError('http_429', true, 600_000)), { journal: () => journal });
    first.outbox.add([event()]);
    await first.outbox.flush();
    first.outbox.leave();
    const next = setup(() => {}, { journal: () => journal });
    await next.outbox.flush();
    expect(next.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(next.calls).toHaveLength(1);
    localStorage.clear();
  });

  it('sends what a closed page left in the order it was tracked, even within one millisecond', async () => {
    const journal = memoryJournal();
    const burst = Array.from({ length: 8 }, () => ({ ...event(), ts: 1000 }));
    // Stored in a shuffled order, as IndexedDB returns them (by random id).
    await journal.put('test', [5, 2, 7, 0, 3, 6, 1, 4].map((i) => ({ e: burst[i]!, o: null, l: 0, q: i + 1 })));
    const { outbox, calls } = setup(() => {}, { journal: () => journal });
    await outbox.flush();
    expect(calls.flatMap((call) => call.ids)).toEqual(burst.map((e) => e.event_id));
  });
});

describe('bounds and consent', () => {
  it('drops the oldest events past the bound, counted', () => {
    const { outbox, reports } = setup(() => new Promise(() => {}), { batch: { size: 5000, intervalMs: 60_000 } });
    const events = Array.from({ length: MAX_QUEUED_EVENTS + 5 }, () => event());
    outbox.add(events);
    expect(outbox.size()).toBe(MAX_QUEUED_EVENTS);
    expect(reports.find((r) => r.status === 'dropped')).toEqual({
      status: 'dropped',
      ids: events.slice(0, 5).map((e) => e.event_id),
      reason: 'queue_full',
    });
  });

  it('holds events while consent is pending, and sends them once granted', async () => {
    let consent: ConsentValue = 'pending';
    const { outbox, calls, ids } = setup(() => {}, { consent: () => consent });
    outbox.add([event(), event(), event()]);
    await vi.advanceTimersByTimeAsync(5000);
    outbox.leave();
    expect(calls).toHaveLength(0);
    expect(ids('held')).toHaveLength(3);
    consent = 'granted';
    outbox.consentChanged();
    await vi.advanceTimersByTimeAsync(0);
    expect(ids('sent')).toHaveLength(3);
  });

  it('drops held events, counted, when consent is denied', () => {
    let consent: ConsentValue = 'pending';
    const { outbox, calls, reports } = setup(() => {}, { consent: () => consent });
    outbox.add([event()]);
    consent = 'denied';
    outbox.consentChanged();
    outbox.add([event()]);
    expect(calls).toHaveLength(0);
    expect(reports.filter((r) => r.reason === 'consent_denied').flatMap((r) => r.ids)).toHaveLength(2);
    expect(outbox.size()).toBe(0);
  });
});

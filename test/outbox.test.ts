import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HANDOVER_MS, MAX_QUEUED_BYTES, MAX_QUEUED_EVENTS, createOutbox, type OutboxOptions } from '../src/core/outbox';
import { MAX_REQUEST_BYTES, MAX_STRIKES, SEND_TIMEOUT_MS, sizeOf } from '../src/core/send';
import { BACKOFF_CAP_MS, deliveryError } from '../src/core/backoff';
import { LEASE_MS, LOCK_LAG_MS, MARK_ROOM, claimAll, claimRule, readStored, withLost, type Journal, type ShortStoredEvent, type StoredEvent } from '../src/core/journal';
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

/** A journal with the semantics of the IndexedDB one, in memory: rows as IndexedDB would hold them, in either format. */
function memoryJournal() {
  const rows = new Map<string, StoredEvent | ShortStoredEvent>();
  const idOf = (stored: StoredEvent | ShortStoredEvent) => readStored(stored).event.event_id;
  const journal: Journal = {
    _put: async (_, events) => void events.forEach((stored) => rows.set(idOf(stored), { ...stored })),
    _remove: async (_, ids) => void ids.forEach((id) => rows.delete(id)),
    _clear: async () => rows.clear(),
    _claim: async (_, claim) => claim([...rows.values()], (stored) => rows.set(idOf(stored), stored), (id) => rows.delete(id)),
  };
  /** The rows, read in today's format. */
  const read = () => [...rows.values()].map(readStored);
  return Object.assign(journal, { rows, read });
}

type Report = { status: DeliveryStatus; ids: string[]; reason?: string };
/** The options of an outbox, by their plain names. */
type Options = { [K in keyof OutboxOptions as K extends `_${infer Name}` ? Name : never]: OutboxOptions[K] };

function setup(send: Adapter['send'], overrides: Partial<Options> = {}) {
  const reports: Report[] = [];
  const calls: { ids: string[]; leaving: boolean }[] = [];
  const adapter: Adapter = {
    name: 'test',
    send: (events, context) => {
      calls.push({ ids: events.map((e) => e.event_id), leaving: context.leaving });
      return send(events, context);
    },
  };
  const options: Options = {
    adapter,
    owner: 'me',
    consent: () => 'granted',
    journal: () => undefined,
    journalFailed: () => {},
    batch: { size: 3, intervalMs: 1000 },
    report: (status, ids, reason) => void (ids.length && reports.push({ status, ids, reason })),
    count: () => {},
    log: () => {},
    ...overrides,
  };
  // The outbox's options are `_`-named (internal); here they go by their plain names.
  const outbox = createOutbox(Object.fromEntries(Object.entries(options).map(([name, value]) => ['_' + name, value])) as unknown as OutboxOptions);
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
    let failing = true;
    const { outbox, calls } = setup(() => (failing ? Promise.reject(deliveryError('network', true)) : undefined), { journal: () => journal });
    outbox.add([event()]);
    await outbox.flush();
    expect(calls).toHaveLength(1);
    failing = false;
    const put = vi.spyOn(journal, '_put');
    outbox.leave();
    expect(calls).toHaveLength(1);
    // Freed, once, for the next page.
    expect(put.mock.calls).toEqual([['test', [expect.objectContaining({ owner: null, leaseUntil: 0 })]]]);
  });
});

describe('the journal', () => {
  it('adopts what a closed page left, sends it first, and forgets what another tab took', async () => {
    const journal = memoryJournal();
    const left = event();
    const taken = event();
    await journal._put('test', [
      { event: left, owner: null, leaseUntil: 0, sequence: 1 },
      { event: taken, owner: 'other-tab', leaseUntil: Date.now() + LEASE_MS, sequence: 1 },
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
    const journal = { _put: broken, _claim: broken, _remove: broken, _clear: broken } as unknown as Journal;
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

  /**
   * A journal whose writes fail from `full()` on, as IndexedDB's do once the quota is used up (deletes
   * still work then), and the outbox's options that give it up at its first failure, as the instance does.
   */
  function fillingJournal() {
    const journal = memoryJournal();
    const put = journal._put;
    let full = false;
    let usable = true;
    journal._put = (...args) => (full ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : put(...args));
    const options = { journal: () => (usable ? journal : undefined), journalFailed: () => void (usable = false) };
    return { journal, options, full: () => void (full = true), usable: () => usable };
  }

  // Found by the fault matrix (e2e/reliability.spec.ts, "IndexedDB over quota"): the events stored before
  // IndexedDB failed stayed there after they were delivered from memory, and the next page sent them again.
  it('removes from IndexedDB what it delivers after IndexedDB failed, so no later page sends it again', async () => {
    const { journal, options, full, usable } = fillingJournal();
    let refusing = true;
    const { outbox, ids } = setup(() => (refusing ? Promise.reject(deliveryError('http_503', true)) : undefined), options);
    const stored = [event(), event()];
    outbox.add(stored);
    await outbox.flush();
    expect([...journal.rows.keys()]).toEqual(stored.map((e) => e.event_id));
    full();
    const later = event();
    outbox.add([later]); // its write fails: the queue goes on in memory
    await vi.advanceTimersByTimeAsync(0);
    expect(usable()).toBe(false);
    refusing = false;
    await outbox.flush();
    expect(ids('sent')).toEqual([later, ...stored].map((e) => e.event_id));
    expect([...journal.rows.keys()]).toEqual([]);
  });

  it('after IndexedDB failed, a page that leaves tells the next page what it stored before and sent since', async () => {
    localStorage.clear();
    const { journal, options, full } = fillingJournal();
    let refusing = true;
    const closing = setup(() => (refusing ? Promise.reject(deliveryError('http_503', true)) : undefined), { ...options, owner: 'closing' });
    const stored = [event(), event()];
    closing.outbox.add(stored);
    await closing.outbox.flush();
    full();
    closing.outbox.add([event()]);
    await vi.advanceTimersByTimeAsync(0);
    refusing = false;
    // Its deletes at pagehide may not land: as if none had, the stored events stay as they were.
    journal._remove = async () => {};
    closing.outbox.leave(true);
    expect(closing.calls.filter((call) => call.leaving).flatMap((call) => call.ids)).toEqual(expect.arrayContaining(stored.map((e) => e.event_id)));
    await vi.advanceTimersByTimeAsync(LEASE_MS + 1000); // the closed page's claims are over (its Web Lock, in a browser)
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls).toEqual([]);
    expect(journal.rows.size).toBe(0);
    localStorage.clear();
  });

  it('stores an event by the end of the task that tracked it, so a crash right after loses nothing', async () => {
    const journal = memoryJournal();
    const { outbox } = setup(() => new Promise(() => {}), { journal: () => journal, batch: { size: 100, intervalMs: 60_000 } });
    const put = vi.spyOn(journal, '_put');
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
    const claim = journal._claim;
    let during: MicroconvEvent | undefined;
    const { outbox, calls } = setup(() => {}, {
      journal: () => journal,
      batch: { size: 100, intervalMs: 60_000 },
    });
    journal._claim = async (...args) => {
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
    expect(journal.read().map((row) => row.owner)).toEqual([null]);
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
    const left = journal.read();
    expect(left.map((row) => row.event.event_id)).toEqual(events.slice(3).map((e) => e.event_id));
    expect(left.every((row) => row.owner === null)).toBe(true);
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
    for (const row of journal.read()) journal.rows.set(row.event.event_id, { ...row, owner: 'closing' });
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls.flatMap((call) => call.ids)).toEqual(events.slice(3).map((e) => e.event_id));
    expect(journal.rows.size).toBe(0);
    expect(Object.keys(localStorage).filter((key) => key.startsWith('microconv:gone:'))).toEqual([]);
  });

  it("reads the closed pages' marks at its first claim, and after only when a stored event of another instance asks", async () => {
    localStorage.clear();
    localStorage.setItem('microconv:gone:test stale', JSON.stringify([0, []])); // a page that left nothing
    const journal = memoryJournal();
    const enumerations = vi.spyOn(Object, 'keys');
    const storageReads = () => enumerations.mock.calls.filter(([target]) => target === localStorage).length;
    const live = setup(() => {}, { journal: () => journal, owner: 'me', batch: { size: 1, intervalMs: 60_000 } });
    for (let round = 0; round < 3; round++) {
      live.outbox.add([event()]);
      await live.outbox.flush();
    }
    expect(live.calls).toHaveLength(3);
    expect(storageReads()).toBe(1);
    expect(localStorage.getItem('microconv:gone:test stale')).toBeNull();
    // Another tab leaves events it freed: the next claim finds them, reads the marks and takes them over.
    const closing = setup(() => {}, { journal: () => journal, owner: 'closing', batch: { size: 100, intervalMs: 60_000 } });
    const freed = Array.from({ length: 4 }, () => event({ text: 'x'.repeat(20_000) }));
    closing.outbox.add(freed);
    await Promise.resolve();
    closing.outbox.leave(true);
    // As if none of its IndexedDB writes at pagehide had landed: its mark alone says what it freed.
    for (const row of journal.read()) if (row.owner !== 'me') journal.rows.set(row.event.event_id, { ...row, owner: 'closing' });
    await live.outbox.flush();
    expect(storageReads()).toBe(2);
    expect(live.calls.slice(3).flatMap((call) => call.ids)).toEqual(freed.slice(3).map((e) => e.event_id));
    expect(journal.rows.size).toBe(0);
    expect(Object.keys(localStorage).filter((key) => key.startsWith('microconv:gone:'))).toEqual([]);
    enumerations.mockRestore();
    localStorage.clear();
  });

  // Found by CI (e2e/persistence.spec.ts): writes that have not landed when the page is torn down die with it.
  it("carries in a closed page's mark the events whose write it never saw land, and the next page sends them once", async () => {
    localStorage.clear();
    const journal = memoryJournal();
    const closing = setup(() => Promise.reject(deliveryError('http_503', true)), { journal: () => journal, owner: 'closing', batch: { size: 1, intervalMs: 60_000 } });
    const [landed, lost, big] = [event(), event(), event({ text: 'x'.repeat(MARK_ROOM) })];
    closing.outbox.add([landed]);
    await closing.outbox.flush(); // its claim ran after the write: landed
    const put = journal._put;
    journal._put = async () => {}; // from here on, no write lands
    closing.outbox.add([lost]);
    closing.outbox.add([big]);
    await Promise.resolve();
    closing.outbox.leave(true);
    const [, freed, copies] = JSON.parse(localStorage.getItem('microconv:gone:test closing')!);
    expect(freed).toEqual([landed, lost, big].map((e) => e.event_id));
    // Only what it never saw land, the newest first, within the room a mark gives them.
    expect(copies.map((stored: StoredEvent) => [stored.event.event_id, stored.owner])).toEqual([[lost.event_id, 'closing']]);
    expect(journal.read().map((row) => row.event.event_id)).toEqual([landed.event_id]);

    journal._put = put;
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls.flatMap((call) => call.ids)).toEqual([landed.event_id, lost.event_id]);
    expect(journal.rows.size).toBe(0);
    expect(Object.keys(localStorage).filter((key) => key.startsWith('microconv:gone:'))).toEqual([]);
    localStorage.clear();
  });

  it('still says which events it freed where the copies do not fit in localStorage', async () => {
    localStorage.clear();
    const journal = memoryJournal();
    const closing = setup(() => Promise.reject(deliveryError('http_503', true)), { journal: () => journal, owner: 'closing', batch: { size: 1, intervalMs: 60_000 } });
    const events = [event(), event()];
    closing.outbox.add([events[0]!]);
    await closing.outbox.flush(); // the destination fails: nothing leaves by beacon
    journal._put = async () => {}; // from here on, no write lands
    closing.outbox.add([events[1]!]);
    await Promise.resolve();
    const setItem = localStorage.setItem.bind(localStorage);
    const full = vi.spyOn(localStorage, 'setItem').mockImplementation((key, value) => {
      if (value.length > 200) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      setItem(key, value);
    });
    closing.outbox.leave(true);
    const tries = full.mock.calls.map(([, value]) => JSON.parse(value).length);
    full.mockRestore();
    expect(tries).toEqual([3, 2]); // with the copy, then without
    expect(JSON.parse(localStorage.getItem('microconv:gone:test closing')!)[1]).toEqual(events.map((e) => e.event_id));
    localStorage.clear();
  });

  it("reads a mark's copy of an event only where its record is missing, and each event once", () => {
    const [stored, missing] = [event(), event()].map((e): StoredEvent => ({ event: e, owner: 'closed', leaseUntil: 0, sequence: 1 }));
    const taken = { ...stored!, owner: 'another-tab' }; // its record, which another tab has claimed since
    const mark = { _freed: new Set([stored!.event.event_id, missing!.event.event_id]), _lost: [stored!, missing!] };
    const gone = new Map([['closed', mark], ['also-closed', mark], ['unreadable', undefined]]);
    expect(withLost([taken], gone, () => true)).toEqual([taken, missing]);
    expect(withLost([taken], undefined, () => true)).toEqual([taken]);
    // A mark removed since it was read (the tab that removed it took its events, and may have sent them).
    expect(withLost([], gone, (owner) => owner === 'unreadable')).toEqual([]);
  });

  // Found by the soak (e2e/soak.spec.ts): a batch in flight as the page was left counted as handed over,
  // and when its answer (a 503) came before the page was gone, nothing freed it: the next page deleted it
  // as sent, and it was lost, counted nowhere.
  it('frees for the next page what was in flight when the page was left and then failed', async () => {
    localStorage.clear();
    const journal = memoryJournal();
    let refuse: (error: unknown) => void = () => {};
    const closing = setup(() => new Promise((_, reject) => (refuse = reject)), { journal: () => journal, owner: 'closing', batch: { size: 100, intervalMs: 60_000 } });
    const events = [event(), event()];
    closing.outbox.add(events);
    void closing.outbox.flush();
    await vi.advanceTimersByTimeAsync(0); // the request is on its way
    expect(closing.calls).toHaveLength(1);
    closing.outbox.leave(true);
    refuse(deliveryError('http_503', true));
    await vi.advanceTimersByTimeAsync(0);
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls.flatMap((call) => call.ids)).toEqual(events.map((e) => e.event_id));
    localStorage.clear();
  });

  it('starts no request once the page is left: what had not left yet waits for the next page', async () => {
    localStorage.clear();
    const journal = memoryJournal();
    let answer: () => void = () => {};
    const closing = setup(() => new Promise<void>((resolve) => (answer = resolve)), { journal: () => journal, owner: 'closing', batch: { size: 100, intervalMs: 60_000 } });
    // Two requests' worth: the round sends them one after the other.
    const events = Array.from({ length: 4 }, () => event({ text: 'x'.repeat(20_000) }));
    closing.outbox.add(events);
    void closing.outbox.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(closing.calls).toHaveLength(1);
    closing.outbox.leave(true);
    answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(closing.calls).toHaveLength(1);
    const next = setup(() => {}, { journal: () => journal, owner: 'next' });
    await next.outbox.flush();
    expect(next.calls.flatMap((call) => call.ids)).toEqual(events.slice(3).map((e) => e.event_id));
    localStorage.clear();
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

  it('claims what the previous version stored under one-letter names, rewrites it under today\'s, and sends it once', async () => {
    const journal = memoryJournal();
    const freed = event();
    const crashed = event();
    journal.rows.set(freed.event_id, { e: freed, o: null, l: 0, q: 1 });
    journal.rows.set(crashed.event_id, { e: crashed, o: 'crashed', l: Date.now() - 1, q: 2, suspect: true, strikes: 2 });
    let down = true;
    const { outbox, ids } = setup(() => (down ? Promise.reject(deliveryError('http_503', true)) : undefined), { journal: () => journal });
    await outbox.flush();
    expect([...journal.rows.values()]).toEqual([
      expect.objectContaining({ event: freed, owner: 'me', sequence: 1 }),
      expect.objectContaining({ event: crashed, owner: 'me', sequence: 2, suspect: true, strikes: 2 }),
    ]);
    expect([...journal.rows.values()].some((row) => 'e' in row)).toBe(false);
    down = false;
    await outbox.flush();
    expect(ids('sent').sort()).toEqual([freed.event_id, crashed.event_id].sort());
    expect(journal.rows.size).toBe(0);
  });

  it('sends what a closed page left in the order it was tracked, even within one millisecond', async () => {
    const journal = memoryJournal();
    const burst = Array.from({ length: 8 }, () => ({ ...event(), ts: 1000 }));
    // Stored in a shuffled order, as IndexedDB returns them (by random id).
    await journal._put('test', [5, 2, 7, 0, 3, 6, 1, 4].map((i) => ({ event: burst[i]!, owner: null, leaseUntil: 0, sequence: i + 1 })));
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

  it('drops the oldest events past the byte bound, counted, however few they are', () => {
    const { outbox, reports } = setup(() => new Promise(() => {}), { batch: { size: 5000, intervalMs: 60_000 } });
    // 40 events of 30 kB: 1.2 MB, over the 1 MiB bound, and far under the 1,000-event one.
    const events = Array.from({ length: 40 }, () => event({ text: 'x'.repeat(30_000) }));
    outbox.add(events);
    const kept = Math.floor(MAX_QUEUED_BYTES / sizeOf(events[0]!));
    expect(kept).toBeLessThan(events.length);
    expect(outbox.size()).toBe(kept);
    expect(reports.find((r) => r.status === 'dropped')).toEqual({
      status: 'dropped',
      ids: events.slice(0, events.length - kept).map((e) => e.event_id),
      reason: 'queue_full',
    });
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

describe('an event that can never be delivered (issue 10, defect 1)', () => {
  /** A destination that fails (503, retryable) every request that carries a poisoned event, and takes the rest. */
  const poisoned = (delivered: string[]) => (events: MicroconvEvent[]) => {
    if (events.some((e) => e.params.poison)) return Promise.reject(deliveryError('http_503', true));
    delivered.push(...events.map((e) => e.event_id));
    return Promise.resolve();
  };

  it('is dropped, counted as undeliverable, after its budget, while every other event keeps flowing', async () => {
    const delivered: string[] = [];
    const { outbox, reports } = setup(poisoned(delivered));
    const poison = event({ poison: true });
    const first = [event(), poison, event()];
    outbox.add(first); // a full batch: it leaves at once, and fails
    // The visitor goes on: an event a second, each delivered within seconds of being tracked.
    const later: MicroconvEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const next = event();
      later.push(next);
      outbox.add([next]);
      await vi.advanceTimersByTimeAsync(1000);
      if (i > 5) expect(delivered).toContain(later[i - 5]!.event_id);
    }
    expect(delivered).toEqual(expect.arrayContaining([first[0]!.event_id, first[2]!.event_id, ...later.slice(0, -5).map((e) => e.event_id)]));
    expect(reports).toContainEqual({ status: 'dropped', ids: [poison.event_id], reason: 'undeliverable' });
    expect(reports.filter((r) => r.status === 'dropped' || r.status === 'failed').flatMap((r) => r.ids)).toEqual([poison.event_id]);
    expect(delivered).not.toContain(poison.event_id);
  });

  it('is found when everything went out in one request with it, and nothing else is tracked after', async () => {
    // A busy page tracks all of it before the first round: one request holds the poison and its
    // neighbours, and no later event shows that the destination works.
    const delivered: string[] = [];
    const { outbox, reports } = setup(poisoned(delivered), { batch: { size: 100, intervalMs: 1000 } });
    const poison = event({ poison: true });
    const neighbours = [event(), event(), event(), event(), event()];
    outbox.add([neighbours[0]!, neighbours[1]!, poison, ...neighbours.slice(2)]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(delivered.sort()).toEqual(neighbours.map((e) => e.event_id).sort());
    expect(outbox.size()).toBe(1);
    expect(reports.filter((r) => r.status === 'dropped' || r.status === 'failed')).toEqual([]);
  });

  it('loses nothing while the whole destination fails, for an hour, and then sends everything', async () => {
    let down = true;
    const { outbox, calls, reports, ids } = setup(() => (down ? Promise.reject(deliveryError('http_503', true)) : Promise.resolve()));
    const events: MicroconvEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const next = event();
      events.push(next);
      outbox.add([next]);
      await vi.advanceTimersByTimeAsync(90_000);
    }
    expect(reports.filter((r) => r.status === 'dropped' || r.status === 'failed')).toEqual([]);
    // Backing off: a few requests a backoff round, not one per event.
    expect(calls.length).toBeLessThan(60);
    down = false;
    await vi.advanceTimersByTimeAsync(BACKOFF_CAP_MS);
    expect(ids('sent').sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(outbox.size()).toBe(0);
  });

  it('keeps its count across page loads, so that reloading does not renew its budget', async () => {
    const journal = memoryJournal();
    const poison = event({ poison: true });
    await journal._put('test', [{ event: poison, owner: null, leaseUntil: 0, sequence: 1, suspect: true, strikes: MAX_STRIKES - 1 }]);
    const delivered: string[] = [];
    const { outbox, reports } = setup(poisoned(delivered), { journal: () => journal });
    const fresh = event();
    outbox.add([fresh]);
    await outbox.flush();
    expect(delivered).toEqual([fresh.event_id]);
    expect(reports).toContainEqual({ status: 'dropped', ids: [poison.event_id], reason: 'undeliverable' });
    expect(journal.rows.size).toBe(0);
  });

  it('writes each strike to the journal, and leaves a culprit to the next page rather than beaconing it', async () => {
    const journal = memoryJournal();
    const delivered: string[] = [];
    const { outbox, calls } = setup(poisoned(delivered), { journal: () => journal, batch: { size: 100, intervalMs: 60_000 } });
    const poison = event({ poison: true });
    outbox.add([poison]);
    await outbox.flush(); // fails on its own: nothing says yet whether the destination works
    outbox.add([event()]);
    await outbox.flush(); // the fresh event goes, the poison fails again: a strike
    expect(journal.rows.get(poison.event_id)).toMatchObject({ suspect: true, strikes: 1 });
    const before = calls.length;
    outbox.add([event()]);
    outbox.leave(true);
    expect(calls.slice(before).flatMap((call) => call.ids)).not.toContain(poison.event_id);
    expect(journal.rows.get(poison.event_id)).toMatchObject({ owner: null, strikes: 1 });
  });
});

describe('events the destination names as refused within a batch it took (issue 10, defect 2)', () => {
  it('are dropped, counted as rejected, and not resent; the rest count as sent', async () => {
    const events = [event(), event(), event()];
    const answer = { rejected: [{ event_id: events[1]!.event_id, problems: ['params.deep: nested too deep'] }], stored: 2 };
    const { outbox, calls, reports, ids } = setup(() => Promise.resolve(answer) as unknown as Promise<void>);
    outbox.add(events);
    await outbox.flush();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(ids('sent')).toEqual([events[0]!.event_id, events[2]!.event_id]);
    expect(reports).toContainEqual({ status: 'dropped', ids: [events[1]!.event_id], reason: 'rejected' });
    expect(outbox.size()).toBe(0);
  });

  it('ignore an answer of any other shape', async () => {
    for (const answer of [undefined, null, 'ok', { stored: 3 }, { rejected: 'all' }, { rejected: [null, 7, { event_id: 'someone-else' }] }]) {
      const events = [event(), event()];
      const { outbox, ids } = setup(() => Promise.resolve(answer) as unknown as Promise<void>);
      outbox.add(events);
      await outbox.flush();
      expect(ids('sent')).toEqual(events.map((e) => e.event_id));
    }
  });
});

describe('sent once when hidden (issue 10, defect 4)', () => {
  it('an event that leaves by beacon while a round is claiming is not sent again by that round', async () => {
    const journal = memoryJournal();
    // Like the endpoint: a beacon is a synchronous hand-over, a fetch a promise.
    const { outbox, calls } = setup((_, { leaving }) => (leaving ? undefined : Promise.resolve()), { journal: () => journal, batch: { size: 100, intervalMs: 60_000 } });
    const hidden = event();
    outbox.add([hidden]);
    const round = outbox.flush(); // its claim is running from here on
    outbox.leave(); // the tab is hidden meanwhile
    await round;
    expect(calls.filter((call) => call.ids.includes(hidden.event_id))).toEqual([{ ids: [hidden.event_id], leaving: true }]);
    expect(journal.rows.size).toBe(0);
  });
});

describe('claims on stored events (issue 10, defect 3)', () => {
  const row = (owner: string, lease: number): StoredEvent => ({ event: event(), owner, leaseUntil: lease, sequence: 1 });
  const now = 1_000_000;

  it('with Web Locks: an owner without a lock has gone, whatever its lease; one with a lock keeps its events', () => {
    const live = new Set(['alive']);
    expect(claimRule(row('crashed', now + LEASE_MS - LOCK_LAG_MS - 5), 'me', now, () => undefined, live)).toBe('take');
    expect(claimRule(row('alive', now - 1), 'me', now, () => undefined, live)).toBe('leave');
    // Stored after the locks were read, or just before: an instance that has just started, not yet listed.
    expect(claimRule(row('starting', now + 10 + LEASE_MS), 'me', now, () => undefined, live)).toBe('leave');
    expect(claimRule(row('starting', now - LOCK_LAG_MS + LEASE_MS), 'me', now, () => undefined, live)).toBe('leave');
    expect(claimRule(row('crashed', now - LOCK_LAG_MS - 1 + LEASE_MS), 'me', now, () => undefined, live)).toBe('take');
  });

  // Found by CI (e2e/persistence.spec.ts, two tabs opened together): both tabs sent every event. A tab that
  // claimed events within the same millisecond as another tab read the locks, its own lock not yet
  // listed there, counted as gone, and both sent them.
  it("with Web Locks, events a tab has just claimed stay its own while its lock does not show in another tab's query yet", async () => {
    const journal = memoryJournal();
    let answer: () => void = () => {};
    const first = setup(() => new Promise<void>((resolve) => (answer = resolve)), { journal: () => journal, owner: 'first', locks: { _live: async () => new Set(['first']), _watch: () => {} } });
    const claimed = event();
    first.outbox.add([claimed]);
    const sending = first.outbox.flush();
    await vi.advanceTimersByTimeAsync(1); // its claim is done, its request in flight
    expect(first.calls.flatMap((call) => call.ids)).toEqual([claimed.event_id]);
    const watched: string[] = [];
    const second = setup(() => {}, { journal: () => journal, owner: 'second', locks: { _live: async () => new Set(['second']), _watch: (owner) => void watched.push(owner) } });
    await second.outbox.flush();
    expect(second.calls).toEqual([]);
    expect(watched).toEqual(['first']);
    answer();
    await sending;
    expect(journal.rows.size).toBe(0);
  });

  it('without Web Locks: the lease decides', () => {
    expect(claimRule(row('other', now + 1), 'me', now, () => undefined)).toBe('leave');
    expect(claimRule(row('other', now - 1), 'me', now, () => undefined)).toBe('take');
  });

  it('writes back only what changes: with Web Locks, not our own events in today\'s format; without, every one it takes, with a new lease', () => {
    const mine = row('me', now + 5);
    const crashed = row('crashed', now - 5);
    const old: ShortStoredEvent = { e: event(), o: 'me', l: now + 5, q: 2 };
    const written = (live?: Set<string>) => {
      const taken: StoredEvent[] = [];
      const claim = claimAll([mine, crashed, old], 'me', now, () => undefined, live, (stored) => taken.push(stored), () => {});
      expect(claim._claimed.map((stored) => stored.event.event_id)).toEqual([mine, crashed, old].map((record) => readStored(record).event.event_id));
      return taken;
    };
    const withLocks = written(new Set(['me']));
    expect(withLocks.map((stored) => stored.event.event_id)).toEqual([crashed.event.event_id, old.e.event_id]);
    expect(withLocks.every((stored) => stored.owner === 'me' && stored.leaseUntil === now + LEASE_MS && 'event' in stored)).toBe(true);
    expect(written().map((stored) => [stored.event.event_id, stored.leaseUntil])).toEqual([mine, crashed, old].map((record) => [readStored(record).event.event_id, now + LEASE_MS]));
  });

  it('with Web Locks, a page takes what a dead owner left at once, and is woken to take what a live one leaves when it goes', async () => {
    const journal = memoryJournal();
    const dead = event();
    const held = event();
    await journal._put('test', [
      // Both stored a while ago (see the test below for what was stored just now).
      { event: dead, owner: 'crashed', leaseUntil: Date.now() - LOCK_LAG_MS - 1 + LEASE_MS, sequence: 1 },
      { event: held, owner: 'other', leaseUntil: Date.now() - LOCK_LAG_MS + LEASE_MS, sequence: 1 },
    ]);
    const alive = new Set(['other']);
    const watched: string[] = [];
    const { outbox, calls } = setup(() => {}, { journal: () => journal, locks: { _live: async () => new Set(alive), _watch: (owner) => void watched.push(owner) } });
    await outbox.flush();
    expect(calls.flatMap((call) => call.ids)).toEqual([dead.event_id]);
    expect(watched).toEqual(['other']);
    alive.clear(); // the other tab crashed: its lock is free, and the page that waited for it is woken
    outbox.wake();
    await vi.advanceTimersByTimeAsync(HANDOVER_MS);
    expect(calls.flatMap((call) => call.ids)).toEqual([dead.event_id, held.event_id]);
  });

  it('without Web Locks, a page that stays open takes over a foreign lease when it runs out', async () => {
    const journal = memoryJournal();
    const foreign = event();
    await journal._put('test', [{ event: foreign, owner: 'crashed', leaseUntil: Date.now() + 30_000, sequence: 1 }]);
    const { outbox, calls } = setup(() => {}, { journal: () => journal });
    await outbox.flush();
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_001);
    expect(calls.flatMap((call) => call.ids)).toEqual([foreign.event_id]);
  });
});

describe('an adapter whose every delivery fails (issue 10, defect 6)', () => {
  it('says so once, as an error, not once per batch', async () => {
    const log = vi.fn();
    const { outbox } = setup(() => Promise.reject(deliveryError('http_400', false)), { log });
    for (let i = 0; i < 6; i++) outbox.add([event()]), await outbox.flush();
    const errors = log.mock.calls.filter(([level]) => level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toMatch(/^test: .*http_400/);
  });

  it('says nothing of the kind once a delivery has succeeded', async () => {
    const log = vi.fn();
    let fail = false;
    const { outbox } = setup(() => (fail ? Promise.reject(deliveryError('http_400', false)) : Promise.resolve()), { log });
    outbox.add([event()]);
    await outbox.flush();
    fail = true;
    for (let i = 0; i < 6; i++) outbox.add([event()]), await outbox.flush();
    expect(log.mock.calls.filter(([level]) => level === 'error')).toEqual([]);
  });
});

/**
 * `consent: 'tcf'`: microconv follows an IAB TCF v2.2 CMP through `__tcfapi('addEventListener', 2, …)`,
 * mapping its TC data to the four Consent Mode purposes by the table in the README.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GOOGLE_VENDOR_ID, followTcfConsent, tcfConsent, type TcData } from '../src/consent/tcf';
import type { ConsentState, LogEntry, Purpose } from '../src/types';
import { all, purposeProbe } from './support/purposes';

type Callback = (answer: unknown, success: boolean) => void;
type TcfApi = (command: string, version: number, callback: Callback, parameter?: unknown) => void;
const page = window as unknown as { __tcfapi?: TcfApi };

const EVERY_PURPOSE = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [i + 1, true]));

/** TC data as a CMP hands it to a listener: by default, every purpose and Google consented. */
const tcData = (eventStatus: string, consents: Record<number, boolean> = EVERY_PURPOSE, more: Partial<TcData> = {}): TcData => ({
  gdprApplies: true,
  eventStatus,
  purpose: { consents, legitimateInterests: {} },
  vendor: { consents: { [GOOGLE_VENDOR_ID]: true }, legitimateInterests: {} },
  ...more,
});

/** A stand-in CMP with the calls of the TCF v2.2 CMP API that microconv may make: ping, addEventListener, removeEventListener. */
function standInCmp() {
  const listeners = new Map<number, Callback>();
  const calls: string[] = [];
  let current: TcData | undefined;
  let lastId = 0;
  const api: TcfApi = (command, version, callback, parameter) => {
    calls.push(command);
    if (version !== 2) return callback(false, false);
    if (command === 'ping') return callback({ gdprApplies: true, cmpLoaded: true, cmpStatus: 'loaded', displayStatus: 'hidden', apiVersion: '2.2' }, true);
    if (command === 'removeEventListener') return callback(listeners.delete(parameter as number), true);
    if (command !== 'addEventListener') return callback(null, false);
    const id = ++lastId;
    listeners.set(id, callback);
    // A listener hears the current state at once, when there is one, then every change.
    if (current) callback({ ...current, listenerId: id }, true);
  };
  return {
    api,
    calls,
    listeners,
    install: () => (page.__tcfapi = api),
    tell(data: TcData) {
      current = data;
      for (const [id, callback] of listeners) callback({ ...data, listenerId: id }, true);
    },
  };
}

beforeEach(() => {
  delete page.__tcfapi;
  localStorage.clear();
});
afterEach(() => vi.useRealTimers());

describe('the TCF mapping to Consent Mode purposes (README), purpose by purpose', () => {
  const granted = all('granted');
  const withDenied = (purposes: Purpose[]): ConsentState => ({ ...granted, ...Object.fromEntries(purposes.map((purpose) => [purpose, 'denied'])) });

  it("grants all four with every purpose and Google's vendor consent", () => {
    expect(tcfConsent(tcData('tcloaded'))).toEqual(granted);
  });

  it.each<[number, Purpose[]]>([
    [1, ['analytics_storage', 'ad_storage', 'ad_user_data']],
    [2, []],
    [3, ['ad_personalization']],
    [4, ['ad_personalization']],
    [5, []],
    [6, []],
    [7, ['ad_user_data']],
    [8, []],
    [9, []],
    [10, []],
    [11, []],
  ])('without consent to purpose %i, denies %j', (purpose, denied) => {
    expect(tcfConsent(tcData('tcloaded', { ...EVERY_PURPOSE, [purpose]: false }))).toEqual(withDenied(denied));
  });

  it('takes legitimate interest for purpose 7, where TCF allows it, and never for purposes 1, 3 and 4', () => {
    const noSeven = tcData('tcloaded', { ...EVERY_PURPOSE, 7: false });
    expect(tcfConsent({ ...noSeven, purpose: { ...noSeven.purpose, legitimateInterests: { 7: true } } })).toEqual(granted);
    const consentOnly = tcData('tcloaded', { ...EVERY_PURPOSE, 1: false, 3: false, 4: false });
    expect(tcfConsent({ ...consentOnly, purpose: { ...consentOnly.purpose, legitimateInterests: EVERY_PURPOSE } })).toEqual(all('denied'));
  });

  it("needs Google's vendor consent (755) for ad_user_data alone; Google's legitimate interest is not consent", () => {
    expect(tcfConsent(tcData('tcloaded', EVERY_PURPOSE, { vendor: { consents: {}, legitimateInterests: { [GOOGLE_VENDOR_ID]: true } } }))).toEqual(withDenied(['ad_user_data']));
    expect(tcfConsent(tcData('tcloaded', EVERY_PURPOSE, { vendor: { consents: { 1: true, 754: true } } }))).toEqual(withDenied(['ad_user_data']));
  });

  it('grants everything where GDPR does not apply, whatever else the TC data says', () => {
    expect(tcfConsent({ gdprApplies: false, eventStatus: 'tcloaded', purpose: { consents: {} } })).toEqual(granted);
  });

  it('denies what TC data without purposes or vendors cannot grant', () => {
    expect(tcfConsent({ gdprApplies: true, eventStatus: 'tcloaded' })).toEqual(all('denied'));
  });
});

describe("consent: 'tcf'", () => {
  it("holds events while the CMP asks (cmpuishown), then follows the person's choice and later changes", async () => {
    const cmp = standInCmp();
    cmp.install();
    cmp.tell(tcData('cmpuishown', {}, { vendor: { consents: {} } }));
    const { mc, state, sent } = purposeProbe({ consent: 'tcf' });
    expect(cmp.calls).toEqual(['addEventListener']);
    expect(await state()).toEqual(all('pending'));
    cmp.tell(tcData('useractioncomplete'));
    expect(await state()).toEqual(all('granted'));
    expect(sent.analytics_storage).toEqual(['probe', 'probe']); // the held one went too
    // Asked again (the CMP's settings link): what stood stands until the new answer.
    cmp.tell(tcData('cmpuishown'));
    expect(await state()).toEqual(all('granted'));
    cmp.tell(tcData('useractioncomplete', { 1: true }));
    expect(await state()).toEqual({ analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'denied', ad_personalization: 'denied' });
    await mc.destroy();
  });

  it('applies the consent the CMP already holds when it loads (tcloaded)', async () => {
    const cmp = standInCmp();
    cmp.install();
    cmp.tell(tcData('tcloaded', { 1: true, 3: true, 4: true }));
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    expect(await state()).toEqual({ analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'denied', ad_personalization: 'granted' });
    await mc.destroy();
  });

  it('grants everything where the CMP says GDPR does not apply', async () => {
    const cmp = standInCmp();
    cmp.install();
    cmp.tell({ gdprApplies: false, eventStatus: 'tcloaded' });
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    expect(await state()).toEqual(all('granted'));
    await mc.destroy();
  });

  it('finds a CMP that loads after microconv', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    expect(await state()).toEqual(all('pending'));
    vi.advanceTimersByTime(3_000);
    const cmp = standInCmp();
    cmp.install();
    cmp.tell(tcData('tcloaded'));
    vi.advanceTimersByTime(250);
    expect(cmp.calls).toEqual(['addEventListener']);
    expect(await state()).toEqual(all('granted'));
    await mc.destroy();
  });

  it('with a CMP that never answers: stays pending, warns once after 10 s, and asks only once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const calls: string[] = [];
    page.__tcfapi = (command) => void calls.push(command);
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    const logs: LogEntry[] = [];
    mc.on('log', (entry) => logs.push(entry));
    vi.advanceTimersByTime(9_999);
    expect(logs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(logs).toEqual([{ level: 'warn', message: 'tcf: no answer from a CMP (__tcfapi) after 10 s; consent stays pending' }]);
    vi.advanceTimersByTime(60_000);
    expect(logs).toHaveLength(1);
    expect(calls).toEqual(['addEventListener']);
    expect(await state()).toEqual(all('pending'));
    await mc.destroy();
  });

  it('with no CMP on the page: stays pending, warns once after 10 s, and stops looking', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    const logs: LogEntry[] = [];
    mc.on('log', (entry) => logs.push(entry));
    vi.advanceTimersByTime(10_000);
    expect(logs).toEqual([{ level: 'warn', message: 'tcf: no answer from a CMP (__tcfapi) after 10 s; consent stays pending' }]);
    const cmp = standInCmp();
    cmp.install();
    vi.advanceTimersByTime(60_000);
    expect(cmp.calls).toEqual([]);
    expect(await state()).toEqual(all('pending'));
    await mc.destroy();
  });

  it('ignores an answer that reports failure, or carries no TC data', async () => {
    page.__tcfapi = (_command, _version, callback) => (callback(tcData('tcloaded'), false), callback(undefined, true));
    const { mc, state } = purposeProbe({ consent: 'tcf' });
    expect(await state()).toEqual(all('pending'));
    await mc.destroy();
  });

  it('removes its listener from the CMP on destroy, and hears nothing after', async () => {
    const cmp = standInCmp();
    cmp.install();
    cmp.tell(tcData('cmpuishown', {}));
    const { mc } = purposeProbe({ consent: 'tcf' });
    expect(cmp.listeners.size).toBe(1);
    await mc.destroy();
    expect(cmp.calls).toEqual(['addEventListener', 'removeEventListener']);
    expect(cmp.listeners.size).toBe(0);
  });

  it('removes its listener through the __tcfapi of now: the loaded CMP, not the stub it first found', async () => {
    const queued: Parameters<TcfApi>[] = [];
    page.__tcfapi = (...call) => void queued.push(call); // the stub: queues until the CMP loads
    const { mc } = purposeProbe({ consent: 'tcf' });
    const cmp = standInCmp();
    cmp.install();
    cmp.tell(tcData('tcloaded'));
    for (const call of queued.splice(0)) cmp.api(...call);
    expect(cmp.listeners.size).toBe(1);
    await mc.destroy();
    expect(cmp.listeners.size).toBe(0);
    expect(queued).toEqual([]);
  });

  it('goes quiet on destroy even when the CMP has not answered yet (no listener id to remove)', async () => {
    const callbacks: Callback[] = [];
    page.__tcfapi = (_command, _version, callback) => void callbacks.push(callback);
    const live = vi.fn();
    const gone = vi.fn();
    const stopLive = followTcfConsent(live, () => {});
    followTcfConsent(gone, () => {})(); // started, and stopped before the CMP answered
    for (const callback of callbacks) callback({ ...tcData('tcloaded'), listenerId: 1 }, true);
    expect(live).toHaveBeenCalledWith(all('granted'));
    expect(gone).not.toHaveBeenCalled();
    stopLive();
  });
});

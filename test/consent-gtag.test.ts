/**
 * `consent: 'gtag'`: microconv follows the Google Consent Mode commands the page already pushes to its
 * dataLayer, before and after microconv starts, without breaking the page's dataLayer or GTM's hold on
 * `dataLayer.push`. And the gtag adapter's advanced consent mode.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAttributes } from '../src/core/bootstrap';
import { init } from '../src';
import type { LogEntry, MicroconvEvent } from '../src/types';
import { all, purposeProbe } from './support/purposes';

type Page = { dataLayer?: unknown[]; gtag?: (...args: unknown[]) => void };
const page = window as unknown as Page;

/** The page's own `gtag`, as Google's snippet defines it: it pushes its `arguments` object. */
function gtag(..._args: unknown[]) {
  // eslint-disable-next-line prefer-rest-params
  page.dataLayer!.push(arguments);
}
/** What the gtag snippet does first: keep an existing dataLayer, or make one. */
const snippet = () => (page.dataLayer = page.dataLayer || []);

const denied = all('denied');

beforeEach(() => {
  delete page.dataLayer;
  delete page.gtag;
  localStorage.clear();
});
afterEach(() => vi.useRealTimers());

describe("consent: 'gtag'", () => {
  it('is pending until the page sets a default, then follows it', async () => {
    snippet();
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    expect(await state()).toEqual(all('pending'));
    gtag('consent', 'default', { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
    expect(await state()).toEqual({ analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
    await mc.destroy();
  });

  it('reads the commands pushed before it started and follows those pushed after', async () => {
    snippet();
    gtag('consent', 'default', { ...denied, wait_for_update: 0 });
    gtag('js', new Date());
    gtag('config', 'G-TEST');
    const { mc, state, sent } = purposeProbe({ consent: 'gtag' });
    expect(await state()).toEqual(denied);
    gtag('consent', 'update', { analytics_storage: 'granted' });
    expect(await state()).toEqual({ ...denied, analytics_storage: 'granted' });
    gtag('consent', 'update', { analytics_storage: 'denied', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' });
    expect(await state()).toEqual({ analytics_storage: 'denied', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' });
    expect(sent.analytics_storage).toEqual(['probe']); // the one event tracked while it was granted
    expect(mc.stats().dropped).toEqual({ consent_denied: 4 + 3 + 1 });
    await mc.destroy();
  });

  it('lets an update override a default, whichever was pushed first', async () => {
    snippet();
    gtag('consent', 'update', { analytics_storage: 'granted' });
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    gtag('consent', 'default', denied);
    expect(await state()).toEqual({ ...denied, analytics_storage: 'granted' });
    await mc.destroy();
  });

  it('leaves a purpose that no command names pending', async () => {
    snippet();
    gtag('consent', 'default', { analytics_storage: 'granted', ad_storage: 'denied' });
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    expect(await state()).toEqual({ analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'pending', ad_personalization: 'pending' });
    await mc.destroy();
  });

  it('takes the strictest default where defaults are scoped to regions it cannot tell', async () => {
    snippet();
    gtag('consent', 'default', all('granted'));
    gtag('consent', 'default', { ad_storage: 'denied', ad_user_data: 'denied', region: ['DE', 'FR'] });
    gtag('consent', 'default', { analytics_storage: 'granted', region: ['US-CA'] });
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    expect(await state()).toEqual({ analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'granted' });
    // A later default does not lift a denial either; an update does.
    gtag('consent', 'default', { ad_storage: 'granted' });
    expect((await state()).ad_storage).toBe('denied');
    gtag('consent', 'update', { ad_storage: 'granted' });
    expect((await state()).ad_storage).toBe('granted');
    await mc.destroy();
  });

  it('holds the purposes of a default with wait_for_update until the update, or the end of the wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    snippet();
    gtag('consent', 'default', { ...denied, wait_for_update: 500 });
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    expect(await state()).toEqual(all('pending'));
    vi.advanceTimersByTime(200);
    gtag('consent', 'update', { analytics_storage: 'granted' });
    expect(await state()).toEqual({ ...all('pending'), analytics_storage: 'granted' });
    vi.advanceTimersByTime(299);
    expect((await state()).ad_storage).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(await state()).toEqual({ ...denied, analytics_storage: 'granted' });
    // What waited for the ad purposes is dropped now, counted: the four probes, three ad adapters each.
    expect(mc.stats().dropped).toEqual({ consent_denied: 4 * 3 });
    await mc.destroy();
  });

  it('ignores what is not a consent command, and malformed ones, without a word to the page', async () => {
    snippet();
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    const pushed = [
      page.dataLayer!.push({ event: 'gtm.js', 'gtm.start': 1 }),
      page.dataLayer!.push(['consent']),
      page.dataLayer!.push(null, 'consent', 7),
    ];
    gtag('consent', 'update', 'granted');
    gtag('consent', 'revoke', all('granted'));
    gtag('consent', 'default', { analytics_storage: 'yes', ad_storage: true });
    gtag('event', 'consent', all('granted'));
    expect(pushed).toEqual([1, 2, 5]); // push still answers the new length
    expect(await state()).toEqual(all('pending'));
    await mc.destroy();
  });

  it('chains dataLayer.push: a wrapper set before it (GTM) sees every push, and gets its place back on destroy', async () => {
    snippet();
    const seen: unknown[] = [];
    const arrayPush = page.dataLayer!.push;
    const gtm = function (this: unknown[], ...items: unknown[]) {
      seen.push(...items);
      return arrayPush.apply(this, items);
    };
    page.dataLayer!.push = gtm;
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    expect(page.dataLayer!.push).not.toBe(gtm);
    gtag('consent', 'update', all('granted'));
    expect(await state()).toEqual(all('granted'));
    expect(seen.map((item) => Array.from(item as ArrayLike<unknown>))).toEqual([['consent', 'update', all('granted')]]);
    expect(page.dataLayer).toHaveLength(1);
    await mc.destroy();
    expect(page.dataLayer!.push).toBe(gtm);
  });

  it('stays in the chain of a wrapper set after it (GTM loading later), and does nothing more once destroyed', async () => {
    snippet();
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    const ours = page.dataLayer!.push;
    const seen: unknown[] = [];
    const gtm = function (this: unknown[], ...items: unknown[]) {
      seen.push(...items);
      return ours.apply(this, items);
    };
    page.dataLayer!.push = gtm;
    gtag('consent', 'default', all('granted'));
    expect(await state()).toEqual(all('granted'));
    await mc.destroy();
    // Taking ours out would cut GTM's chain: it stays, passing pushes through.
    expect(page.dataLayer!.push).toBe(gtm);
    const log = vi.spyOn(console, 'error');
    gtag('consent', 'update', denied);
    expect(seen).toHaveLength(2);
    expect(page.dataLayer).toHaveLength(2);
    expect(log).not.toHaveBeenCalled();
  });

  it('leaves no push of its own on the array after destroy', async () => {
    snippet();
    const { mc } = purposeProbe({ consent: 'gtag' });
    expect(Object.prototype.hasOwnProperty.call(page.dataLayer, 'push')).toBe(true);
    await mc.destroy();
    expect(Object.prototype.hasOwnProperty.call(page.dataLayer, 'push')).toBe(false);
  });

  it('makes the dataLayer where the page has none yet, and the gtag snippet keeps it', async () => {
    const { mc, state } = purposeProbe({ consent: 'gtag' });
    const made = page.dataLayer;
    expect(Array.isArray(made) && made.length).toBe(0);
    snippet();
    expect(page.dataLayer).toBe(made);
    gtag('consent', 'default', all('granted'));
    expect(await state()).toEqual(all('granted'));
    await mc.destroy();
  });

  it('warns when no consent default has come after 10 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    snippet();
    const logs: LogEntry[] = [];
    const { mc } = purposeProbe({ consent: 'gtag' });
    mc.on('log', (entry) => logs.push(entry));
    vi.advanceTimersByTime(9_999);
    expect(logs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(logs).toEqual([{ level: 'warn', message: 'gtag consent: no consent default in the dataLayer after 10 s; consent stays pending' }]);
    await mc.destroy();

    const quiet = purposeProbe({ consent: 'gtag' });
    const none: LogEntry[] = [];
    quiet.mc.on('log', (entry) => none.push(entry));
    gtag('consent', 'default', denied);
    vi.advanceTimersByTime(10_000);
    expect(none).toEqual([]);
    await quiet.mc.destroy();
  });

  it('is an option value and a data-consent value, never a consent() update', async () => {
    expect(() => init({ consent: 'gtm' as never })).toThrow(/option consent must be .*a consent source \(gtag,tcf\)/);
    const mc = init({ consent: 'gtag' });
    expect(() => mc.consent('gtag' as never)).toThrow(/consent must be granted, denied, pending/);
    await mc.destroy();
    const script = document.createElement('script');
    script.dataset.consent = 'gtag';
    expect(readAttributes(script).consent).toBe('gtag');
  });
});

describe("the gtag adapter's consentMode", () => {
  /** gtag's `event` calls, as the dataLayer holds them. */
  const gtagEvents = () => (page.dataLayer || []).map((entry) => Array.from(entry as ArrayLike<unknown>)).filter((args) => args[0] === 'event');

  it("'advanced' sends to gtag while analytics_storage is denied or pending; microconv keeps no identifier and writes nothing", async () => {
    snippet();
    page.gtag = gtag;
    const events: MicroconvEvent[] = [];
    const mc = init({ adapters: ['gtag'], gtag: { consentMode: 'advanced' }, consent: 'denied' });
    mc.on('event', (event) => events.push(event));
    mc.track('pricing_viewed', { plan: 'pro' });
    mc.consent('pending');
    mc.track('calculator_used');
    await mc.flush();
    expect(gtagEvents().map((args) => args[1])).toEqual(['pricing_viewed', 'calculator_used']);
    expect(events.map((event) => event.anonymous_id)).toEqual([null, null]);
    expect(localStorage.length).toBe(0);
    expect(mc.stats().dropped).toEqual({});
    await mc.destroy();
  });

  it("'basic', the default, holds and drops for analytics_storage as before", async () => {
    snippet();
    page.gtag = gtag;
    for (const gtagOptions of [{}, { consentMode: 'basic' as const }]) {
      const mc = init({ adapters: ['gtag'], gtag: gtagOptions, consent: 'denied' });
      mc.track('pricing_viewed');
      await mc.flush();
      expect(mc.stats().dropped).toEqual({ consent_denied: 1 });
      await mc.destroy();
    }
    expect(gtagEvents()).toEqual([]);
  });

  it('refuses any other consentMode', () => {
    expect(() => init({ adapters: ['gtag'], gtag: { consentMode: 'full' as never } })).toThrow(/option gtag\.consentMode cannot be "full"/);
  });
});

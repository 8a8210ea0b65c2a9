import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { init } from '../src/core/instance';
import { composeFbc, createIds, gaClientId, hashed, readCookie } from '../src/lib/ids';
import { googleEmail, normaliseEmail, normalisePhone, sha256 } from '../src/lib/hashing';
import { payload } from '../src/adapters/endpoint';
import type { Adapter, MicroconvEvent } from '../src/types';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A spy on document.cookie's getter, where the DOM defines it (the first prototype of document's chain that has it). */
function spyOnCookieReads() {
  let owner: object = document;
  while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner);
  const getter = Object.getOwnPropertyDescriptor(owner, 'cookie')!.get!;
  return vi.spyOn(owner as Document, 'cookie', 'get').mockImplementation(function (this: Document) {
    return getter.call(this);
  });
}

afterEach(() => {
  for (const name of ['_fbp', '_fbc', '_ga']) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  history.replaceState(null, '', '/');
  localStorage.clear();
});

describe('normalisation, by the platforms own examples', () => {
  it("e-mail: trimmed and lower case (Meta's and Google's rule); Google drops the dots of a Gmail address", () => {
    expect(normaliseEmail('  Person@Example.com ')).toBe('person@example.com');
    expect(normaliseEmail('not an address')).toBeUndefined();
    expect(normaliseEmail('a@b')).toBeUndefined();
    expect(googleEmail('jane.doe@gmail.com')).toBe('janedoe@gmail.com');
    expect(googleEmail('j.a.ne@googlemail.com')).toBe('jane@googlemail.com');
    expect(googleEmail('jane.doe@example.com')).toBe('jane.doe@example.com');
  });

  it('phone: country code and digits, no +, no leading zeros (E.164 without its +)', () => {
    expect(normalisePhone('+1 (616) 954-7888')).toBe('16169547888');
    expect(normalisePhone('+44 844 412 4653')).toBe('448444124653');
    expect(normalisePhone('0044 844 412 4653')).toBe('448444124653');
    expect(normalisePhone('+44 (0)20 7946 0000')).toBe('442079460000');
    expect(normalisePhone('+33 6 12 34 56 78')).toBe('33612345678');
    // Without its country code no platform can match a number: refused, not guessed.
    expect(normalisePhone('06 12 34 56 78')).toBeUndefined();
    expect(normalisePhone('+1 call me')).toBeUndefined();
    expect(normalisePhone('+12')).toBeUndefined();
  });

  it('hashes with SHA-256 as lower-case hex (the example of person@example.com)', async () => {
    expect(await sha256('person@example.com')).toBe('542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345');
  });
});

describe('cookies, read only', () => {
  it('reads _fbp, _fbc and the GA4 client id of _ga', () => {
    document.cookie = '_fbp=fb.1.1596403881668.1116446470; path=/';
    document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/';
    expect(readCookie('_fbp')).toBe('fb.1.1596403881668.1116446470');
    expect(readCookie('_fbc')).toBeUndefined();
    expect(gaClientId(readCookie('_ga'))).toBe('1234567890.1700000000');
    expect(gaClientId('GA1.2.99.88')).toBe('99.88');
    expect(gaClientId('garbage')).toBeUndefined();
    expect(gaClientId(undefined)).toBeUndefined();
  });

  describe('read again only after a change, where the browser tells of changes', () => {
    const granted = { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' } as const;
    const stamped = (ids: ReturnType<typeof createIds>) => {
      const event = { attribution: {} } as MicroconvEvent;
      ids._stamp(event, granted, Date.now());
      return event.ids!;
    };
    /** With no change ever told, each event reads the cookies again, and sees a cookie set since the last. */
    const expectReadPerEvent = () => {
      const read = spyOnCookieReads();
      const ids = createIds(() => {}, () => {}, () => {});
      document.cookie = '_fbp=fb.1.1.1; path=/';
      expect(stamped(ids).fbp).toBe('fb.1.1.1');
      document.cookie = '_fbp=fb.1.2.2; path=/';
      expect(stamped(ids).fbp).toBe('fb.1.2.2');
      expect(read).toHaveBeenCalledTimes(2);
    };
    afterEach(() => {
      vi.restoreAllMocks();
      delete (window as any).CookieStore;
      delete (window as any).cookieStore;
    });

    it('with the Cookie Store API: once, then after each change event, and not after destroy', () => {
      class CookieStore extends EventTarget {}
      Object.assign(window, { CookieStore, cookieStore: new CookieStore() });
      document.cookie = '_ga=GA1.1.1.1; path=/';
      const read = spyOnCookieReads();
      const ids = createIds(() => {}, () => {}, () => {});
      expect(stamped(ids).ga_client_id).toBe('1.1');
      expect(stamped(ids).ga_client_id).toBe('1.1');
      expect(read).toHaveBeenCalledTimes(1);
      document.cookie = '_ga=GA1.1.2.2; path=/';
      expect(stamped(ids).ga_client_id).toBe('1.1'); // not told yet
      (window as any).cookieStore.dispatchEvent(new Event('change'));
      expect(stamped(ids).ga_client_id).toBe('2.2');
      expect(read).toHaveBeenCalledTimes(2);
      ids._stop();
      (window as any).cookieStore.dispatchEvent(new Event('change'));
      stamped(ids);
      expect(read).toHaveBeenCalledTimes(2);
    });

    it('where subscribing to its changes throws (a patched addEventListener): at every event', () => {
      class CookieStore extends EventTarget {
        override addEventListener(): void {
          throw new Error('patched');
        }
      }
      Object.assign(window, { CookieStore, cookieStore: new CookieStore() });
      expectReadPerEvent();
    });

    it('without it, or where a page element only poses as it: at every event', () => {
      const element = document.createElement('div');
      Object.assign(window, { cookieStore: element }); // as `<div id="cookieStore">` would be, with no API behind it
      expectReadPerEvent();
    });
  });

  it("composes fbc in Meta's format", () => {
    expect(composeFbc('IwAR2abc', 1554763741205)).toBe('fb.1.1554763741205.IwAR2abc');
  });
});

function recorder() {
  const events: MicroconvEvent[] = [];
  const adapter: Adapter = { name: 'rec', send: (batch) => void events.push(...batch) };
  return { adapter, events };
}

describe('ids and consent on the event', () => {
  it('carries the consent it was tracked under, the cookies, the fbc composed from fbclid and the hashes of identify()', async () => {
    history.replaceState(null, '', '/?fbclid=IwAR2abc');
    document.cookie = '_fbp=fb.1.1596403881668.1116446470; path=/';
    document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/';
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter] });
    mc.identify({ user_id: 'u-42', email: ' Jane.Doe@Gmail.com ', phone: '+1 (616) 954-7888' });
    mc.track('generate_lead');
    await mc.flush();
    await hashed(events); // what the endpoint adapter waits for before it sends
    const [event] = events;
    expect(event!.consent).toEqual({ analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' });
    expect(event!.ids).toEqual({
      fbp: 'fb.1.1596403881668.1116446470',
      fbc: expect.stringMatching(/^fb\.1\.\d{13}\.IwAR2abc$/),
      ga_client_id: '1234567890.1700000000',
      user_id: 'u-42',
      email_sha256: sha('jane.doe@gmail.com'),
      google_email_sha256: sha('janedoe@gmail.com'),
      phone_sha256: sha('16169547888'),
      google_phone_sha256: sha('+16169547888'),
    });
    // Nothing raw in what the page's listeners, vendor tags or storage could see.
    expect(JSON.stringify(event)).not.toMatch(/jane|gmail|6169547888/i);
    await mc.destroy();
  });

  it('keeps each id to the consent it needs: ad ids and hashes with ad_storage and ad_user_data, the GA id and user_id with analytics_storage', async () => {
    history.replaceState(null, '', '/?fbclid=F1');
    document.cookie = '_fbp=fb.1.1.2; path=/';
    document.cookie = '_ga=GA1.1.3.4; path=/';
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter], consent: { ad_user_data: 'denied' } });
    mc.identify({ user_id: 'u-1', email: 'a@example.com' });
    mc.track('one');
    mc.consent({ ad_user_data: 'granted', analytics_storage: 'denied' });
    mc.track('two');
    await mc.flush();
    const [one, two] = events;
    expect(one!.ids).toEqual({ ga_client_id: '3.4', user_id: 'u-1' });
    expect(one!.consent!.ad_user_data).toBe('denied');
    expect(two!.ids).toMatchObject({ fbp: 'fb.1.1.2', fbc: expect.stringMatching(/^fb\.1\.\d+\.F1$/) });
    expect(two!.ids!.ga_client_id).toBeUndefined();
    expect(two!.ids!.user_id).toBeUndefined();
    await mc.destroy();
  });

  it('reads document.cookie once per event where consent lets an id come from it, and not at all where it does not', async () => {
    document.cookie = '_fbp=fb.1.1.2; path=/';
    const reads = spyOnCookieReads();
    try {
      const { adapter, events } = recorder();
      const granted = init({ adapters: [adapter] });
      reads.mockClear();
      granted.track('one');
      expect(reads).toHaveBeenCalledTimes(1);
      await granted.flush();
      expect(events[0]!.ids!.fbp).toBe('fb.1.1.2');
      await granted.destroy();
      const denied = init({ adapters: [recorder().adapter], consent: 'denied' });
      reads.mockClear();
      denied.track('two');
      expect(reads).not.toHaveBeenCalled();
      await denied.destroy();
    } finally {
      reads.mockRestore();
    }
  });

  it('prefers the _fbc cookie to a composed fbc', async () => {
    history.replaceState(null, '', '/?fbclid=F1');
    document.cookie = '_fbc=fb.1.1554763741205.FromCookie; path=/';
    const { adapter, events } = recorder();
    const mc = init({ adapters: [adapter] });
    mc.track('one');
    await mc.flush();
    expect(events[0]!.ids!.fbc).toBe('fb.1.1554763741205.FromCookie');
    await mc.destroy();
  });

  it('refuses an argument of the wrong shape at once, with a clear error', () => {
    const mc = init({ adapters: [recorder().adapter] });
    expect(() => mc.identify('me@example.com' as never)).toThrow(/identify\(\) takes/);
    expect(() => mc.identify(null as never)).toThrow(/identify\(\) takes/);
    expect(() => mc.identify({ user_id: 42 as never })).toThrow(/strings/);
    expect(() => mc.identify({ email: ['a@example.com'] as never })).toThrow(/strings/);
    const logged = init({ adapters: [recorder().adapter], errors: 'log' });
    expect(() => logged.identify('me@example.com' as never)).not.toThrow();
    expect(logged.stats().dropped.invalid).toBe(1);
    void mc.destroy();
    void logged.destroy();
  });

  it('refuses an e-mail or phone that cannot be one once the part checking them has come: a console error, a counted drop, neither hashed nor sent raw', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { adapter, events } = recorder();
      const mc = init({ adapters: [adapter] });
      // Nothing to throw to by then: the npm caller hears of it as the script tag's does.
      expect(() => mc.identify({ user_id: 'u-1', email: 'nobody' })).not.toThrow();
      mc.track('one');
      mc.identify({ phone: '06 12 34 56 78' });
      mc.track('two');
      await mc.flush();
      await hashed(events);
      expect(errors).toHaveBeenCalledWith('[microconv] identify(): email is not an e-mail address');
      expect(errors).toHaveBeenCalledWith('[microconv] identify(): phone needs its country code (+33 6 12 34 56 78)');
      expect(mc.stats().dropped.invalid).toBe(2);
      // Each call replaced the identity: user_id went with the first, the refused e-mail and phone with none.
      expect(events.map((event) => event.ids)).toEqual([{ ga_client_id: undefined, user_id: 'u-1', fbp: undefined, fbc: undefined }, { ga_client_id: undefined, user_id: undefined, fbp: undefined, fbc: undefined }]);
      expect(JSON.parse(payload(events)).events.map((event: MicroconvEvent) => event.ids)).toEqual([{ user_id: 'u-1' }, {}]);
      await mc.destroy();
    } finally {
      errors.mockRestore();
    }
  });

  it('without crypto.subtle, the raw values go only into the endpoint payload, never into the event itself', async () => {
    const subtle = Object.getOwnPropertyDescriptor(globalThis.crypto, 'subtle') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(globalThis.crypto), 'subtle');
    Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true });
    try {
      const { adapter, events } = recorder();
      const mc = init({ adapters: [adapter] });
      mc.identify({ email: 'Jane@Example.com', phone: '+33 6 12 34 56 78' });
      mc.track('generate_lead');
      await mc.flush();
      await hashed(events); // the part has normalised them
      const [event] = events;
      expect(JSON.stringify(event)).not.toMatch(/jane|612345678/i);
      expect(event!.ids!.email_sha256).toBeUndefined();
      const wire = JSON.parse(payload([event!]));
      expect(wire.events[0].ids).toMatchObject({ email: 'jane@example.com', phone: '+33612345678' });
      await mc.destroy();
    } finally {
      delete (globalThis.crypto as { subtle?: unknown }).subtle;
      if (!globalThis.crypto.subtle && subtle) Object.defineProperty(globalThis.crypto, 'subtle', subtle);
    }
  });
});

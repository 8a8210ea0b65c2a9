// @vitest-environment node
import { describe, expect, test } from 'vitest';
import { hashIdentifiers, normaliseEmail, normaliseEmailForGoogle, normalisePhone, protectIdentifiers, sha256Hex, type IdentifierDrop } from '../../../collector/forward/hash';
import type { ForwardableEvent } from '../../../collector/forward/types';

// Worked examples published with a Conversions API's user data parameters (same rules as Meta's):
// "Person@Example.com" → person@example.com → 542d…3345; "+44 844 412 4653" → 448444124653 → dc00….
const PERSON_EMAIL_SHA256 = '542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345';
const UK_PHONE_DIGITS_SHA256_PREFIX = 'dc008fda46e2e64002cf2f82a4906236282d4';

describe('normalisation', () => {
  test('e-mail: trimmed and lower-cased; not an address: null', () => {
    expect(normaliseEmail('  Person@Example.COM ')).toBe('person@example.com');
    expect(sha256Hex(normaliseEmail('Person@Example.com ')!)).toBe(PERSON_EMAIL_SHA256);
    expect(normaliseEmail('no at sign')).toBeNull();
    expect(normaliseEmail('a@b')).toBeNull();
  });

  test('Google drops the dots of a Gmail local part only', () => {
    expect(normaliseEmailForGoogle(' Jane.Doe@GMail.com')).toBe('janedoe@gmail.com');
    expect(normaliseEmailForGoogle('jane.doe@googlemail.com')).toBe('janedoe@googlemail.com');
    expect(normaliseEmailForGoogle('jane.doe@example.com')).toBe('jane.doe@example.com');
  });

  test('phone: country code and digits; a national number needs a default calling code', () => {
    expect(normalisePhone('+44 844 412 4653')).toBe('448444124653');
    expect(sha256Hex(normalisePhone('+44 844 412 4653')!).startsWith(UK_PHONE_DIGITS_SHA256_PREFIX)).toBe(true);
    expect(normalisePhone('0033 (6) 12-34-56-78')).toBe('33612345678');
    expect(normalisePhone('06 12 34 56 78')).toBeNull();
    expect(normalisePhone('06 12 34 56 78', '33')).toBe('33612345678');
    expect(normalisePhone('+1 650 555 0123 ext. 12')).toBe('16505550123');
    expect(normalisePhone('call me')).toBeNull();
    expect(normalisePhone('+12')).toBeNull();
    expect(normalisePhone('+1234567890123456')).toBeNull();
  });
});

describe('hashIdentifiers', () => {
  test('raw e-mail and phone become both platforms\' hashes, and the raw values are gone', () => {
    const out = hashIdentifiers({ email: ' Jane.Doe@Gmail.com ', phone: '+33 6 12 34 56 78', fbp: 'fb.1.1.2', user_id: 'u-1' });
    expect(out).toEqual({
      fbp: 'fb.1.1.2',
      user_id: 'u-1',
      email_sha256: sha256Hex('jane.doe@gmail.com'),
      google_email_sha256: sha256Hex('janedoe@gmail.com'),
      phone_sha256: sha256Hex('33612345678'),
      google_phone_sha256: sha256Hex('+33612345678'),
    });
    expect(JSON.stringify(out)).not.toMatch(/jane|gmail|612345678\b/i);
  });

  test('hash fields are left to the validator (which refuses a non-hash); a raw value replaces them', () => {
    const hash = sha256Hex('someone@example.com');
    expect(hashIdentifiers({ email_sha256: hash.toUpperCase(), google_phone_sha256: 'not a hash' })).toEqual({ email_sha256: hash.toUpperCase(), google_phone_sha256: 'not a hash' });
    const both = hashIdentifiers({ email: 'Someone@Example.com', email_sha256: 'Someone@Example.com' });
    expect(both).toEqual({ email_sha256: hash, google_email_sha256: hash });
  });

  test('what cannot be used is dropped with its reason, never stored raw', () => {
    const drops: IdentifierDrop[] = [];
    const out = hashIdentifiers({ email: 'not an address', phone: '06 12 34 56 78', user_id: 'u-1' }, {}, (reason) => drops.push(reason));
    expect(out).toEqual({ user_id: 'u-1' });
    expect(drops.sort()).toEqual(['email_not_an_address', 'phone_without_country_code']);
    const wrongTypes: IdentifierDrop[] = [];
    expect(hashIdentifiers({ email: 42, phone: { number: '+33612345678' } } as never, {}, (reason) => wrongTypes.push(reason))).toEqual({});
    expect(wrongTypes.sort()).toEqual(['email_not_an_address', 'phone_not_a_number']);
    const withCode: IdentifierDrop[] = [];
    expect(hashIdentifiers({ phone: '06 12 34 56 78' }, { defaultCallingCode: '33' }, (reason) => withCode.push(reason))).toEqual({
      phone_sha256: sha256Hex('33612345678'),
      google_phone_sha256: sha256Hex('+33612345678'),
    });
    expect(withCode).toEqual([]);
  });

  test('protectIdentifiers leaves events without ids as they are', () => {
    const bare = { event_id: 'e', name: 'x' } as unknown as ForwardableEvent;
    const withIds = { ...bare, ids: { email: 'a@b.co' } } as ForwardableEvent;
    const [first, second] = protectIdentifiers([bare, withIds]);
    expect(first).toBe(bare);
    expect(second!.ids).toEqual({ email_sha256: sha256Hex('a@b.co'), google_email_sha256: sha256Hex('a@b.co') });
    expect(withIds.ids).toEqual({ email: 'a@b.co' });
  });
});

describe('on receipt', () => {
  // A collector and DuckDB: seconds on a loaded machine, not the default 5.
  test('the collector hashes raw e-mail and phone before the store sees the event, forwarding or not', { timeout: 30_000 }, async () => {
    const { openDuckDBStore } = await import('../../../collector/duckdb-store');
    const { startCollector } = await import('../../../collector/http');
    const store = await openDuckDBStore(':memory:');
    const inserted: unknown[] = [];
    const running = await startCollector({
      port: 0,
      store: { ...store, insert: (events, at) => (inserted.push(...events), store.insert(events, at)) },
      identifiers: { defaultCallingCode: '44' },
    });
    try {
      const event = {
        event_id: '3f2b8c1e-9a4d-4e6b-8c2a-1d3e5f7a9b0c',
        name: 'generate_lead',
        ts: 1_750_000_000_000,
        session_id: 's',
        anonymous_id: null,
        page: { url: 'https://tally.example/', path: '/', title: 'T', referrer: '' },
        params: {},
        attribution: { utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null, gclid: null, fbclid: null, landing_page: 'https://tally.example/', referrer: '' },
        ids: { email: 'Jane@Example.com', phone: '0844 412 4653' },
      };
      const response = await fetch(`${running.url}/collect`, { method: 'POST', body: JSON.stringify({ v: 1, sent_at: new Date().toISOString(), events: [event] }) });
      expect([response.status, await response.json()]).toEqual([200, { stored: 1, duplicates: 0, rejected: [] }]);
      expect(inserted).toHaveLength(1);
      const hashes = {
        email_sha256: sha256Hex('jane@example.com'),
        google_email_sha256: sha256Hex('jane@example.com'),
        phone_sha256: sha256Hex('448444124653'),
        google_phone_sha256: sha256Hex('+448444124653'),
      };
      expect((inserted[0] as ForwardableEvent).ids).toEqual({ fbp: null, fbc: null, ga_client_id: null, user_id: null, ...hashes });
      expect(JSON.stringify(inserted)).not.toMatch(/jane@|844 412/i);
      // Stored: the four hashes in their columns, and nothing raw anywhere in the row.
      const rows = await store.query('SELECT * FROM events');
      expect(rows).toMatchObject([hashes]);
      expect(JSON.stringify(rows)).not.toMatch(/jane@|844 ?412/i);
    } finally {
      await running.close();
    }
  });
});

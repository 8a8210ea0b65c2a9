import { afterEach, expect, it, vi } from 'vitest';
import { init } from '../src/core/instance';
import { hashed } from '../src/lib/ids';
import { payload } from '../src/adapters/endpoint';
import type { MicroconvEvent } from '../src/types';

// identify()'s lazy part cannot come (for the script tag: a 404, a blocker, the CSP).
vi.mock('../src/lib/identify', () => {
  throw new Error('microconv-identify.js could not be loaded');
});

afterEach(() => vi.restoreAllMocks());

it('without its part, identify() holds no event: they go in order, with no hash, the e-mail and phone as given to the endpoint alone, and the console says why', async () => {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  const events: MicroconvEvent[] = [];
  const mc = init({ adapters: [{ name: 'rec', send: (batch) => void events.push(...batch) }] });
  mc.track('before');
  mc.identify({ user_id: 'u-1', email: 'Jane@Example.com', phone: '+33 6 12 34 56 78' });
  mc.track('after');
  await mc.flush();
  await hashed(events); // what the endpoint adapter waits for: it ends
  expect(events.map((event) => event.name)).toEqual(['before', 'after']);
  expect(events[1]!.ids).toMatchObject({ user_id: 'u-1' });
  expect(JSON.stringify(events)).not.toMatch(/jane|612345678|sha256/i);
  // The first-party collector hashes what it gets raw, as where the browser cannot hash.
  expect(JSON.parse(payload(events)).events[1].ids).toMatchObject({ user_id: 'u-1', email: 'Jane@Example.com', phone: '+33 6 12 34 56 78' });
  expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^\[microconv\] identify\(\): .+: the e-mail and phone go unhashed/));
  expect(mc.stats().dropped).toEqual({});
  await mc.destroy();
});

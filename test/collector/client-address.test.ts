// @vitest-environment node
/**
 * Who sent a request, behind a reverse proxy (issue 10, defect 11). A proxy appends the address it
 * saw to `X-Forwarded-For`; everything to the left of it was written by the client and proves
 * nothing. The client is therefore found from the right: past a configured number of proxies, or
 * past the listed proxy addresses.
 */
import { describe, expect, test } from 'vitest';
import { createAddressResolver, parseTrustProxy } from '../../collector/client-address';

describe('the client address', () => {
  // [trust setting, socket peer, X-Forwarded-For, expected client, taken from the header]
  const cases: Array<[Parameters<typeof createAddressResolver>[0], string, string | undefined, string, boolean]> = [
    [false, '203.0.113.7', '127.0.0.1', '203.0.113.7', false],
    [1, '10.0.0.2', '127.0.0.1, 198.51.100.9', '198.51.100.9', true],
    [1, '10.0.0.2', '198.51.100.9', '198.51.100.9', true],
    [1, '127.0.0.1', undefined, '127.0.0.1', false],
    [1, '127.0.0.1', '', '127.0.0.1', false],
    [true, '10.0.0.2', '1.1.1.1, 2.2.2.2, 198.51.100.9', '198.51.100.9', true],
    [2, '10.0.0.2', 'forged, 198.51.100.9, 10.0.0.5', '198.51.100.9', true],
    // Fewer entries than proxies: the request skipped a proxy; the furthest entry is the best there is.
    [3, '10.0.0.2', '198.51.100.9', '198.51.100.9', true],
    [['127.0.0.1', '10.0.0.0/8'], '127.0.0.1', '127.0.0.1, 198.51.100.9, 10.0.0.5', '198.51.100.9', true],
    [['127.0.0.1', '10.0.0.0/8'], '::ffff:127.0.0.1', '198.51.100.9', '198.51.100.9', true],
    [['127.0.0.1', '10.0.0.0/8'], '203.0.113.7', '198.51.100.9', '203.0.113.7', false],
    // Every entry a trusted proxy: the leftmost, and it still came from a header.
    [['127.0.0.1', '10.0.0.0/8'], '127.0.0.1', '127.0.0.1, 10.0.0.5', '127.0.0.1', true],
    [['2001:db8::/32'], '2001:db8::1', '2001:db8::2, 2001:db8::3', '2001:db8::2', true],
    // Two header lines are one list, in order; ports and brackets are not part of an address.
    [1, '10.0.0.2', '[2001:db8::9]:4711', '2001:db8::9', true],
    [1, '10.0.0.2', '198.51.100.9:4711', '198.51.100.9', true],
  ];

  test.each(cases)('trust %j, peer %s, X-Forwarded-For %j: the client is %s', (trust, peer, header, address, fromHeader) => {
    expect(createAddressResolver(trust)(peer, header)).toEqual({ address, fromHeader });
  });

  test('several X-Forwarded-For lines are read as one list', () => {
    expect(createAddressResolver(1)('10.0.0.2', ['1.1.1.1', '198.51.100.9'])).toEqual({ address: '198.51.100.9', fromHeader: true });
  });

  test('settings that cannot be right are refused when the collector is made', () => {
    expect(() => createAddressResolver(-1)).toThrow(/trustProxy/);
    expect(() => createAddressResolver(1.5)).toThrow(/trustProxy/);
    expect(() => createAddressResolver(['proxy.internal'])).toThrow(/trustProxy: "proxy.internal" is not an IP address or CIDR range/);
    expect(() => createAddressResolver(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
  });

  test('the command line: a number of proxies, or their addresses and ranges', () => {
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('127.0.0.1, 10.0.0.0/8')).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(() => parseTrustProxy('yes')).toThrow(/"yes" is not an IP address or CIDR range/);
    expect(() => parseTrustProxy('')).toThrow(/a number of proxies, or their addresses/);
    expect(() => parseTrustProxy('0')).toThrow(/a number of proxies, or their addresses/);
  });
});

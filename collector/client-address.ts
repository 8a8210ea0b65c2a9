import { BlockList, isIP } from 'node:net';

/**
 * Which reverse proxies stand in front of the collector, so that the rate limit sees real clients:
 * - `false` (the default): none; the client is the socket's peer, and `X-Forwarded-For` is ignored.
 * - a number: that many proxies, each appending the address it saw to `X-Forwarded-For`; the client
 *   is the address the outermost one saw. `true` means 1.
 * - a list of the proxies' addresses or CIDR ranges (`['127.0.0.1', '10.0.0.0/8']`): the client is
 *   the rightmost address that is not one of them.
 * Entries further left were written by the client itself and are never believed.
 */
export type TrustProxy = boolean | number | readonly string[];

/** The client, and whether its address came from a header (then it is never exempt from anything). */
export interface ClientAddress {
  address: string;
  fromHeader: boolean;
}

/** Longest address kept: a header entry longer than this is not an address, and must not grow the rate limiter's keys. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * Makes the function that tells who sent a request, from its socket's peer and its
 * `X-Forwarded-For` lines. Settings that cannot be right throw here, when the collector is made.
 *
 * @example createAddressResolver(1)('10.0.0.2', '127.0.0.1, 198.51.100.9') // { address: '198.51.100.9', fromHeader: true }
 */
export function createAddressResolver(trust: TrustProxy): (peer: string, forwardedFor: string | string[] | undefined) => ClientAddress {
  const proxies = trust === true ? 1 : trust === false ? 0 : trust;
  if (typeof proxies === 'number') {
    if (!Number.isInteger(proxies) || proxies < 0) throw new TypeError(`trustProxy: expected a whole number of proxies (0 or more), got ${proxies}`);
    return (peer, header) => {
      const chain = [...entries(header), normalise(peer)];
      // Past the last `proxies` hops; fewer entries than proxies means the request skipped one: take the furthest.
      const index = Math.max(0, chain.length - 1 - proxies);
      return { address: chain[index]!, fromHeader: index < chain.length - 1 };
    };
  }
  const trusted = trustedList(proxies);
  return (peer, header) => {
    const chain = [...entries(header), normalise(peer)];
    let index = chain.length - 1;
    while (index > 0 && isTrusted(trusted, chain[index]!)) index--;
    return { address: chain[index]!, fromHeader: index < chain.length - 1 };
  };
}

/**
 * `--trust-proxy` on the command line: a number of proxies (`1`), or a comma-separated list of their
 * addresses and ranges (`127.0.0.1,10.0.0.0/8`).
 */
export function parseTrustProxy(text: string): number | string[] {
  const value = text.trim();
  if (/^\d+$/.test(value) && Number(value) > 0) return Number(value);
  const list = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (list.length === 0 || /^\d+$/.test(value)) throw new TypeError(`--trust-proxy: expected a number of proxies, or their addresses (127.0.0.1,10.0.0.0/8), got "${text}"`);
  try {
    trustedList(list);
  } catch (error) {
    throw new TypeError((error as Error).message.replace(/^trustProxy/, '--trust-proxy'));
  }
  return list;
}

function trustedList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    const maxPrefix = family === 6 ? 128 : 32;
    if (!family || (prefix !== undefined && (!/^\d+$/.test(bits!) || prefix > maxPrefix))) {
      throw new TypeError(`trustProxy: "${entry}" is not an IP address or CIDR range`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The entries of every `X-Forwarded-For` line, in order. */
function entries(header: string | string[] | undefined): string[] {
  const lines = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return lines.flatMap((line) => line.split(',')).map((entry) => normalise(entry.trim())).filter(Boolean);
}

/** `[2001:db8::1]:443` and `198.51.100.9:80` without the port; IPv4-mapped IPv6 as plain IPv4. */
function normalise(entry: string): string {
  let address = entry;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) address = address.slice(7);
  return address.slice(0, MAX_ADDRESS_LENGTH);
}

import { readFile } from 'node:fs/promises';
import { createDestinations } from './forwarder';
import type { IdentifierOptions } from './hash';
import type { ForwardOptions } from './types';

/** The CLI's forwarding config file: `ForwardOptions` (its JSON-able part) and the identifier options. */
export interface ForwardConfig {
  forward: ForwardOptions;
  identifiers?: IdentifierOptions;
}

const TOP_LEVEL = ['meta', 'googleAds', 'ga4', 'identifiers', 'gateRefreshMs', 'backoff', 'timeoutMs'];

/**
 * Reads a forwarding config file. Any string value `"env:NAME"` is read from the environment variable
 * `NAME`, so secrets stay out of the file (`"accessToken": "env:META_ACCESS_TOKEN"`). Every problem
 * is an error naming the file and the setting.
 *
 * @example { "meta": { "pixelId": "123", "accessToken": "env:META_ACCESS_TOKEN" }, "ga4": { ... } }
 */
export async function loadForwardConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ForwardConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path}: expected a JSON object`);
  const unknown = Object.keys(parsed).filter((key) => !TOP_LEVEL.includes(key));
  if (unknown.length) throw new Error(`${path}: unknown setting ${unknown.join(', ')} (expected ${TOP_LEVEL.join(', ')})`);
  const resolved = fromEnv(parsed, env, path, '') as Record<string, unknown>;
  const { identifiers, ...forward } = resolved;
  try {
    createDestinations(forward as ForwardOptions, Date.now);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  return { forward: forward as ForwardOptions, ...(identifiers ? { identifiers: identifiers as IdentifierOptions } : {}) };
}

function fromEnv(value: unknown, env: NodeJS.ProcessEnv, path: string, at: string): unknown {
  if (typeof value === 'string' && value.startsWith('env:')) {
    const name = value.slice(4);
    const found = env[name];
    if (found === undefined || found === '') throw new Error(`${path}: ${at.slice(1)} names the environment variable ${name}, which is not set`);
    return found;
  }
  if (Array.isArray(value)) return value.map((item, index) => fromEnv(item, env, path, `${at}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromEnv(item, env, path, `${at}.${key}`)]));
  }
  return value;
}

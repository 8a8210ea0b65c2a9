import type { Adapter, ConsentUpdate, Plan, Purpose } from '../types';
import type { DataLayerOptions } from '../adapters/datalayer';
import type { GtagOptions } from '../adapters/gtag';
import type { MetaOptions } from '../adapters/meta';
import { NAME, PURPOSES, consentProblem, isPlain, own, show } from '../lib/validate';
import { consentSources } from '../consent/sources';

/** Builds a built-in adapter, by name, from the resolved options. */
export type AdapterFactory = (options: ResolvedOptions) => Adapter;

export interface ResolvedOptions {
  endpoint?: string;
  adapters: Adapter[];
  trackers: Record<string, unknown>;
  batch: { size: number; intervalMs: number };
  /** Defaults, or the name of the site's own consent source (see `consentSources`). */
  consent: ConsentUpdate | string;
  plan?: Plan;
  debug?: boolean;
  debugSrc?: string;
  /** The query parameters whose values URLs may keep besides `utm_*`, in lower case. */
  urlParams: string[];
  gtag?: GtagOptions;
  meta?: MetaOptions;
  datalayer?: DataLayerOptions;
}

const TRACKERS = ['cta', 'downloads', 'sections', 'scroll', 'forms', 'video', 'vitals', 'spa'];

const absolute = (url: unknown): string => {
  try {
    return typeof url === 'string' ? new URL(url, location.href).href : '';
  } catch {
    return '';
  }
};

/** Each option: its test, and what it must be. */
const RULES: Record<string, [(value: any) => unknown, string]> = {
  endpoint: [(url) => /^https?:/.test(absolute(url)), 'an http(s) URL'],
  adapters: [Array.isArray, 'an array of adapter names or objects'],
  trackers: [
    (trackers) => isPlain(trackers) && Object.entries(trackers).every(([key, value]) => TRACKERS.includes(key) && (value === false || isPlain(value))),
    `an object whose keys are among ${TRACKERS.join(', ')}, each false or an object of options`,
  ],
  batch: [
    (batch) =>
      isPlain(batch) &&
      Object.entries(batch).every(([key, n]: [string, any]) =>
        key === 'size' ? Number.isInteger(n) && n > 0 && n <= 1000 : key === 'intervalMs' && typeof n === 'number' && n >= 0 && n <= 36e5,
      ),
    '{ size: 1 to 1000, intervalMs: 0 to 3600000 }',
  ],
  consent: [(consent) => consentSources.hasOwnProperty(consent) || !consentProblem(consent), `granted, denied, pending, an object of purposes, or a consent source (${Object.keys(consentSources)})`],
  plan: [
    (plan) => isPlain(plan) && [plan.macro, ...Object.values(plan.stages || {})].every((names) => !names || (Array.isArray(names) && names.every((name) => NAME.test(name)))),
    '{ macro: [names], stages: { engagement, consideration, intent, conversion: [names] } }',
  ],
  debug: [(debug) => debug === !!debug, 'true or false'],
  // Only http(s): the overlay is a script, and a `data:` or `javascript:` URL must never become one.
  debugSrc: [(url) => /^https?:/.test(absolute(url)), 'an http(s) URL'],
  urlParams: [(names) => Array.isArray(names) && names.every((name) => typeof name === 'string'), 'an array of query parameter names'],
  errors: [(errors) => errors === 'throw' || errors === 'log', 'throw or log'],
  gtag: [(gtag) => isPlain(gtag) && [undefined, 'basic', 'advanced'].includes(gtag.consentMode as string), 'an object of gtag adapter options (consentMode: basic or advanced)'],
  meta: [isPlain, 'an object of meta adapter options'],
  datalayer: [isPlain, 'an object of datalayer adapter options'],
};

/**
 * Checks and completes the options of `init`. Each problem goes to `fail`, which throws (the npm API)
 * or logs and returns, and then the faulty option is left out and the rest still applies (the script
 * tag: a typo in one attribute must not stop all tracking).
 */
export function resolveOptions(raw: unknown, builtIns: Record<string, AdapterFactory>, fail: (message: string) => void): ResolvedOptions {
  const resolved: ResolvedOptions = { adapters: [], trackers: {}, batch: { size: 10, intervalMs: 5000 }, consent: 'granted', urlParams: [] };
  if (raw !== undefined && !isPlain(raw)) fail(`options must be an object, not ${show(raw)}`);
  const options = isPlain(raw) ? raw : {};
  for (const [key, value] of Object.entries(options)) {
    const rule = own(RULES, key) ? RULES[key] : undefined;
    if (!rule) fail(`unknown option ${key} (known: ${Object.keys(RULES)})`);
    else if (value === undefined) continue;
    else if (!rule[0](value)) fail(`option ${key} must be ${rule[1]}, not ${show(value)}`);
    else if (key === 'batch') Object.assign(resolved.batch, value);
    else if (key === 'urlParams') resolved.urlParams = (value as string[]).map((name) => name.toLowerCase());
    else if (key !== 'adapters') (resolved as any)[key] = key === 'endpoint' || key === 'debugSrc' ? absolute(value) : value;
  }

  const { adapters = resolved.endpoint ? ['endpoint'] : [] } = options;
  for (const item of Array.isArray(adapters) ? adapters : []) {
    const adapter: Adapter | void =
      typeof item === 'string'
        ? builtIns.hasOwnProperty(item) && (item !== 'endpoint' || resolved.endpoint)
          ? builtIns[item]!(resolved)
          : fail(item === 'endpoint' ? 'the endpoint adapter needs the endpoint option (the collector URL)' : `unknown adapter ${show(item)} (built in: ${Object.keys(builtIns)})`)
        : item && typeof item.name === 'string' && typeof item.send === 'function' && (item.consent || []).every((purpose: Purpose) => PURPOSES.includes(purpose))
          ? (item as Adapter)
          : fail(`an adapter must be a built-in name or { name, send, consent?: [purposes] }, not ${show(item)}`);
    if (!adapter) continue;
    if (resolved.adapters.some((other) => other.name === adapter.name)) fail(`adapter ${adapter.name} is listed twice`);
    else resolved.adapters.push(adapter);
  }
  return resolved;
}

import type { Adapter, ConsentUpdate, Plan, Purpose } from '../types';
import type { DataLayerOptions } from '../adapters/datalayer';
import type { GtagOptions } from '../adapters/gtag';
import type { MetaOptions } from '../adapters/meta';
import { describe } from '../lib/safe';
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
const STAGES = ['engagement', 'consideration', 'intent', 'conversion'];

const absolute = (url: unknown): string => {
  try {
    // An empty URL is the page itself: never a collector, nor a script.
    return typeof url === 'string' && url.trim() ? new URL(url, location.href).href : '';
  } catch {
    return '';
  }
};

type Test = (value: any) => unknown;
const flag: Test = (value) => value === !!value;
const ms: Test = (n) => typeof n === 'number' && n >= 0 && n <= 36e5; // NaN fails every comparison
const percents: Test = (marks) => Array.isArray(marks) && marks.every((mark) => typeof mark === 'number' && mark > 0 && mark <= 100);
const text: Test = (value) => typeof value === 'string' && !!value;

/**
 * The options of each tracker and built-in adapter, and their tests. A key not listed is refused: a
 * misspelt option that did nothing, or a value that made a tracker throw at start (an extension that
 * is a pattern) or an adapter wait for ever (a `waitMs` in words), was worse than an error.
 */
const NESTED: Record<string, Record<string, Test>> = {
  cta: { outbound: flag, contact: flag },
  downloads: { extensions: (list) => Array.isArray(list) && list.every((extension) => typeof extension === 'string' && /^\w+$/.test(extension)) },
  sections: { threshold: (share) => typeof share === 'number' && share >= 0 && share <= 1, dwellMs: ms },
  scroll: { marks: percents },
  forms: {},
  video: { marks: percents },
  vitals: {},
  spa: { query: flag },
  gtag: { send_to: text, names: (names) => isPlain(names) && Object.values(names).every(text), waitMs: ms, consentMode: text }, // consentMode's values: RULES.gtag
  meta: { events: (events) => events === 'standard' || (isPlain(events) && Object.values(events).every((mapped) => text(mapped) || typeof mapped === 'function')), waitMs: ms },
  datalayer: { name: text },
};

/** Why the nested options under `key` (the trackers', or an adapter's) are not valid, or undefined. */
const nestedProblem = (key: string, value: Record<string, unknown>): string | undefined => {
  const groups: Record<string, unknown> = key === 'trackers' ? value : { [key]: value };
  for (const [name, options] of Object.entries(groups)) {
    if (!own(NESTED, name) || options === false) continue;
    for (const [option, setting] of Object.entries(options as object)) {
      const path = (key === 'trackers' ? 'trackers.' : '') + name + '.' + option;
      if (!own(NESTED[name]!, option)) return `unknown option ${path} (known: ${Object.keys(NESTED[name]!)})`;
      if (!NESTED[name]![option]!(setting)) return `option ${path} cannot be ${show(setting)}`;
    }
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
    (plan) =>
      isPlain(plan) &&
      Object.keys(plan).every((key) => key === 'macro' || key === 'stages') &&
      (plan.stages === undefined || (isPlain(plan.stages) && Object.keys(plan.stages).every((stage) => STAGES.includes(stage)))) &&
      [plan.macro, ...Object.values(plan.stages || {})].every((names) => !names || (Array.isArray(names) && names.every((name) => NAME.test(name)))),
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
 * tag: a typo in one attribute must not stop all tracking). Each option is read once, and one that
 * throws as it is read (a getter, a Proxy) is a faulty option, not a crash.
 */
export function resolveOptions(raw: unknown, builtIns: Record<string, AdapterFactory>, fail: (message: string) => void): ResolvedOptions {
  const resolved: ResolvedOptions = { adapters: [], trackers: {}, batch: { size: 10, intervalMs: 5000 }, consent: 'granted', urlParams: [] };
  let keys: string[] = [];
  let adapters: unknown[] | undefined;
  try {
    if (raw !== undefined && !isPlain(raw)) throw `options must be an object, not ${show(raw)}`;
    keys = Object.keys(raw || {});
  } catch (error) {
    fail(typeof error === 'string' ? error : `options cannot be read: ${describe(error)}`);
  }
  for (const key of keys) {
    const rule = own(RULES, key) ? RULES[key]! : undefined;
    if (!rule) {
      fail(`unknown option ${key} (known: ${Object.keys(RULES)})`);
      continue;
    }
    let value: any;
    let problem: string | undefined;
    try {
      value = (raw as Record<string, unknown>)[key];
      if (value === undefined) continue;
      problem = rule[0](value) ? nestedProblem(key, value) : `option ${key} must be ${rule[1]}, not ${show(value)}`;
      if (!problem && key === 'adapters') adapters = [...value];
    } catch (error) {
      problem = `option ${key} cannot be read: ${describe(error)}`;
    }
    if (problem) fail(problem);
    else if (key === 'batch') Object.assign(resolved.batch, value);
    else if (key === 'urlParams') resolved.urlParams = (value as string[]).map((name) => name.toLowerCase());
    else if (key !== 'adapters') (resolved as any)[key] = key === 'endpoint' || key === 'debugSrc' ? absolute(value) : value;
  }

  for (const item of adapters || (resolved.endpoint ? ['endpoint'] : [])) {
    let adapter: Adapter | string;
    try {
      adapter = adapterOf(item, resolved, builtIns);
    } catch (error) {
      adapter = `an adapter cannot be read: ${describe(error)}`;
    }
    if (typeof adapter === 'string') fail(adapter);
    else if (resolved.adapters.some((other) => other.name === adapter.name)) fail(`adapter ${adapter.name} is listed twice`);
    else resolved.adapters.push(adapter);
  }
  return resolved;
}

/** The adapter that `item` of the adapters option names or is, or why it is none. */
const adapterOf = (item: any, resolved: ResolvedOptions, builtIns: Record<string, AdapterFactory>): Adapter | string =>
  typeof item === 'string'
    ? own(builtIns, item) && (item !== 'endpoint' || resolved.endpoint)
      ? builtIns[item]!(resolved)
      : item === 'endpoint'
        ? 'the endpoint adapter needs the endpoint option (the collector URL)'
        : `unknown adapter ${show(item)} (built in: ${Object.keys(builtIns)})`
    : item && typeof item.name === 'string' && typeof item.send === 'function' && (item.consent === undefined || (Array.isArray(item.consent) && item.consent.every((purpose: Purpose) => PURPOSES.includes(purpose))))
      ? item
      : `an adapter must be a built-in name or { name, send, consent?: [purposes] }, not ${show(item)}`;

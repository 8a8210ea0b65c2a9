import type { Adapter, ConsentUpdate, OptionTest, OptionTests, Part, Plan, Purpose } from '../types';
import { describe } from '../lib/safe';
import { NAME, PURPOSES, consentProblem, flag, isPlain, own, show } from '../lib/validate';
import { adapterOf, createRegistry, isPart, type Registry } from './registry';

export interface ResolvedOptions {
  endpoint?: string;
  adapters: Adapter[];
  /** `options.trackers`, checked: each key a registered tracker's (or `spa`), false or an object of options. */
  trackers: Record<string, any>;
  batch: { size: number; intervalMs: number };
  /** Defaults, or the name of the site's own consent source (a registered consent part). */
  consent: ConsentUpdate | string;
  plan?: Plan;
  debug?: boolean;
  debugSrc?: string;
  /** The query parameters whose values URLs may keep besides `utm_*`, in lower case. */
  urlParams: string[];
  /** The parts this instance may use. */
  registry: Registry;
}

const STAGES = ['engagement', 'consideration', 'intent', 'conversion'];

const absolute = (url: unknown): string => {
  try {
    // An empty URL is the page itself: never a collector, nor a script.
    return typeof url === 'string' && url.trim() ? new URL(url, location.href).href : '';
  } catch {
    return '';
  }
};

/**
 * The core's own keys in `options.trackers`: SPA route changes (contract 3), and `vitals`, which the
 * contract lists and which stays valid, though web vitals are their own entry (`microconv/vitals`).
 */
const CORE_TRACKER_KEYS: Record<string, OptionTests> = { spa: { query: flag }, vitals: {} };

/** Each option of the core: its test, and what it must be. The parts' own options are checked by their tests. */
const RULES: Record<string, [OptionTest, string]> = {
  endpoint: [(url) => /^https?:/.test(absolute(url)), 'an http(s) URL'],
  adapters: [Array.isArray, 'an array of adapter names or objects'],
  trackers: [isPlain, 'an object of tracker options'],
  batch: [
    (batch) =>
      isPlain(batch) &&
      Object.entries(batch).every(([key, n]: [string, any]) =>
        key === 'size' ? Number.isInteger(n) && n > 0 && n <= 1000 : key === 'intervalMs' && typeof n === 'number' && n >= 0 && n <= 36e5,
      ),
    '{ size: 1 to 1000, intervalMs: 0 to 3600000 }',
  ],
  // A consent source's name (`'gtag'`, `'tcf'`) is accepted before this rule runs, by the registry.
  consent: [(consent) => !consentProblem(consent), 'granted, denied, pending, an object of purposes, or a consent source'],
  plan: [
    (plan) =>
      isPlain(plan) &&
      Object.keys(plan).every((key) => key === 'macro' || key === 'stages') &&
      (plan.stages === undefined || (isPlain(plan.stages) && Object.keys(plan.stages).every((stage) => STAGES.includes(stage)))) &&
      [plan.macro, ...Object.values(plan.stages || {})].every((names) => !names || (Array.isArray(names) && names.every((name) => NAME.test(name)))),
    '{ macro: [names], stages: { engagement, consideration, intent, conversion: [names] } }',
  ],
  debug: [flag, 'true or false'],
  // Only http(s): the overlay is a script, and a `data:` or `javascript:` URL must never become one.
  debugSrc: [(url) => /^https?:/.test(absolute(url)), 'an http(s) URL'],
  urlParams: [(names) => Array.isArray(names) && names.every((name) => typeof name === 'string'), 'an array of query parameter names'],
  errors: [(errors) => errors === 'throw' || errors === 'log', 'throw or log'],
  parts: [(parts) => Array.isArray(parts) && parts.every(isPart), 'an array of parts ({ kind: tracker, adapter or consent, … })'],
};

/** Why `value`, the options at `path` of a part with these `tests`, cannot be used; undefined when it can. */
function partProblem(path: string, value: unknown, tests: OptionTests | undefined, off?: boolean): string | undefined {
  if (off && value === false) return;
  if (!isPlain(value)) return `option ${path} must be ${off ? 'false or ' : ''}an object of options, not ${show(value)}`;
  for (const [key, setting] of tests ? Object.entries(value) : []) {
    if (!own(tests!, key)) return `unknown option ${path}.${key} (known: ${Object.keys(tests!)})`;
    if (setting !== undefined && !tests![key]!(setting)) return `option ${path}.${key} cannot be ${show(setting)}`;
  }
}

/**
 * Checks and completes the options of `init`, with the parts its entry registered. Each problem goes to
 * `fail`, which throws (the npm API) or logs and returns, and then the faulty option is left out and the
 * rest still applies (the script tag: a typo in one attribute must not stop all tracking). Each option
 * is read once, and one that throws as it is read (a getter, a Proxy) is a faulty option, not a crash.
 * `onError` hears of an adapter whose code could not be fetched.
 */
export function resolveOptions(raw: unknown, registered: Part[], fail: (message: string) => void, onError: (message: string) => void): ResolvedOptions {
  const options = readOnce(raw, fail);
  const extra = options.parts;
  if (extra !== undefined && !RULES.parts![0](extra)) fail(`option parts must be ${RULES.parts![1]}, not ${show(extra)}`);
  const registry = createRegistry([...registered, ...(extra !== undefined && RULES.parts![0](extra) ? extra : [])]);
  const resolved: ResolvedOptions = { adapters: [], trackers: {}, batch: { size: 10, intervalMs: 5000 }, consent: 'granted', urlParams: [], registry };
  let adapters: unknown[] | undefined;

  for (const [key, value] of Object.entries(options)) {
    let problem: string | undefined;
    try {
      problem = checkOption(key, value, resolved);
      if (!problem && key === 'adapters') adapters = [...value];
    } catch (error) {
      problem = `option ${key} cannot be read: ${describe(error)}`;
    }
    if (problem) fail(problem);
  }

  for (const item of adapters || (resolved.endpoint ? ['endpoint'] : [])) {
    let adapter: Adapter | undefined;
    try {
      adapter = adapterFrom(item, resolved, options, onError);
    } catch (problem) {
      fail(typeof problem === 'string' ? problem : `an adapter cannot be read: ${describe(problem)}`);
    }
    if (!adapter) continue;
    if (resolved.adapters.some((other) => other.name === adapter.name)) fail(`adapter ${adapter.name} is listed twice`);
    else resolved.adapters.push(adapter);
  }
  return resolved;
}

/** Each option of `raw`, read once: one that throws as it is read goes to `fail` and is left out. */
function readOnce(raw: unknown, fail: (message: string) => void): Record<string, any> {
  const options: Record<string, any> = {};
  let keys: string[] = [];
  try {
    if (raw !== undefined && !isPlain(raw)) throw `options must be an object, not ${show(raw)}`;
    keys = Object.keys(raw || {});
  } catch (error) {
    fail(typeof error === 'string' ? error : `options cannot be read: ${describe(error)}`);
  }
  for (const key of keys) {
    try {
      const value = (raw as Record<string, unknown>)[key];
      if (value !== undefined) options[key] = value;
    } catch (error) {
      fail(`option ${key} cannot be read: ${describe(error)}`);
    }
  }
  return options;
}

/** Checks option `key` and keeps it in `resolved`; returns why it cannot be used. May throw (a getter inside it). */
function checkOption(key: string, value: any, resolved: ResolvedOptions): string | undefined {
  const { registry } = resolved;
  // The core's own options first: `endpoint` is the collector URL, not the endpoint adapter's options.
  const rule = own(RULES, key) ? RULES[key] : undefined;
  const part = !rule && own(registry.adapters, key) ? registry.adapters[key] : undefined;
  if (!rule && !part) return `unknown option ${key} (known: ${[...Object.keys(RULES), ...Object.keys(registry.adapters)]})`;
  if (key === 'parts') return;
  if (key === 'consent' && typeof value === 'string' && own(registry.consents, value)) return void (resolved.consent = value);
  if (part) return partProblem(key, value, part.options);
  if (!rule![0](value)) return `option ${key} must be ${rule![1]}${key === 'consent' ? ` (${Object.keys(registry.consents)})` : ''}, not ${show(value)}`;
  if (key === 'trackers') return trackersProblem(value, resolved);
  if (key === 'batch') Object.assign(resolved.batch, value);
  else if (key === 'urlParams') resolved.urlParams = (value as string[]).map((name) => name.toLowerCase());
  else if (key !== 'adapters') (resolved as any)[key] = key === 'endpoint' || key === 'debugSrc' ? absolute(value) : value;
}

/** Keeps each valid key of `options.trackers`; returns the first problem. */
function trackersProblem(trackers: Record<string, unknown>, resolved: ResolvedOptions): string | undefined {
  const known = { ...resolved.registry.trackerKeys, ...CORE_TRACKER_KEYS };
  let first: string | undefined;
  for (const [name, settings] of Object.entries(trackers)) {
    const problem = own(known, name) ? partProblem('trackers.' + name, settings, known[name], true) : `unknown tracker ${name} (known: ${Object.keys(known)})`;
    if (problem) first ||= problem;
    else resolved.trackers[name] = settings;
  }
  return first;
}

/** The adapter that `item` of `options.adapters` names (a registered part) or is (an object); throws why it is neither. */
function adapterFrom(item: any, resolved: ResolvedOptions, options: Record<string, any>, onError: (message: string) => void): Adapter {
  const { adapters } = resolved.registry;
  if (typeof item === 'string') {
    if (!own(adapters, item)) throw `unknown adapter ${show(item)} (registered: ${Object.keys(adapters)})`;
    // Its options were checked above; a faulty one was left out.
    const settings = own(options, item) && isPlain(options[item]) && !partProblem(item, options[item], adapters[item]!.options) ? options[item] : undefined;
    return adapterOf(adapters[item]!, settings, resolved.endpoint, onError);
  }
  if (item && typeof item.name === 'string' && typeof item.send === 'function' && (item.consent === undefined || (Array.isArray(item.consent) && item.consent.every((purpose: Purpose) => PURPOSES.includes(purpose))))) return item;
  throw `an adapter must be a registered name or { name, send, consent?: [purposes] }, not ${show(item)}`;
}

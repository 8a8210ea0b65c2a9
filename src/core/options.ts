import type { Adapter, ConsentUpdate, OptionTest, OptionTests, Part, Plan, Purpose } from '../types';
import { describe } from '../lib/safe';
import { NAME, PURPOSES, consentProblem, flag, isPlain, own, show, type Problem } from '../lib/validate';
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

/**
 * Each option of the core and its test. What each must be is said by the messages (`OPTIONS` in
 * errors.ts); the parts' own options are checked by their tests.
 */
export const RULES: Record<string, OptionTest> = {
  endpoint: (url) => /^https?:/.test(absolute(url)),
  adapters: Array.isArray,
  trackers: isPlain,
  batch: (batch) =>
    isPlain(batch) &&
    Object.entries(batch).every(([key, n]: [string, any]) => (key === 'size' ? Number.isInteger(n) && n > 0 && n <= 1000 : key === 'intervalMs' && typeof n === 'number' && n >= 0 && n <= 36e5)),
  // A consent source's name (`'gtag'`, `'tcf'`) is accepted before this rule runs, by the registry.
  consent: (consent) => !consentProblem(consent),
  plan: (plan) =>
    isPlain(plan) &&
    Object.keys(plan).every((key) => key === 'macro' || key === 'stages') &&
    (plan.stages === undefined || (isPlain(plan.stages) && Object.keys(plan.stages).every((stage) => STAGES.includes(stage)))) &&
    [plan.macro, ...Object.values(plan.stages || {})].every((names) => !names || (Array.isArray(names) && names.every((name) => NAME.test(name)))),
  debug: flag,
  // Only http(s): the overlay is a script, and a `data:` or `javascript:` URL must never become one.
  debugSrc: (url) => /^https?:/.test(absolute(url)),
  urlParams: (names) => Array.isArray(names) && names.every((name) => typeof name === 'string'),
  errors: (errors) => errors === 'throw' || errors === 'log',
  parts: (parts) => Array.isArray(parts) && parts.every(isPart),
};

/** Option `key`'s value `value` fails its rule; `sources`: the consent sources a `consent` may name. */
const ruleProblem = (key: string, value: unknown, sources?: object): Problem => ['option ' + key, 'rule', key, show(value), sources];

/** Why `value`, the options at `path` of a part with these `tests`, cannot be used; undefined when it can. */
function partProblem(path: string, value: unknown, tests: OptionTests | undefined, off?: boolean): Problem | undefined {
  if (off && value === false) return;
  if (!isPlain(value)) return ['option ' + path, 'options', show(value), off];
  for (const [key, setting] of tests ? Object.entries(value) : []) {
    if (!own(tests!, key)) return [`option ${path}.${key}`, 'unknown', tests];
    if (setting !== undefined && !tests![key]!(setting)) return [`option ${path}.${key}`, 'value', show(setting)];
  }
}

/**
 * Checks and completes the options of `init`, with the parts its entry registered. Each problem goes to
 * `fail`, which throws (the npm API) or logs and returns, and then the faulty option is left out and the
 * rest still applies (the script tag: a typo in one attribute must not stop all tracking). Each option
 * is read once, and one that throws as it is read (a getter, a Proxy) is a faulty option, not a crash.
 * `onError` hears of an adapter whose code could not be fetched.
 */
export function resolveOptions(raw: unknown, registered: Part[], fail: (problem: Problem) => void, onError: (message: string) => void): ResolvedOptions {
  const options = readOnce(raw, fail);
  const extra = options.parts;
  if (extra !== undefined && !RULES.parts!(extra)) fail(ruleProblem('parts', extra));
  const registry = createRegistry([...registered, ...(extra !== undefined && RULES.parts!(extra) ? extra : [])]);
  const resolved: ResolvedOptions = { adapters: [], trackers: {}, batch: { size: 10, intervalMs: 5000 }, consent: 'granted', urlParams: [], registry };
  let adapters: unknown[] | undefined;

  for (const [key, value] of Object.entries(options)) {
    let problem: Problem | undefined;
    try {
      problem = checkOption(key, value, resolved);
      if (!problem && key === 'adapters') adapters = [...value];
    } catch (error) {
      problem = ['option ' + key, 'read', describe(error)];
    }
    if (problem) fail(problem);
  }

  for (const item of adapters || (resolved.endpoint ? ['endpoint'] : [])) {
    let adapter: Adapter | Problem | undefined;
    try {
      adapter = adapterFrom(item, resolved, options, onError);
    } catch (error) {
      fail(['an adapter', 'read', describe(error)]);
    }
    if (!adapter) continue;
    if (Array.isArray(adapter)) fail(adapter);
    else if (resolved.adapters.some((other) => other.name === adapter.name)) fail(['adapter ' + adapter.name, 'twice']);
    else resolved.adapters.push(adapter);
  }
  return resolved;
}

/** Each option of `raw`, read once: one that throws as it is read goes to `fail` and is left out. */
function readOnce(raw: unknown, fail: (problem: Problem) => void): Record<string, any> {
  const options: Record<string, any> = {};
  let keys: string[] = [];
  let problem: Problem | undefined;
  try {
    if (raw !== undefined && !isPlain(raw)) problem = ['options', 'object', show(raw)];
    else keys = Object.keys(raw || {});
  } catch (error) {
    problem = ['options', 'read', describe(error)];
  }
  if (problem) fail(problem);
  for (const key of keys) {
    try {
      const value = (raw as Record<string, unknown>)[key];
      if (value !== undefined) options[key] = value;
    } catch (error) {
      fail(['option ' + key, 'read', describe(error)]);
    }
  }
  return options;
}

/** Checks option `key` and keeps it in `resolved`; returns why it cannot be used. May throw (a getter inside it). */
function checkOption(key: string, value: any, resolved: ResolvedOptions): Problem | undefined {
  const { registry } = resolved;
  // The core's own options first: `endpoint` is the collector URL, not the endpoint adapter's options.
  const rule = own(RULES, key) ? RULES[key] : undefined;
  const part = !rule && own(registry.adapters, key) ? registry.adapters[key] : undefined;
  if (!rule && !part) return ['option ' + key, 'unknown', RULES, registry.adapters];
  if (key === 'parts') return;
  if (key === 'consent' && typeof value === 'string' && own(registry.consents, value)) return void (resolved.consent = value);
  if (part) return partProblem(key, value, part.options);
  if (!rule!(value)) return ruleProblem(key, value, registry.consents);
  if (key === 'trackers') return trackersProblem(value, resolved);
  if (key === 'batch') Object.assign(resolved.batch, value);
  else if (key === 'urlParams') resolved.urlParams = (value as string[]).map((name) => name.toLowerCase());
  else if (key !== 'adapters') (resolved as any)[key] = key === 'endpoint' || key === 'debugSrc' ? absolute(value) : value;
}

/** Keeps each valid key of `options.trackers`; returns the first problem. */
function trackersProblem(trackers: Record<string, unknown>, resolved: ResolvedOptions): Problem | undefined {
  const known = { ...resolved.registry.trackerKeys, ...CORE_TRACKER_KEYS };
  let first: Problem | undefined;
  for (const [name, settings] of Object.entries(trackers)) {
    const problem = own(known, name) ? partProblem('trackers.' + name, settings, known[name], true) : (['tracker ' + name, 'unknown', known] as Problem);
    if (problem) first ||= problem;
    else resolved.trackers[name] = settings;
  }
  return first;
}

/**
 * The adapter that `item` of `options.adapters` names (a registered part) or is (an object), or why it is
 * neither. A throw is the page's (a getter of `item`).
 */
function adapterFrom(item: any, resolved: ResolvedOptions, options: Record<string, any>, onError: (message: string) => void): Adapter | Problem {
  const { adapters } = resolved.registry;
  if (typeof item === 'string') {
    if (!own(adapters, item)) return ['adapter ' + show(item), 'unregistered', adapters];
    // Its options were checked above; a faulty one was left out.
    const settings = own(options, item) && isPlain(options[item]) && !partProblem(item, options[item], adapters[item]!.options) ? options[item] : undefined;
    return adapterOf(adapters[item]!, settings, resolved.endpoint, onError);
  }
  if (item && typeof item.name === 'string' && typeof item.send === 'function' && (item.consent === undefined || (Array.isArray(item.consent) && item.consent.every((purpose: Purpose) => PURPOSES.includes(purpose))))) return item;
  return ['an adapter', 'adapter', show(item)];
}

import type { OptionTest, Params, Purpose } from '../types';
import { cut, wellFormed } from './cut';
import { isPlain, withoutToJson } from './json';
import { describe } from './safe';

export { isPlain };

/**
 * A refusal, as the checks make it: `what` was refused (`option batch`, `event name`: clear on its own),
 * and the `code` and values from which `word` (src/core/errors.ts) makes the full message. The script tag
 * fetches that wording only on its first error, so the core holds the checks and none of their prose.
 */
export type Problem = [what: string, code: string, ...values: unknown[]];

/** Contract 3: event names are refused outside this pattern, never rewritten. */
export const NAME = /^[a-z][a-z0-9_]{0,39}$/;

export const PURPOSES: Purpose[] = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'];
const CONSENT_VALUES = ['granted', 'denied', 'pending'];

/**
 * A short, safe description of a value for an error message: never the value of an object, and never a
 * throw (a Proxy's traps run when its tag is read).
 */
export const show = (value: unknown): string => {
  try {
    return typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? cut(value, 40) + '…' : value)
      : typeof value === 'object' && value
        ? Object.prototype.toString.call(value).slice(8, -1) // Object, Array, HTMLDivElement, Map…
        : ['bigint', 'function', 'symbol'].includes(typeof value)
          ? typeof value // never a function's source text
          : String(value);
  } catch {
    return 'an unreadable object';
  }
};

/** Whether `key` is `object`'s own: a key the page added to `Object.prototype` is nobody's. */
export const own = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * How deep params may nest, params themselves being level 1: the collector stores events nested at most
 * 32 levels deep, the event being the first.
 */
export const MAX_DEPTH = 31;

/** The most characters a tracker takes from the page for one parameter (a name, a URL), so that its event always fits. */
export const MAX_TEXT = 1000;

/** Why `name` is not a valid event name, or `undefined` when it is. */
export const nameProblem = (name: unknown): Problem | undefined => (typeof name === 'string' && NAME.test(name) ? undefined : ['event name', 'name', show(name)]);

/** `error`, thrown while `doing` something (`track("x")`), as a problem or message that says so. */
export const within = (doing: string, error: unknown): Problem | string =>
  // Only our own refusals are arrays here: whatever the page throws is worded where it is caught.
  Array.isArray(error) ? [`${doing}: ${error[0]}`, 'in', doing, error] : `${doing}: ${describe(error)}`;

/**
 * A copy of `params` that JSON carries unchanged, or a thrown problem naming the first value it would
 * not: a function, a symbol, a BigInt, a DOM node, a class instance, NaN, Infinity, a circular
 * reference, nesting past MAX_DEPTH, a value that throws when read, or a name no receiver can hold.
 * Half an emoji in text becomes U+FFFD, as UTF-8 would make it. Copying also keeps a caller who mutates
 * their object later from changing a queued event.
 */
export function copyParams(params: unknown): Params {
  if (params === undefined) return {};
  const depths = new WeakMap<object, number>();
  // Our own refusal, told from what the page's getter may throw.
  let refusal: Problem | undefined;
  const refuse = (...problem: Problem): never => {
    throw (refusal = problem);
  };
  try {
    if (!isPlain(params)) refuse('params', 'plain', show(params));
    return JSON.parse(
      // Dates and other objects with toJSON arrive here already turned into what JSON makes of them; arrays
      // and plain objects as they are, whatever toJSON the page gave their prototypes.
      JSON.stringify(params, function (this: Record<string, unknown>, key, value) {
        value = withoutToJson.call(this, key, value);
        // Code that copies by assignment, as vendors' tags do, turns `__proto__` into a prototype.
        if (key === '__proto__') refuse('parameter __proto__', 'proto');
        if (wellFormed(key) !== key) refuse('parameter name', 'unicode', show(key));
        const type = typeof value;
        if (type === 'string' || type === 'boolean' || value == null || (type === 'number' && isFinite(value))) return value;
        if (!Array.isArray(value) && !isPlain(value)) refuse('parameter ' + key, 'send', show(value));
        const depth = (depths.get(this) || 0) + 1;
        if (depth > MAX_DEPTH) refuse('params', 'deep');
        depths.set(value, depth);
        return value;
      }),
    );
  } catch (error) {
    // Ours; JSON's own TypeError about a cycle; or what the page's getters and Proxies threw.
    throw refusal && error === refusal ? error : /circular|cyclic/i.test(describe(error)) ? ['params', 'cycle'] : ['params', 'read', describe(error)];
  }
}

/**
 * `params` as `copyParams` would make them, for microconv's own trackers, whose params are flat strings
 * and numbers: without the JSON round trip, and so per click or scroll mark without its cost. Values
 * JSON cannot carry as numbers (a live stream's Infinity) become null, as JSON would make them. Own keys
 * only (`for…in` would add what the page put on `Object.prototype`); text from the page is well-formed
 * and at most MAX_TEXT characters, so that no attribute or title can get an event refused.
 */
export function ownParams(params: Params): Params {
  const copy: Params = {};
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value !== undefined) copy[key] = typeof value === 'number' && !isFinite(value) ? null : typeof value === 'string' ? cut(wellFormed(value), MAX_TEXT) : value;
  }
  return copy;
}

/** Why `update` is not a consent value or update, or `undefined` when it is; an update that throws when read is not one. */
export const consentProblem = (update: unknown): Problem | undefined => {
  try {
    if (typeof update === 'string' ? CONSENT_VALUES.includes(update) : isPlain(update) && Object.keys(update).every((key) => PURPOSES.includes(key as Purpose) && CONSENT_VALUES.includes(update[key] as string))) return;
  } catch {}
  return ['consent', 'consent', show(update)];
};

/** Tests of option values that parts share (see `OptionTests`). */
export const flag: OptionTest = (value) => value === !!value;
/** A duration in ms, up to an hour. NaN fails every comparison. */
export const ms: OptionTest = (n) => typeof n === 'number' && n >= 0 && n <= 36e5;
export const text: OptionTest = (value) => typeof value === 'string' && !!value;
/** Marks in percent, such as `[25, 50, 75]`. */
export const percents: OptionTest = (marks) => Array.isArray(marks) && marks.every((mark) => typeof mark === 'number' && mark > 0 && mark <= 100);
/** An object of event names to `test`'s values: a mapping option. */
export const mapOf =
  (test: OptionTest): OptionTest =>
  (map) =>
    isPlain(map) && Object.values(map).every(test);

import type { OptionTest, Params, Purpose } from '../types';
import { cut } from './cut';
import { isPlain, withoutToJson } from './json';

export { isPlain };

/** Contract 3: event names are refused outside this pattern, never rewritten. */
export const NAME = /^[a-z][a-z0-9_]{0,39}$/;

export const PURPOSES: Purpose[] = ['analytics_storage', 'ad_storage', 'ad_user_data', 'ad_personalization'];
const CONSENT_VALUES = ['granted', 'denied', 'pending'];

/** A short, safe description of a value for an error message: never the value of an object. */
export const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? cut(value, 40) + '…' : value)
    : typeof value === 'object' && value
      ? Object.prototype.toString.call(value).slice(8, -1) // Object, Array, HTMLDivElement, Map…
      : ['bigint', 'function', 'symbol'].includes(typeof value)
        ? typeof value // never a function's source text
        : String(value);

/** Whether `key` is `object`'s own: a key the page added to `Object.prototype` is nobody's. */
export const own = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** Why `name` is not a valid event name, or `undefined` when it is. */
export const nameProblem = (name: unknown): string | undefined =>
  typeof name === 'string' && NAME.test(name)
    ? undefined
    : `invalid event name ${show(name)}: 1 to 40 of a-z, 0-9 and _, starting with a letter`;

/**
 * A copy of `params` that JSON carries unchanged, or a thrown message naming the first value it would
 * not: a function, a symbol, a BigInt, a DOM node, a class instance, NaN, Infinity or a circular
 * reference. Copying also keeps a caller who mutates their object later from changing a queued event.
 */
export function copyParams(params: unknown): Params {
  if (params === undefined) return {};
  if (!isPlain(params)) throw `params must be a plain object, not ${show(params)}`;
  try {
    return JSON.parse(
      // Dates and other objects with toJSON arrive here already turned into what JSON makes of them; arrays
      // and plain objects as they are, whatever toJSON the page gave their prototypes.
      JSON.stringify(params, function (this: Record<string, unknown>, key, value) {
        value = withoutToJson.call(this, key, value);
        const type = typeof value;
        if (type === 'string' || type === 'boolean' || value == null || (type === 'number' && isFinite(value)) || Array.isArray(value) || isPlain(value)) return value;
        throw `parameter ${key} cannot be sent: ${show(value)}`;
      }),
    );
  } catch (error) {
    throw typeof error === 'string' ? error : 'params hold a circular reference';
  }
}

/**
 * `params` as `copyParams` would make them, for microconv's own trackers, whose params are flat strings
 * and numbers: without the JSON round trip, and so per click or scroll mark without its cost. Values
 * JSON cannot carry as numbers (a live stream's Infinity) become null, as JSON would make them. Own
 * keys only: `for…in` would also take what the page added to `Object.prototype`.
 */
export function ownParams(params: Params): Params {
  const copy: Params = {};
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value !== undefined) copy[key] = typeof value === 'number' && !isFinite(value) ? null : value;
  }
  return copy;
}

/** Why `update` is not a consent value or update, or `undefined` when it is. */
export const consentProblem = (update: unknown): string | undefined =>
  (
    typeof update === 'string'
      ? CONSENT_VALUES.includes(update)
      : isPlain(update) && Object.keys(update).every((key) => PURPOSES.includes(key as Purpose) && CONSENT_VALUES.includes(update[key] as string))
  )
    ? undefined
    : `consent must be granted, denied, pending or an object of purposes (${PURPOSES}) set to one of those, not ${show(update)}`;

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

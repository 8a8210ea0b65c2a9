import { wellFormed } from './cut';

/** A plain object: `{}` or `Object.create(null)`; not an array, a class instance or a DOM node. */
export const isPlain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && !!value && [Object.prototype, null].includes(Object.getPrototypeOf(value));

/**
 * A `JSON.stringify` replacer that skips the `toJSON` a page may have put on `Array.prototype` or
 * `Object.prototype` (Prototype.js makes every array a string of JSON that way): JSON calls `toJSON`
 * before the replacer, but the replacer can still read the value itself from its holder (`this`). JSON
 * never asks a string primitive for `toJSON`; a Date keeps its own, which is what makes it a date string.
 * Text is made well-formed on the way: half an emoji (in a page's title, say) must not get an event refused.
 */
export function withoutToJson(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const own = this[key];
  return Array.isArray(own) || isPlain(own) ? own : typeof value === 'string' ? wellFormed(value) : value;
}

/**
 * JSON text of our own data (the wire payload, what is stored), whatever the page did to the prototypes.
 * Most pages put no `toJSON` in the way, and most text holds no half an emoji (which JSON escapes as
 * `\udXXX`): then the native pass without a replacer says the same, several times faster (a replacer
 * is a call per value). Any doubt, the output included, takes the careful pass.
 */
export const toJson = (value: unknown): string => {
  const text = 'toJSON' in [] ? '' : JSON.stringify(value);
  return text && !/\\ud[89a-f]/i.test(text) ? text : JSON.stringify(value, withoutToJson);
};

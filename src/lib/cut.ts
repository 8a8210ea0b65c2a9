/**
 * `text` cut to at most `max` UTF-16 code units, one fewer where the cut would split a surrogate pair:
 * half an emoji is a lone surrogate, which is not valid Unicode, and which receivers (a database, GA4)
 * refuse, or store as garbage.
 */
export const cut = (text: string, max: number): string =>
  text.length > max ? text.slice(0, (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max) : text;

/**
 * `text` with each half of a surrogate pair that has no other half replaced by U+FFFD, as a UTF-8
 * encoder does: such text is not Unicode, and receivers refuse it (the collector, for good) or fail on
 * it (`encodeURIComponent` throws).
 */
export const wellFormed = (text: string): string => text.replace(/[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g, (unit) => (unit.length > 1 ? unit : '\ufffd'));

/**
 * Redaction of personal data in text and URLs taken from the page (contract 3). URLs are default-deny:
 * a query value leaves only when its parameter is known to be safe (`utm_*`) or named by the site
 * (`urlParams`); e-mail addresses, phone numbers, long digit runs and token-like strings are redacted
 * wherever they are, in paths, titles, link texts and the values that are kept.
 */

export const REDACTED = '[redacted]';

// An address, also percent-encoded once (`%40`) or twice (`%2540`: a URL inside a URL).
const EMAIL = /[^\s@<>()[\]"',;:/?#&=]+(@|%(25)?40)[^\s@<>()[\]"',;:/?#&=]+\.[a-z]{2,}/gi;
// A run of digits written the way phone numbers are; a phone number (or a card, an account, an order
// number) when it holds 7 digits or more, so prices, years and counts stay readable.
const PHONE = /\+?\(?\d[\d\s().\-/]{5,}\d/g;
// A date is not a phone number.
const DATE = /^\d{4}-\d\d-\d\d$/;
// Secrets and identifiers: a JWT, a UUID, or a run of letters and digits to test with `random`.
const TOKEN = /eyJ[\w-]+\.[\w-]+\.?[\w-]*|[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}|[a-z\d]{8,}/gi;

/**
 * Whether a run of letters and digits looks generated rather than written: a JWT or UUID (they hold a
 * dot or a dash), 24 characters or more, or letters and digits mixed in four groups or more
 * (`a1b2c3d4`, `8f14e45f…`), where words and model names have fewer (`iPhone15Pro`, `mp3player`).
 */
const random = (token: string) => /[-.]/.test(token) || token.length > 23 || token.match(/\d+|[a-z]+/gi)!.length > 3;

/** Text with e-mail addresses, phone numbers, long digit runs and tokens replaced by `[redacted]`. */
export const redactText = (text: string): string =>
  text
    .replace(EMAIL, REDACTED)
    .replace(TOKEN, (token) => (random(token) ? REDACTED : token))
    .replace(PHONE, (digits) => (digits.replace(/\D/g, '').length < 7 || DATE.test(digits) ? digits : REDACTED));

export const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * One part of a URL (a path segment, a parameter's name or value) as it is, or `[redacted]` whole when
 * it holds personal data once decoded (twice, for a URL inside a URL; `+` is a space in a query).
 */
const part = (raw: string): string => {
  const text = safeDecode(safeDecode(raw.replace(/\+/g, ' ')));
  return redactText(text) === text ? raw : REDACTED;
};

/** A URL path with every segment that holds personal data replaced by `[redacted]`. */
export const redactPath = (path: string): string => path.split('/').map(part).join('/');

/** `a=1&b=2`, default-deny: only values of `utm_*` and of the names in `keep` (lower case) are kept. */
const redactQuery = (query: string, keep: readonly string[]): string =>
  query
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 0) return part(pair);
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const known = /^utm_/i.test(name) || keep.includes(safeDecode(name).toLowerCase());
      return part(name) + '=' + (known ? part(value) : value && REDACTED);
    })
    .join('&');

/**
 * A URL as it may leave the page: the number of a `tel:`/`sms:` link and the address of a `mailto:` link
 * removed; credentials removed; the path redacted by segment; query values kept only for `utm_*` and
 * the parameters named in `keep` (lower case), and redacted there too when they hold personal data; the
 * fragment by the same rules (a hash route `#/signup?email=…`, an OAuth reply `#access_token=…`).
 */
export function redactUrl(url: string, keep: readonly string[] = []): string {
  const contact = /^(tel|sms|mailto|callto):/i.exec(url);
  if (contact) return contact[1]!.toLowerCase() + ':' + REDACTED;
  const [, origin = '', path = '', query, hash = ''] = /^([a-z][\w+.-]*:\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(?:#([^]*))?$/i.exec(url)!;
  return (
    origin.replace(/\/\/[^/]*@/, '//') +
    redactPath(path) +
    (query ? '?' + redactQuery(query.slice(1), keep) : '') +
    // A fragment with parameters alone is a query; else a route, with or without one.
    (url.includes('#') ? '#' + (/^[^?]*=/.test(hash) ? redactQuery(hash, keep) : redactUrl(hash, keep)) : '')
  );
}

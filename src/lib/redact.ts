/**
 * Redaction of personal data in text and URLs taken from the page: no e-mail address, phone number,
 * click id or personal query parameter read from the page reaches a destination.
 */

export const REDACTED = '[redacted]';

// An address, also percent-encoded inside a URL.
const EMAIL = /[^\s@<>()[\]"',;:/?#&=]+(@|%40)[^\s@<>()[\]"',;:/?#&=]+\.[a-z]{2,}/gi;
// A run of digits written the way phone numbers are; a phone number when it holds 7 digits or more,
// so prices, years and counts stay readable.
const PHONE = /\+?\(?\d[\d\s().\-/]{5,}\d/g;
// Query parameters whose values identify a click or a person: click ids of Google, Meta, Microsoft,
// TikTok, X, Yandex, LinkedIn, Mailchimp, HubSpot; then names, contact details, secrets.
const SENSITIVE = /^([gdy]|fb|ms|tt|tw)clk?id$|^[gw]braid$|^(li_fat_id|mc_eid|_hsenc)$|mail|phone|^tel|mobile|^fax|name$|address|street|^zip|post(al_?)?code|birth|^dob$|ssn|^pass|^pwd$|token|secret|^auth|^code$|^sess|^user/;

/** Text with e-mail addresses and phone numbers replaced by `[redacted]`. */
export const redactText = (text: string): string =>
  text.replace(EMAIL, REDACTED).replace(PHONE, (digits) => (digits.replace(/\D/g, '').length < 7 ? digits : REDACTED));

/**
 * A URL with the values of click-id and personal query parameters redacted (after `?` and, for hash
 * routes and OAuth redirects, after `#`), e-mail addresses redacted anywhere, and the number of a
 * `tel:`/`sms:` link or the address of a `mailto:` link removed.
 */
export const redactUrl = (url: string): string =>
  /^(tel|sms|mailto|callto):/i.test(url)
    ? url.slice(0, url.indexOf(':') + 1).toLowerCase() + REDACTED
    : url
        // `#/route?email=…`: the name is what follows the last `?` or `/`.
        .replace(/([?&#])([^=&#]+)=[^&#]*/g, (pair, before, key) =>
          SENSITIVE.test(safeDecode(key).toLowerCase().replace(/.*[?/]/, '')) ? `${before}${key}=${REDACTED}` : pair,
        )
        .replace(EMAIL, REDACTED);

export const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

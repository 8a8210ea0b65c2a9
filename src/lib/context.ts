import type { Attribution, PageContext } from '../types';
import { redactPath, redactText, redactUrl } from './redact';

/**
 * Where the page is now (or was, at `url`: the page an SPA route change leaves); `referrer` is the
 * previous route in an SPA, else `document.referrer`. `keep`: the query parameters the site named.
 */
export const pageContext = (keep: readonly string[] = [], referrer = document.referrer, url = location.href): PageContext => ({
  url: redactUrl(url, keep),
  path: redactPath(new URL(url).pathname),
  title: redactText(document.title),
  referrer: redactUrl(referrer, keep),
});

/** The attribution of a session that lands on this page now. */
export function landingAttribution(keep: readonly string[] = []): Attribution {
  const query = new URLSearchParams(location.search);
  const attribution = { landing_page: redactUrl(location.href, keep), referrer: redactUrl(document.referrer, keep) } as Attribution;
  for (const key of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'gbraid', 'wbraid', 'fbclid'] as const) {
    const value = query.get(key);
    // Marketers choose campaign values, but a careless link can still carry an address in one. The click
    // ids are what ad attribution needs: they are kept here as they came (and only here).
    attribution[key] = value !== null && key[0] === 'u' ? redactText(value) : value;
  }
  return attribution;
}

import type { Attribution, PageContext } from '../types';
import { redactText, redactUrl } from './redact';

/** Where the page is now; `referrer` is the previous route in an SPA, else `document.referrer`. */
export const pageContext = (referrer = document.referrer): PageContext => ({
  url: redactUrl(location.href),
  path: location.pathname,
  title: redactText(document.title),
  referrer: redactUrl(referrer),
});

/** The attribution of a session that lands on this page now. */
export function landingAttribution(): Attribution {
  const query = new URLSearchParams(location.search);
  const attribution = { landing_page: redactUrl(location.href), referrer: redactUrl(document.referrer) } as Attribution;
  for (const key of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid'] as const) {
    // Marketers choose campaign values, but a careless link can still carry an address in one.
    attribution[key] = query.has(key) ? redactText(query.get(key)!) : null;
  }
  return attribution;
}

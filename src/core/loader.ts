/**
 * The one loader of microconv's lazy parts: the debug overlay, and for the script tag the trackers and
 * adapters that live in files of their own next to `microconv.js` (`microconv-forms.js`, …). Where the
 * page enforces Trusted Types (`require-trusted-types-for 'script'`), a string assigned to `script.src`
 * is refused, so the URL goes through a policy named `microconv`, which a page lists in its CSP
 * (`trusted-types microconv`). A page with `script-src 'self'` runs them as it runs `microconv.js`.
 */

import { own } from '../lib/validate';

interface ScriptUrlPolicy {
  createScriptURL(url: string): unknown;
}
type TrustedTypes = { createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy };

// A page may create a policy of a given name only once (unless its CSP says 'allow-duplicates'): the
// policy belongs to the page, so it is made at first need and kept here, for every instance of this
// copy of microconv. Likewise the folder this copy was loaded from. The exceptions to keeping state in closures.
let policy: ScriptUrlPolicy | undefined;
let folder: string | undefined;

/**
 * The policy's rule: http(s) URLs only, never `data:`, `blob:` or `javascript:`. Which origin is allowed
 * is settled before a URL gets here: the folder of microconv's own script element (bootstrap.ts accepts
 * only a real one) or a `debugSrc` given in code.
 */
const scriptUrl = (url: string): string => {
  if (!/^https?:/.test(url)) throw 'not an http(s) URL: ' + url;
  return url;
};

/** Appends a script for `url` (absolute); calls `onload` once it has run, `onerror` if it cannot be fetched. */
export function loadScript(url: string, onload: () => void, onerror?: () => void): void {
  policy ||= (window as { trustedTypes?: TrustedTypes }).trustedTypes?.createPolicy('microconv', { createScriptURL: scriptUrl });
  const script = document.createElement('script');
  script.src = (policy ? policy.createScriptURL(url) : scriptUrl(url)) as string;
  script.onload = onload;
  script.onerror = onerror!;
  document.head.append(script);
}

/** The parts that lazily loaded files have brought: each file adds its own, by name (the one export its line in parts.ts picks). */
const loaded = () => ((window as { microconvParts?: Record<string, unknown> }).microconvParts ||= {});

/** Where the script tag's lazy parts are: the URL `microconv.js` itself was loaded from (a real script element's). */
export const partsFrom = (url: string) => void (folder = url);

/**
 * The part `name`, from `microconv-<name>.js` next to `microconv.js`: what that file brings. Rejects
 * when the file cannot be fetched (a 404, a blocker, the CSP) or brings no such part.
 */
export function loadPart<T = any>(name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const found = () => (own(loaded(), name) ? resolve(loaded()[name] as T) : reject(`microconv-${name}.js brought no ${name}`));
    // Brought already, for an instance before this one.
    if (own(loaded(), name)) return found();
    if (!folder) throw 'the folder of microconv.js is not known';
    loadScript(new URL(`microconv-${name}.js`, folder).href, found, () => reject(`microconv-${name}.js could not be loaded`));
  });
}

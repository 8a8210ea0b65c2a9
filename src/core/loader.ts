/**
 * The one loader of microconv's lazy parts (the debug overlay). Where the page enforces Trusted Types
 * (`require-trusted-types-for 'script'`), a string assigned to `script.src` is refused, so the URL goes
 * through a policy named `microconv`, which a page lists in its CSP (`trusted-types microconv`).
 */

interface ScriptUrlPolicy {
  createScriptURL(url: string): unknown;
}
type TrustedTypes = { createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy };

// A page may create a policy of a given name only once (unless its CSP says 'allow-duplicates'): the
// policy belongs to the page, so it is made at first need and kept here, for every instance of this
// copy of microconv. The one exception to keeping state in closures.
let policy: ScriptUrlPolicy | undefined;

/**
 * The policy's rule: http(s) URLs only, never `data:`, `blob:` or `javascript:`. Which origin is allowed
 * is settled before a URL gets here: the folder of microconv's own script element (bootstrap.ts accepts
 * only a real one) or a `debugSrc` given in code.
 */
const scriptUrl = (url: string): string => {
  if (!/^https?:/.test(url)) throw 'not an http(s) URL: ' + url;
  return url;
};

/** Appends a script for `url` (absolute) and calls `onload` once it has run. */
export function loadScript(url: string, onload: () => void): void {
  policy ||= (window as { trustedTypes?: TrustedTypes }).trustedTypes?.createPolicy('microconv', { createScriptURL: scriptUrl });
  const script = document.createElement('script');
  script.src = (policy ? policy.createScriptURL(url) : scriptUrl(url)) as string;
  script.onload = onload;
  document.head.append(script);
}

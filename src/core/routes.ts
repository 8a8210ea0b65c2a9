/**
 * Watches SPA route changes (contract 3): `pushState`/`replaceState` to another path, `popstate`, or a
 * `hashchange` to a hash route (`#/pricing`, `#!/pricing`). An in-page anchor, or a query string change
 * alone (unless `query` is set), is not a new page view. Calls `changed(previousUrl)` after the fact.
 */
export function watchRoutes(changed: (from: string) => void, query?: boolean): () => void {
  const route = () => location.pathname + (query ? location.search : '') + (/^#!?\//.test(location.hash) ? location.hash.replace(/\?.*/, '') : '');
  let current = route();
  let href = location.href;
  const check = () => {
    const from = href;
    href = location.href;
    if (route() !== current) (current = route()), changed(from);
  };
  // The History API fires no event; wrapping its two methods is how a library learns of navigations.
  const restore = (['pushState', 'replaceState'] as const).map((method) => {
    const original = history[method];
    const wrapped = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      check();
    };
    history[method] = wrapped;
    // Put it back only if nobody wrapped it after us.
    return () => history[method] === wrapped && (history[method] = original);
  });
  addEventListener('popstate', check, true);
  addEventListener('hashchange', check, true);
  return () => {
    restore.forEach((undo) => undo());
    removeEventListener('popstate', check, true);
    removeEventListener('hashchange', check, true);
  };
}

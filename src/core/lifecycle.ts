/**
 * Watches the page lifecycle, once per instance, and returns the teardown.
 *
 * `visibilitychange` to hidden is the last event that fires reliably everywhere (mobile browsers often
 * skip `pagehide`), and `pagehide` covers the rest. There is no `unload` listener, which would keep
 * the page out of the back/forward cache. A page restored from that cache runs no script again, so
 * listeners stay registered once, and `pageshow` only resumes.
 */
export function watchLifecycle(leave: (unloading: boolean) => void, resume: () => void, online: () => void): () => void {
  const listeners: [EventTarget, string, (event: any) => void][] = [
    [document, 'visibilitychange', () => (document.visibilityState === 'hidden' ? leave(false) : resume())],
    [window, 'pagehide', () => leave(true)],
    [window, 'pageshow', (event: PageTransitionEvent) => event.persisted && resume()],
    [window, 'online', online],
  ];
  const each = (method: 'addEventListener' | 'removeEventListener') =>
    listeners.forEach(([target, type, listener]) => target[method](type, listener, true));
  each('addEventListener');
  return () => each('removeEventListener');
}

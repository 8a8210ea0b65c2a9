import type { ConsentState, ConsentValue, Purpose } from '../types';
import type { ConsentSource } from '../types';
import { safe } from '../lib/safe';
import { PURPOSES, isPlain } from '../lib/validate';

/** How long without a consent default before a warning says so (consent stays pending, and is still followed). */
const WAIT_MS = 10_000;

type Choices = Partial<Record<Purpose, ConsentValue>>;

/**
 * Follows Google Consent Mode as the page already sets it up: the `gtag('consent', 'default' | 'update',
 * {...})` commands in `window.dataLayer` (gtag pushes its `arguments` object), those pushed before
 * microconv started and those pushed after.
 *
 * - A purpose is pending until a command names it; an update overrides every default, whenever it came.
 * - `region`: gtag applies a default scoped to regions only to visitors there, which it learns from
 *   Google's servers; the page cannot tell. So of all the defaults, the strictest wins: a purpose denied
 *   by any default is denied until an update grants it.
 * - `wait_for_update`: gtag waits that long for an update before it uses the default; so do we, holding
 *   events (pending) meanwhile.
 *
 * Pushes are watched by wrapping `dataLayer.push` around whatever it is now (Array's own, or GTM's
 * wrapper), so that everyone else in the chain still gets every push; `stop` puts the previous push back
 * when ours is still the outermost, and otherwise leaves ours in the chain, passing pushes through.
 */
export const followGtagConsent: ConsentSource = (apply, log) => {
  const page = window as unknown as { dataLayer?: unknown[] };
  // The gtag and GTM snippets keep a dataLayer that exists (`dataLayer = dataLayer || []`): one made here is theirs too.
  const dataLayer = (page.dataLayer ||= []);
  const defaults: Choices = {};
  const updates: Choices = {};
  let seen = false;
  let waitUntil = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const settle = () => {
    const waiting = Date.now() < waitUntil;
    const state = {} as ConsentState;
    for (const purpose of PURPOSES) state[purpose] = updates[purpose] || (!waiting && defaults[purpose]) || 'pending';
    apply(state);
  };

  /** Takes in one dataLayer entry; whether it was a consent command. */
  const read = (entry: unknown): boolean => {
    const [name, command, settings] = [0, 1, 2].map((i) => (entry as Record<number, unknown> | null)?.[i]);
    const isDefault = command === 'default';
    if (name !== 'consent' || !(isDefault || command === 'update') || !isPlain(settings)) return false;
    for (const purpose of PURPOSES) {
      const value = settings[purpose];
      if (value !== 'granted' && value !== 'denied') continue;
      if (!isDefault) updates[purpose] = value;
      else if (defaults[purpose] !== 'denied') defaults[purpose] = value;
    }
    const wait = Number(settings.wait_for_update);
    if (isDefault && wait > 0 && Date.now() + wait > waitUntil) {
      waitUntil = Date.now() + wait;
      clearTimeout(timer);
      timer = setTimeout(settle, wait);
    }
    return (seen = true);
  };
  const take = (entries: unknown[]) => safe(log, 'gtag consent', () => entries.filter(read).length && settle());

  let following = true;
  const push = dataLayer.push;
  const own = dataLayer.hasOwnProperty('push');
  const hooked = function (this: unknown, ...items: unknown[]) {
    try {
      return push.apply(this, items);
    } finally {
      if (following) take(items);
    }
  };
  dataLayer.push = hooked;
  take(dataLayer);
  const quiet = setTimeout(() => seen || log('warn', `gtag consent: no consent default in the dataLayer after ${WAIT_MS / 1000} s; consent stays pending`), WAIT_MS);

  return () => {
    following = false;
    clearTimeout(timer);
    clearTimeout(quiet);
    if (dataLayer.push === hooked) own ? (dataLayer.push = push) : delete (dataLayer as { push?: unknown }).push;
  };
};

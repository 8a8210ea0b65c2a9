import type { MicroconvEvent, PageContext, Params } from '../types';
import { pageContext } from '../lib/context';
import { uuid } from '../lib/uuid';
import { copyParams, nameProblem, ownParams } from '../lib/validate';
import { MAX_REQUEST_BYTES, sizeOf } from './send';
import type { Session } from './session';

/** An event must fit in one request, with room to spare. */
export const MAX_EVENT_BYTES = MAX_REQUEST_BYTES / 2;

/**
 * Builds events (contract 5's envelope): the name checked, the parameters copied, the session, the
 * anonymous id and the page, redacted by the site's URL policy (`urlParams`); `stamp` adds what the
 * instance knows besides (the ids and consent of contract 5).
 */
export function createEvents(session: Session, urlParams: string[], stamp: (event: MicroconvEvent, now: number) => void) {
  let referrer = document.referrer;
  // The page's context changes with its URL, title and referrer; redacting it once per change is enough.
  let page: [string, PageContext] | undefined;
  // While a page view ends (an SPA route change), its last events still belong to it.
  let leaving: PageContext | undefined;
  // When the events built now happened, if not now: a replayed DOM event's time (see startTrackers).
  let at: number | undefined;
  const current = () => {
    const key = location.href + document.title + referrer;
    return (page?.[0] === key ? page : (page = [key, pageContext(urlParams, referrer)]))[1];
  };

  return {
    /**
     * The event, or a thrown message saying why it cannot be one. `own`: params from our trackers, flat
     * and of known types, so they skip the deep check and copy.
     */
    _build(name: string, params: Params | undefined, own?: boolean): MicroconvEvent {
      const problem = nameProblem(name);
      if (problem) throw problem;
      const now = at || Date.now();
      const state = session._touch(now);
      const event = {
        event_id: uuid(),
        name,
        ts: now,
        session_id: state.id,
        anonymous_id: session._anonymousId(),
        page: leaving || current(),
        params: own ? ownParams(params!) : copyParams(params),
        attribution: state.attribution,
      };
      stamp(event, now);
      const size = sizeOf(event);
      if (size > MAX_EVENT_BYTES) throw `${size} bytes, over the ${MAX_EVENT_BYTES} an event may have`;
      return event;
    },

    _clock: (time?: number) => void (at = time),

    /** An SPA route change from `from`: what `ending` tracks belongs to that page; then the new page view starts. */
    _routeChanged(from: string, ending: () => void) {
      leaving = pageContext(urlParams, referrer, from);
      ending();
      leaving = undefined;
      referrer = from;
    },
  };
}

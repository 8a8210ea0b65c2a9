import { titleOf, type EmbedProvider, type Moment, type VideoInfo } from './embed';
import { own } from '../lib/validate';

const EVENTS: Record<string, Moment> = { play: 'play', timeupdate: 'time', seeked: 'seek', ended: 'end' };

/**
 * Vimeo embeds with `api=1`, through the player's documented postMessage API, without loading Vimeo's
 * script: the page asks for events with `{ method: 'addEventListener', value }` (again on `ready`), and
 * the player sends `{ event, data: { seconds, duration } }`; `getVideoTitle` answers with the title.
 */
export function vimeo(): EmbedProvider {
  const infos = new WeakMap<HTMLIFrameElement, VideoInfo>();
  const post = (frame: HTMLIFrameElement, method: string, value?: string) =>
    frame.contentWindow?.postMessage(JSON.stringify({ method, value }), new URL(frame.src, location.href).origin);
  const subscribe = (frame: HTMLIFrameElement) => {
    if (!infos.has(frame)) infos.set(frame, { title: titleOf(frame, ''), url: frame.src, provider: 'vimeo', duration: 0, time: 0 });
    for (const event of Object.keys(EVENTS)) post(frame, 'addEventListener', event);
    post(frame, 'getVideoTitle');
  };
  return {
    matches: (src) => /\/video\/\d+/.test(src) && /[?&]api=1\b/.test(src),
    subscribe,
    receive(frame, { event, data, method, value }, update) {
      const info = infos.get(frame);
      if (!info) return;
      if (method === 'getVideoTitle') info.title = titleOf(frame, String(value));
      if (event === 'ready') subscribe(frame);
      if (!own(EVENTS, event)) return;
      info.duration = data?.duration ?? info.duration;
      info.time = data?.seconds ?? info.time;
      update(frame, EVENTS[event]!, info);
    },
  };
}

import type { ReplayedEvent, Tracker, TrackerPart, VideoOptions } from '../types';
import { IGNORED } from '../core/dom';
import { redactText, safeDecode } from '../lib/redact';
import { percents } from '../lib/validate';
import { titleOf, type EmbedProvider, type Moment, type Updater, type VideoInfo } from './embed';
import { vimeo } from './vimeo';
import { youtube } from './youtube';

interface Progress {
  played?: boolean;
  finished?: boolean;
  /** Position last seen, in seconds, and when (ms): how a jump is told from playback. */
  last: number;
  at: number;
  /** The last move was a seek, not playback. */
  sought?: boolean;
  reached: Set<number>;
}

const fileName = (url: string) => redactText(safeDecode(url.split(/[?#]/)[0]!.split('/').pop() || ''));

/**
 * `video_play`, `video_milestone` and `video_finish` for every `<video>` (from media events, through
 * delegated listeners, so videos added later count too) and for embedded players (`providers`).
 * A mark counts only when playback passes it: a seek that jumps over it does not reach it.
 */
export const createVideoTracker =
  (providers: EmbedProvider[]): Tracker<VideoOptions> =>
  ({ emit, listen, watch, onPage, redactUrl }, { marks = [25, 50, 75] }) => {
    let progress = new WeakMap<object, Progress>();

    const update: Updater = (key, moment, info) => {
      const state = progress.get(key) || progress.set(key, { last: info.time, at: Date.now(), reached: new Set() }).get(key)!;
      const params = () => ({
        video_title: info.title,
        video_url: redactUrl(info.url),
        video_provider: info.provider,
        video_duration: Math.round(info.duration || 0),
        video_current_time: Math.round(info.time),
      });
      const now = Date.now();
      // A `<video>` says when it seeks. An embedded player may not: there, forward faster than playback
      // could go (at up to twice the speed, with slack for late updates, counting at most a second since
      // the last one, which also covers a pause) is a seek.
      const jumped =
        moment === 'seek' || (info.provider !== 'html5' && info.time - state.last > (2 * Math.min(now - state.at, 1000)) / 1000 + 1.5);
      if (moment === 'play' && !state.played) (state.played = true), emit('video_play', params());
      if (jumped || info.time < state.last) state.sought = jumped;
      else if (info.time > state.last && info.duration > 0) {
        state.sought = false;
        for (const mark of marks) {
          const at = (mark / 100) * info.duration;
          if (!state.reached.has(mark) && state.last < at && at <= info.time) {
            state.reached.add(mark);
            emit('video_milestone', { ...params(), video_percent: mark });
          }
        }
      }
      state.last = info.time;
      state.at = now;
      if (moment === 'end' && !state.sought && !state.finished) (state.finished = true), emit('video_finish', params());
    };

    const moments: Record<string, Moment> = { play: 'play', timeupdate: 'time', seeking: 'seek', ended: 'end' };
    // A video's title and source, worked out once per source: `timeupdate` comes four times a second.
    const described = new WeakMap<HTMLVideoElement, VideoInfo>();
    const onMedia = (event: Event) => {
      const video = event.target;
      // instanceof, not tagName: a prototype check, no DOM getter, four times a second while a video plays.
      if (!(video instanceof HTMLVideoElement) || video.closest(IGNORED)) return;
      const url = video.currentSrc || video.src;
      let info = described.get(video);
      if (info?.url !== url) described.set(video, (info = { title: titleOf(video, '', fileName(url)), url, provider: 'html5', duration: 0, time: 0 }));
      // A media event replayed to a tracker that came late holds the position it had then.
      info.duration = (event as ReplayedEvent).duration ?? video.duration;
      info.time = (event as ReplayedEvent).currentTime ?? video.currentTime;
      update(video, moments[event.type]!, info);
    };
    for (const type of Object.keys(moments)) listen(type, onMedia);

    const frames = new Map<HTMLIFrameElement, EmbedProvider>();
    watch('iframe', (frame) => {
      const provider = providers.find((candidate) => candidate.matches((frame as HTMLIFrameElement).src));
      if (provider) frames.set(frame as HTMLIFrameElement, provider), provider.subscribe(frame as HTMLIFrameElement);
    });
    // A player reloaded in its frame must be asked again.
    listen('load', (event) => frames.get(event.target as HTMLIFrameElement)?.subscribe(event.target as HTMLIFrameElement));
    listen(
      'message',
      (event) => {
        const { source, data } = event as MessageEvent;
        // Only messages from a player's own frame: the frame, not the origin, is the proof.
        for (const [frame, provider] of frames) {
          if (frame.contentWindow !== source) continue;
          let message = data;
          try {
            if (typeof data === 'string') message = JSON.parse(data);
          } catch {
            return;
          }
          if (message && typeof message === 'object') provider.receive(frame, message, update);
        }
      },
      true,
    );
    onPage(() => (progress = new WeakMap()));
    return () => providers.forEach((provider) => provider.stop?.());
  };

/** `<video>` elements, and YouTube and Vimeo embeds through their iframe messaging. */
export const trackVideo: Tracker<VideoOptions> = (context, options) => createVideoTracker([youtube(), vimeo()])(context, options);

/**
 * What the registry knows of the video tracker before its code comes: it is needed once the page has a
 * video or a player it can follow, and the media events that happen while it comes are held for it.
 */
export const videoDescriptor: TrackerPart<VideoOptions> = {
  kind: 'tracker',
  keys: { video: { marks: percents } },
  when: 'video,iframe[src*="enablejsapi=1"],iframe[src*="api=1"]',
  events: ['play', 'timeupdate', 'seeking', 'ended'],
};

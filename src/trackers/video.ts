import { IGNORED, type Tracker } from '../core/dom';
import { redactText, safeDecode } from '../lib/redact';

export interface VideoOptions {
  /** Milestones in percent of the duration. Default 25, 50, 75. */
  marks?: number[];
}

/** What a provider tells about a video, as it plays. */
export type Moment = 'play' | 'time' | 'seek' | 'end';

export interface VideoInfo {
  title: string;
  url: string;
  provider: 'html5' | 'youtube' | 'vimeo';
  duration: number;
  time: number;
}

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

/** Reports the moments of a video to `update`: the milestone logic is the same for every provider. */
export type Updater = (key: object, moment: Moment, info: VideoInfo) => void;

/**
 * Embedded players, each speaking its documented iframe messaging: given the iframe, a function that
 * starts listening to it, and a function that reads one of its messages.
 */
export interface EmbedProvider {
  matches(src: string): boolean;
  subscribe(frame: HTMLIFrameElement): void;
  receive(frame: HTMLIFrameElement, message: any, update: Updater): void;
  /** Stops any timer of its own (teardown). */
  stop?(): void;
}

const fileName = (url: string) => redactText(safeDecode(url.split(/[?#]/)[0]!.split('/').pop() || ''));
/**
 * The name a marketer gave the video (`data-mc-video`), else the one its player reports (an embed's own
 * title beats the frame's often generic `title`), else the element's `title` or `aria-label`, else `fallback`.
 */
export const titleOf = (element: Element, reported: string, fallback = '') =>
  element.getAttribute('data-mc-video') || reported || element.getAttribute('title') || element.getAttribute('aria-label') || fallback;

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
      const video = event.target as HTMLVideoElement;
      if (video.tagName !== 'VIDEO' || video.closest(IGNORED)) return;
      const url = video.currentSrc || video.src;
      let info = described.get(video);
      if (info?.url !== url) described.set(video, (info = { title: titleOf(video, '', fileName(url)), url, provider: 'html5', duration: 0, time: 0 }));
      info.duration = video.duration;
      info.time = video.currentTime;
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

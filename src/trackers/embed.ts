/** What the video tracker and the embedded players (youtube.ts, vimeo.ts) share. */

/** What a provider tells about a video, as it plays. */
export type Moment = 'play' | 'time' | 'seek' | 'end';

export interface VideoInfo {
  title: string;
  url: string;
  provider: 'html5' | 'youtube' | 'vimeo';
  duration: number;
  time: number;
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

/**
 * The name a marketer gave the video (`data-mc-video`), else the one its player reports (an embed's own
 * title beats the frame's often generic `title`), else the element's `title` or `aria-label`, else `fallback`.
 */
export const titleOf = (element: Element, reported: string, fallback = '') =>
  element.getAttribute('data-mc-video') || reported || element.getAttribute('title') || element.getAttribute('aria-label') || fallback;

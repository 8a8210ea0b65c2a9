import { titleOf, type EmbedProvider, type VideoInfo } from './embed';

interface Player {
  info: VideoInfo;
  /** The handshake timer, until the player first answers. */
  timer?: ReturnType<typeof setInterval>;
}

/**
 * YouTube embeds with `enablejsapi=1`, through the IFrame API's documented message channel, without
 * loading YouTube's script: the page says `listening`, the player then sends `infoDelivery` messages
 * (`currentTime`, `duration`, `playerState`, `videoData.title`) and `onStateChange` (1 playing, 0 ended).
 */
export function youtube(): EmbedProvider {
  const players = new WeakMap<HTMLIFrameElement, Player>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  return {
    stop: () => timers.forEach(clearInterval),
    matches: (src) => /\/embed\/[\w-]+/.test(src) && /[?&]enablejsapi=1\b/.test(src),
    subscribe(frame) {
      const player = players.get(frame) || players.set(frame, { info: { title: titleOf(frame, ''), url: frame.src, provider: 'youtube', duration: 0, time: 0 } }).get(frame)!;
      let tries = 0;
      clearInterval(player.timer);
      // The player ignores `listening` until its API is up: say it again until it answers.
      const hello = () => {
        frame.contentWindow?.postMessage(JSON.stringify({ event: 'listening', id: 1, channel: 'widget' }), new URL(frame.src, location.href).origin);
        if (++tries > 30) clearInterval(player.timer);
      };
      hello();
      timers.add((player.timer = setInterval(hello, 1000)));
    },
    receive(frame, message, update) {
      const player = players.get(frame);
      if (!player) return;
      clearInterval(player.timer);
      const { event, info: data } = message;
      const info = player.info;
      let state: number | undefined;
      if (event === 'onStateChange') state = data;
      else if (/^(initial|info)Delivery$/.test(event) && data) {
        info.duration = data.duration ?? info.duration;
        if (data.videoData?.title) info.title = titleOf(frame, data.videoData.title);
        state = data.playerState;
        if (typeof data.currentTime === 'number') (info.time = data.currentTime), update(frame, 'time', info);
      }
      if (state === 1) update(frame, 'play', info);
      if (state === 0) (info.time = info.duration), update(frame, 'end', info);
    },
  };
}

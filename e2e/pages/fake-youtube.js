// It speaks the IFrame API's message channel, as www-widgetapi.js and the player use it: the page posts
// '{"event":"listening","id":…,"channel":"widget"}' (a JSON string) until the player answers, and the
// player ignores it until its API is ready; then it answers with initialDelivery and onReady, and posts
// infoDelivery as playback goes and onStateChange when the state changes (1 playing, 2 paused, 0 ended).
// The test drives it through `player` (frame.evaluate); every method returns how many messages it has
// posted so far, so that the test can wait for the page to have received them.
const videoId = location.pathname.split('/').pop();
const waiters = [];
const player = (window.player = {
  ready: false,
  answered: false,
  heard: 0, // listening messages received
  sent: 0,
  listener: undefined, // { id, origin } of the page that said listening
  title: 'Fake YouTube title',
  duration: 10,
  time: 0,
  state: -1,
  /** Resolves once `test()` holds (checked after every message received). */
  until(test) {
    return new Promise((resolve) => (test() ? resolve() : waiters.push([test, resolve])));
  },
  post(event, info) {
    parent.postMessage(JSON.stringify({ event, id: player.listener.id, channel: 'widget', info }), player.listener.origin);
    return ++player.sent;
  },
  /** The API is up: the next listening is answered. */
  becomeReady() {
    player.ready = true;
  },
  info() {
    return { currentTime: player.time, duration: player.duration, playerState: player.state, videoData: { video_id: videoId, title: player.title } };
  },
  play(at = player.time) {
    player.time = at;
    player.state = 1;
    player.post('onStateChange', 1);
    return player.post('infoDelivery', player.info());
  },
  /** Playback (or a jump: YouTube says nothing else about one) has reached `seconds`. */
  at(seconds) {
    player.time = seconds;
    return player.post('infoDelivery', player.info());
  },
  end() {
    player.time = player.duration;
    player.state = 0;
    return player.post('onStateChange', 0);
  },
});
addEventListener('message', (event) => {
  if (event.source !== parent) return;
  let message;
  try {
    message = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
  } catch {
    return;
  }
  if (message && message.event === 'listening' && message.channel === 'widget') {
    player.heard++;
    if (player.ready && !player.answered) {
      player.answered = true;
      player.listener = { id: message.id, origin: event.origin };
      player.post('initialDelivery', player.info());
      player.post('onReady', null);
    }
  }
  if (message === 'marker') player.marker = true;
  waiters.splice(0).forEach(([test, resolve]) => (test() ? resolve() : waiters.push([test, resolve])));
});

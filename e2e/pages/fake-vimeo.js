// It speaks the Vimeo player's postMessage API: it posts {"event":"ready"} once loaded; the page asks
// for events with {"method":"addEventListener","value":"play"|"timeupdate"|…} and for the title with
// {"method":"getVideoTitle"}; the player posts only the events it was asked for, as
// {"event":"timeupdate","data":{"seconds","percent","duration"}}, and answers
// {"method":"getVideoTitle","value":"…"}. Messages go as objects here (the API takes objects or JSON
// strings; the YouTube stand-in sends strings). The test drives it through `player`; every method
// returns how many messages it has posted so far.
const waiters = [];
const player = (window.player = {
  asked: [], // events the page asked for
  titleAsked: 0,
  sent: 0,
  origin: '*', // the page's origin, once it has spoken
  title: 'Fake Vimeo title',
  duration: 10,
  until(test) {
    return new Promise((resolve) => (test() ? resolve() : waiters.push([test, resolve])));
  },
  post(message) {
    parent.postMessage(message, player.origin);
    return ++player.sent;
  },
  /** Posts `event` at `seconds`, if the page asked for it. */
  emit(event, seconds) {
    if (player.asked.includes(event)) player.post({ event, data: { seconds, percent: seconds / player.duration, duration: player.duration } });
    return player.sent;
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
  player.origin = event.origin;
  if (message && message.method === 'addEventListener' && !player.asked.includes(message.value)) player.asked.push(message.value);
  if (message && message.method === 'getVideoTitle') player.titleAsked++, player.post({ method: 'getVideoTitle', value: player.title });
  waiters.splice(0).forEach(([test, resolve]) => (test() ? resolve() : waiters.push([test, resolve])));
});
player.post({ event: 'ready', player_id: new URLSearchParams(location.search).get('player_id') });

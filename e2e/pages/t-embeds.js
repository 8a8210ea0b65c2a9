// The players come from another origin, as real embeds do: this page is on 127.0.0.1, they are on
// localhost (same server, same port).
const elsewhere = 'http://localhost:' + location.port;
const frame = (id, src, title) => {
  const iframe = document.createElement('iframe');
  iframe.id = id;
  iframe.src = elsewhere + src;
  iframe.title = title;
  document.getElementById('players').append(iframe);
};
frame('youtube', '/fake-youtube/embed/M7lc1UVf-VE?enablejsapi=1&origin=' + encodeURIComponent(location.origin), 'YouTube video player');
frame('vimeo', '/fake-vimeo/video/76979871?api=1&player_id=vimeo1', 'Vimeo video player');
// Embeds without the API switched on: microconv cannot and must not talk to them.
frame('youtube-closed', '/fake-youtube/embed/closed-video', 'YouTube video player');
frame('vimeo-closed', '/fake-vimeo/video/11111111', 'Vimeo video player');

// The messages each player posted, counted once the page itself has them: microconv's capture
// listener on window has had them by then.
const received = {};
const waiting = [];
addEventListener('message', (event) => {
  const from = [...document.querySelectorAll('iframe')].find((iframe) => iframe.contentWindow === event.source);
  if (from) received[from.id] = (received[from.id] || 0) + 1;
  waiting.splice(0).forEach(([id, count, resolve]) => ((received[id] || 0) >= count ? resolve() : waiting.push([id, count, resolve])));
});
/** Resolves once the player in iframe #`id` has had `count` of its messages received here. */
window.receivedFrom = (id, count) => new Promise((resolve) => ((received[id] || 0) >= count ? resolve() : waiting.push([id, count, resolve])));

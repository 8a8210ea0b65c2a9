// The Google tag (gtag.js) snippet, as Google hands it out, minus the loader script tag: calls queue in
// window.dataLayer as `arguments` objects until gtag.js arrives (it never does here: no vendor network).
window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag('consent', 'default', { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'granted' });
gtag('js', new Date());
gtag('config', 'G-DEMO000000');

// The Meta Pixel base code, minus its loader script: fbq queues calls in fbq.queue until fbevents.js arrives.
!function (f, b, e, v, n) {
  if (f.fbq) return; n = f.fbq = function () { n.callMethod ? n.callMethod.apply(n, arguments) : n.queue.push(arguments); };
  if (!f._fbq) f._fbq = n; n.push = n; n.loaded = !0; n.version = '2.0'; n.queue = [];
}(window, document, 'script');
fbq('init', '000000000000000');
fbq('track', 'PageView');

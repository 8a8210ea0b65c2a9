// The Google tag (gtag.js) snippet as Google hands it out, minus its loader line
// (<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST000000">): there is no vendor
// network here. Calls queue in window.dataLayer as `arguments` objects, as they do until gtag.js arrives.
window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('js', new Date());

gtag('config', 'G-TEST000000');

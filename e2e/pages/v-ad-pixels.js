// The TikTok Pixel, LinkedIn Insight Tag and X pixel base codes as the vendors hand them out, minus the
// lines that fetch their scripts (no vendor network here): each queues its calls until its script comes.
// TikTok: `ttq` is an array whose methods push [method, ...args].
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","instances","debug","on","off","once","ready","alias","group","enableCookie","disableCookie","holdConsent","revokeConsent","grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);
  ttq.page();
}(window, document, 'ttq');
// LinkedIn: `lintrk(a, b)` pushes [a, b] to lintrk.q.
_linkedin_partner_id = "1234567";
window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
window._linkedin_data_partner_ids.push(_linkedin_partner_id);
(function(l) { if (!l){window.lintrk = function(a,b){window.lintrk.q.push([a,b])}; window.lintrk.q=[]} })(window.lintrk);
// X: `twq(...)` pushes its `arguments` object to twq.queue.
!function(e,t,n,s,u,a){e.twq||(s=e.twq=function(){s.exe?s.exe.apply(s,arguments):s.queue.push(arguments);
},s.version='1.1',s.queue=[])}(window,document,'script');
twq('config','o1b2c');

// The Meta Pixel base code as Meta hands it out, minus the lines that load
// https://connect.facebook.net/en_US/fbevents.js (no vendor network here): fbq queues its calls in
// fbq.queue, as `arguments` objects, until fbevents.js arrives.
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '000000000000000');
fbq('track', 'PageView');

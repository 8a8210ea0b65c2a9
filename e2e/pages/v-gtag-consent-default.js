// The page's Consent Mode, set before any tag as Google asks: the default comes from the query
// (?default={"ad_storage":"denied",...}); without one, no default is set.
window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
var defaults = new URLSearchParams(location.search).get('default');
if (defaults) gtag('consent', 'default', JSON.parse(defaults));

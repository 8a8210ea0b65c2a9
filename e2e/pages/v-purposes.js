// The consent defaults come from the query: ?analytics_storage=granted&ad_storage=denied&...
var consent = {};
new URLSearchParams(location.search).forEach(function (value, purpose) { consent[purpose] = value; });
microconv('init', { consent: consent });

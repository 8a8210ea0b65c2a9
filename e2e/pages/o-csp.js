// The page's own script, from a file: under `script-src 'self'` nothing inline runs. The standard
// microconv stub, a probe of what the instance reports, and one event queued before the script loads.
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
window.probe = { events: [], deliveries: [] };
microconv('on', 'event', function (event) { probe.events.push(event); });
microconv('on', 'delivery', function (report) { probe.deliveries.push(report); });
microconv('track', 'csp_page_ready');

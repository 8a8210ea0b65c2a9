// The standard microconv stub, and a probe that records what the instance reports: every event it
// emits and every delivery report, for the tests to read.
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
window.probe = { events: [], deliveries: [] };
microconv('on', 'event', function (event) { probe.events.push(event); });
microconv('on', 'delivery', function (report) { probe.deliveries.push(report); });

window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
// Two options of the wrong type: each is refused, the rest of init still applies.
microconv('init', { endpoint: '/collect', batch: 'often', debug: 'yes' });
microconv('track', 'valid_before');
microconv('track', 'Not A Name');
microconv('track', 'node_param', { target: document.documentElement });
var loop = { label: 'loop' };
loop.self = loop;
microconv('track', 'circular_param', loop);
microconv('track', 'valid_after');

window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
microconv('init', { endpoint: '/collect', consent: 'pending', batch: { size: 10, intervalMs: 100 } });
microconv('track', 'queued_first', { step: 1 });
microconv('track', 'queued_second', { step: 2 });
microconv('consent', 'granted');
microconv('track', 'queued_third', { step: 3 });

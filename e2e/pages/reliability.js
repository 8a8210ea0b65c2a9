window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
// Small batches that leave soon, so that faults meet requests; a scenario's own options
// (window.reliabilityOptions, set by the test before the page loads) go over these.
microconv('init', Object.assign({ endpoint: '/collect', batch: { size: 5, intervalMs: 200 } }, window.reliabilityOptions));

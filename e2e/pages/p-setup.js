// The head of the privacy pages (p-*.html), after the vendors' snippets and the probe: every adapter,
// each event sent at once, and the options a test adds through window.mcOptions (consent, say).
microconv('init', Object.assign({ endpoint: '/collect', adapters: ['endpoint', 'gtag', 'meta', 'datalayer'], meta: { events: 'standard' }, batch: { size: 1 } }, window.mcOptions));

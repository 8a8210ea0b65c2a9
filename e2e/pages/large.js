window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
// Room for a batch far over one request's 64 KiB: it leaves only when flushed or when the page is left.
microconv('init', { endpoint: '/collect', batch: { size: 100, intervalMs: 3600000 } });

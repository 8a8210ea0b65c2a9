window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
window.probe = { deliveries: [] };
microconv('init', {
  endpoint: '/collect',
  batch: { size: 3, intervalMs: 60000 },
  adapters: [
    'endpoint',
    { name: 'thrower', send: function () { throw new Error('thrower is broken'); } },
    { name: 'hanger', send: function () { return new Promise(function () {}); } },
  ],
});
microconv('on', 'delivery', function (report) { probe.deliveries.push(report); });

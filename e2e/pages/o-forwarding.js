// The visitor has allowed everything, so consent holds nothing back; the plan is the collector's.
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
microconv('init', {
  consent: 'granted',
  plan: { macro: ['generate_lead'], stages: { intent: ['cta_click'] } },
  batch: { intervalMs: 200 },
});

// The standard microconv stub (contract 1.2), then the options the script attributes do not carry:
// ad purposes wait for the consent banner, the measurement plan, and Meta standard events.
window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments); };
microconv('init', {
  consent: { analytics_storage: 'granted', ad_storage: 'pending', ad_user_data: 'pending', ad_personalization: 'pending' },
  meta: { events: 'standard' },
  gtag: { send_to: 'G-DEMO000000' },
  plan: {
    macro: ['generate_lead'],
    stages: {
      engagement: ['section_view', 'scroll_depth'],
      consideration: ['video_milestone', 'download_click'],
      intent: ['cta_click', 'form_begin', 'form_step'],
      conversion: ['generate_lead'],
    },
  },
});

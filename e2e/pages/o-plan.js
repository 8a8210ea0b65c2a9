window.microconv = window.microconv || function () { (microconv.q = microconv.q || []).push(arguments) };
// Nine micro-conversions: one more than the eight the overlay accepts without a warning.
microconv('init', {
  plan: {
    macro: ['purchase'],
    stages: {
      engagement: ['section_view', 'scroll_depth', 'video_play'],
      consideration: ['video_milestone', 'download_click'],
      intent: ['cta_click', 'form_begin', 'form_step', 'pricing_viewed'],
      conversion: ['purchase'],
    },
  },
});

// The page's init: which events each ad platform gets (a file, not inline, for the suite's strict CSP).
microconv('init', {
  tiktok: { events: { form_complete: 'SubmitForm' } },
  linkedin: { conversions: { form_complete: 7654321, cta_click: '1234567' } },
  x: { events: { form_complete: 'tw-o1b2c-o3d4e', pricing_viewed: 'tw-o1b2c-o5f6g' } }
});

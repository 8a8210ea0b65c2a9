/**
 * Type-level tests of the typed `track`, compiled by `npm run typecheck` (tsc --noEmit). Each
 * `@ts-expect-error` must meet an error, or the compile fails: the types must refuse these calls.
 */
import { init } from '../src';

// The canonical micro-conversions are typed out of the box.
const mc = init();
mc.track('scroll_depth', { percent_scrolled: 50 });
mc.track('cta_click', { cta_name: 'hero', link_type: 'tel' });
mc.track('video_milestone', { video_title: 'Demo', video_url: '/demo.mp4', video_provider: 'html5', video_duration: 30, video_current_time: 15, video_percent: 50 });
// @ts-expect-error percent_scrolled is a number
mc.track('scroll_depth', { percent_scrolled: 'half' });
// @ts-expect-error link_type is one of the contract's types
mc.track('cta_click', { link_type: 'banner' });
// @ts-expect-error video_percent is required on a milestone
mc.track('video_milestone', { video_title: 'Demo', video_url: '', video_provider: 'html5', video_duration: 1, video_current_time: 1 });
// @ts-expect-error video_provider is html5, youtube or vimeo
mc.track('video_play', { video_title: 'Demo', video_url: '', video_provider: 'wistia', video_duration: 1, video_current_time: 1 });

// A site adds its own events through the generic.
interface ShopEvents {
  purchase: { value: number; currency: 'EUR' | 'USD' };
  pricing_toggle: { plan: 'monthly' | 'yearly' };
}
const shop = init<ShopEvents>({ endpoint: '/collect' });
shop.track('purchase', { value: 49, currency: 'EUR' });
shop.track('pricing_toggle', { plan: 'yearly' });
shop.track('form_begin', { form_name: 'demo' });
// @ts-expect-error value is a number
shop.track('purchase', { value: '49', currency: 'EUR' });
// @ts-expect-error currency is one of the site's
shop.track('purchase', { value: 49, currency: 'GBP' });
// @ts-expect-error plan is required
shop.track('pricing_toggle', {});

// Events outside the map are still allowed, with any JSON parameters.
shop.track('newsletter_signup', { list: 'weekly', count: 1, tags: ['a'] });
// @ts-expect-error a function is not a parameter value
shop.track('newsletter_signup', { callback: () => 1 });

// The instance's other methods.
shop.consent({ ad_storage: 'denied' });
// @ts-expect-error consent values are granted, denied or pending
shop.consent({ ad_storage: 'maybe' });
const off: () => void = shop.on('event', (event) => event.event_id.toUpperCase());
off();
// @ts-expect-error there is no such listener type
shop.on('click', () => {});

// Consent: values, purposes, or the name of the site's own consent tool (an option, never a consent() update).
init({ consent: 'gtag' });
init({ consent: 'tcf', gtag: { consentMode: 'advanced' } });
// @ts-expect-error not a consent source microconv knows
init({ consent: 'gtm' });
// @ts-expect-error consentMode is basic or advanced
init({ gtag: { consentMode: 'full' } });
// @ts-expect-error consent() takes values or purposes; a source is an option of init
mc.consent('tcf');

// Snowplow's browser tracker with link-click and form tracking: the closest it comes, without custom
// code, to what microconv watches (clicks, forms). Page view at load, as its documentation shows.
import { newTracker, trackPageView } from '@snowplow/browser-tracker';
import { FormTrackingPlugin, enableFormTracking } from '@snowplow/browser-plugin-form-tracking';
import { LinkClickTrackingPlugin, enableLinkClickTracking } from '@snowplow/browser-plugin-link-click-tracking';

newTracker('sp', location.origin, { appId: 'bench', postPath: '/collect', plugins: [LinkClickTrackingPlugin(), FormTrackingPlugin()] });
enableLinkClickTracking({ pseudoClicks: true });
enableFormTracking();
trackPageView();

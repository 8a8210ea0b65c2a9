// Snowplow with every plugin that covers part of microconv's ground: links, buttons (CTAs), forms, element
// visibility (sections), page pings (scroll depth and engagement), site and performance context, and
// media tracking of the page's video.
import { enableActivityTracking, newTracker, trackPageView } from '@snowplow/browser-tracker';
import { ButtonClickTrackingPlugin, enableButtonClickTracking } from '@snowplow/browser-plugin-button-click-tracking';
import { SnowplowElementTrackingPlugin, startElementTracking } from '@snowplow/browser-plugin-element-tracking';
import { FormTrackingPlugin, enableFormTracking } from '@snowplow/browser-plugin-form-tracking';
import { LinkClickTrackingPlugin, enableLinkClickTracking } from '@snowplow/browser-plugin-link-click-tracking';
import { SnowplowMediaPlugin, startMediaTracking, trackMediaEnd, trackMediaPause, trackMediaPlay, updateMediaTracking } from '@snowplow/browser-plugin-media';
import { PerformanceTimingPlugin } from '@snowplow/browser-plugin-performance-timing';
import { SiteTrackingPlugin } from '@snowplow/browser-plugin-site-tracking';

newTracker('sp', location.origin, {
  appId: 'bench',
  postPath: '/collect',
  plugins: [LinkClickTrackingPlugin(), ButtonClickTrackingPlugin(), FormTrackingPlugin(), SnowplowElementTrackingPlugin(), SnowplowMediaPlugin(), PerformanceTimingPlugin(), SiteTrackingPlugin()],
});
enableActivityTracking({ minimumVisitLength: 5, heartbeatDelay: 5 });
enableLinkClickTracking({ pseudoClicks: true });
enableButtonClickTracking();
enableFormTracking();
startElementTracking({ elements: [{ selector: '[data-mc-section]', name: 'section' }] });
// The media plugin of this release has no HTML5 auto-tracking: the few lines of glue its docs show.
const video = document.querySelector('video');
if (video) {
  const player = () => ({ currentTime: video.currentTime, duration: video.duration || undefined, paused: video.paused });
  startMediaTracking({ id: 'tour', boundaries: [25, 50, 75], player: player() });
  video.addEventListener('play', () => trackMediaPlay({ id: 'tour', player: player() }));
  video.addEventListener('pause', () => trackMediaPause({ id: 'tour', player: player() }));
  video.addEventListener('ended', () => trackMediaEnd({ id: 'tour', player: player() }));
  video.addEventListener('timeupdate', () => updateMediaTracking({ id: 'tour', player: player() }));
}
trackPageView();

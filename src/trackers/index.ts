import type { Tracker } from '../core/dom';
import { trackClicks } from './clicks';
import { trackForms } from './forms';
import { trackScroll } from './scroll';
import { trackSections } from './sections';
import { createVideoTracker } from './video';
import { vimeo } from './vimeo';
import { youtube } from './youtube';

/**
 * The built-in trackers, by their key in `options.trackers`. `downloads` and `contact` links are part
 * of the click tracker (one click listener serves them all); `vitals` is its own entry, `microconv/vitals`.
 */
export const builtInTrackers = (): Record<string, Tracker<any>> => ({
  cta: trackClicks,
  sections: trackSections,
  scroll: trackScroll,
  forms: trackForms,
  video: createVideoTracker([youtube(), vimeo()]),
});

import type { ScrollOptions, Tracker, TrackerPart } from '../types';
import { percents } from '../lib/validate';

/**
 * `scroll_depth`, once per mark per page view, as the bottom of the viewport passes each mark of the
 * page's height as it is now (a page that grows as it loads more is measured at its new height). Marks
 * are worked out when scrolling pauses, from the deepest point of the burst: a reader who gets to the
 * end and jumps straight back up ("back to top") has passed 90. That point is sampled at most once a
 * frame while scrolling, and only after the frame has been laid out (an animation frame, then the next
 * task), because a read of `scrollY` forces a layout where one is pending; never per scroll event. The
 * height is read only at the first measure and when a mark seems reached. A page that cannot scroll is
 * silent.
 */
/** How long scrolling must pause before the position is read. */
const PAUSE_MS = 150;

export const trackScroll: Tracker<ScrollOptions> = ({ emit, listen, onPage }, { marks = [25, 50, 75, 90] }) => {
  const sorted = [...new Set(marks)].sort((a, b) => a - b);
  let reached = new Set<number>();
  let height = 0;
  let timer: ReturnType<typeof setTimeout> | false | undefined;
  let lastScroll = 0;
  let frame = 0; // a sample is on its way
  let deepest = 0; // the deepest scrollY sampled since the last measure
  const sample = () => ((frame = 0), (deepest = Math.max(deepest, scrollY)));
  const measure = () => {
    const next = sorted.find((mark) => !reached.has(mark));
    if (next === undefined) return;
    const bottom = Math.max(deepest, scrollY) + innerHeight;
    deepest = 0;
    if (!height || (bottom / height) * 100 >= next) height = document.documentElement.scrollHeight;
    if (height <= innerHeight) return;
    for (const mark of sorted) {
      if ((bottom / height) * 100 >= mark && !reached.has(mark)) reached.add(mark), emit('scroll_depth', { percent_scrolled: mark });
    }
  };
  // Only the page's own scrolling: scroll events of inner elements reach this capture listener too.
  // One timer for a burst of scrolling, not one per event: each scroll only notes its time, and the timer
  // waits on until the page has been still for 150 ms.
  const settle = () => {
    const still = performance.now() - lastScroll;
    timer = still < PAUSE_MS && setTimeout(settle, PAUSE_MS - still);
    if (!timer) measure();
  };
  listen('scroll', (event) => {
    // Every mark reached: nothing more to learn on this page view.
    if (event.target !== document || reached.size === sorted.length) return;
    lastScroll = performance.now();
    timer ||= setTimeout(settle, PAUSE_MS);
    frame ||= requestAnimationFrame(() => setTimeout(sample));
  });
  onPage(() => ((reached = new Set()), (height = 0), (deepest = 0)));
  return () => (clearTimeout(timer || undefined), cancelAnimationFrame(frame));
};

export const scrollPart: TrackerPart<ScrollOptions> = { kind: 'tracker', keys: { scroll: { marks: percents } }, start: trackScroll };

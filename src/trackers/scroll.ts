import type { ScrollOptions, Tracker, TrackerPart } from '../types';
import { percents } from '../lib/validate';

/**
 * `scroll_depth`, once per mark per page view, as the bottom of the viewport passes each mark of the
 * page's height as it is now (a page that grows as it loads more is measured at its new height). Marks
 * are worked out when scrolling pauses, from the deepest point of the burst: a reader who gets to the
 * end and jumps straight back up ("back to top") has passed 90. A page that cannot scroll is silent.
 *
 * Cheap on purpose, since scroll events come once a frame: a scroll event only notes its time. The
 * deepest point comes from an IntersectionObserver, not from reading `scrollY` as the page scrolls
 * (a read that forces any layout the page left pending, once a frame: with this tracker alone, the
 * bench's journey cost 15 ms with those reads, 5 to 7 ms without). Its root reaches far above the
 * viewport, so the part of the page it sees runs from the top down to the viewport's bottom: that
 * share of the page is the depth, and the browser tells us, off our script, when it crosses a mark.
 * The position and height are read once a pause, and the height only at the first measure and when a
 * mark seems reached.
 */
/** How long scrolling must pause before the position is read. */
const PAUSE_MS = 150;

export const trackScroll: Tracker<ScrollOptions> = ({ emit, listen, onPage }, { marks = [25, 50, 75, 90] }) => {
  const sorted = [...new Set(marks)].sort((a, b) => a - b);
  let reached = new Set<number>();
  let height = 0;
  let timer: ReturnType<typeof setTimeout> | false | undefined;
  let lastScroll = 0;
  let deepest = 0; // the deepest bottom of the viewport the observer has seen since the last measure
  const measure = () => {
    const next = sorted.find((mark) => !reached.has(mark));
    if (next === undefined) return;
    const bottom = Math.max(deepest, scrollY + innerHeight);
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
  });
  // Where the viewport's bottom crosses a mark, of the page's box: the root, stretched far upwards, sees
  // the page from its top down to there. Where that cannot be (no IntersectionObserver, or one that takes
  // no document as its root), or the page's box is shorter than what it scrolls, the pause's read alone serves.
  let depth: IntersectionObserver | undefined;
  try {
    depth = new IntersectionObserver((entries) => entries.forEach((entry) => (deepest = Math.max(deepest, entry.intersectionRect.height))), {
      root: document,
      rootMargin: '1000000px 0px 0px',
      threshold: [...sorted.map((mark) => mark / 100), 1],
    });
    depth.observe(document.documentElement);
  } catch {}
  onPage(() => ((reached = new Set()), (height = 0), (deepest = 0)));
  return () => (clearTimeout(timer || undefined), depth?.disconnect());
};

export const scrollPart: TrackerPart<ScrollOptions> = { kind: 'tracker', keys: { scroll: { marks: percents } }, start: trackScroll };

import type { Tracker } from '../core/dom';

export interface ScrollOptions {
  /** The marks, in percent of the page height. Default 25, 50, 75, 90. */
  marks?: number[];
}

/**
 * `scroll_depth`, once per mark per page view, as the bottom of the viewport passes each mark of the
 * page's height as it is now (a page that grows as it loads more is measured at its new height). The
 * position is read when scrolling pauses (a read of `scrollY` can force a layout), never per scroll
 * event or per frame; the height only at the first read and when a mark seems reached. A page that
 * cannot scroll is silent.
 */
/** How long scrolling must pause before the position is read. */
const PAUSE_MS = 150;

export const trackScroll: Tracker<ScrollOptions> = ({ emit, listen, onPage }, { marks = [25, 50, 75, 90] }) => {
  const sorted = [...marks].sort((a, b) => a - b);
  let reached = new Set<number>();
  let height = 0;
  let timer: ReturnType<typeof setTimeout> | false | undefined;
  let lastScroll = 0;
  const measure = () => {
    const next = sorted.find((mark) => !reached.has(mark));
    if (next === undefined) return;
    const bottom = scrollY + innerHeight;
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
    if (event.target !== document) return;
    lastScroll = performance.now();
    timer ||= setTimeout(settle, PAUSE_MS);
  });
  onPage(() => ((reached = new Set()), (height = 0)));
  return () => clearTimeout(timer || undefined);
};

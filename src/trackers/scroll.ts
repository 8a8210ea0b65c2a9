import type { Tracker } from '../core/dom';

export interface ScrollOptions {
  /** The marks, in percent of the page height. Default 25, 50, 75, 90. */
  marks?: number[];
}

/**
 * `scroll_depth`, once per mark per page view, as the bottom of the viewport passes each mark of the
 * page's current height (so a page that grows as it loads more is measured as it is now). Layout is
 * read at most once a frame while scrolling, never per scroll event; a page that cannot scroll is silent.
 */
export const trackScroll: Tracker<ScrollOptions> = ({ emit, listen, onPage }, { marks = [25, 50, 75, 90] }) => {
  let reached = new Set<number>();
  let frame = 0;
  const measure = () => {
    frame = 0;
    const height = document.documentElement.scrollHeight;
    if (height <= innerHeight) return;
    const percent = ((scrollY + innerHeight) / height) * 100;
    for (const mark of marks) if (percent >= mark && !reached.has(mark)) reached.add(mark), emit('scroll_depth', { percent_scrolled: mark });
  };
  // Only the page's own scrolling: scroll events of inner elements reach this capture listener too.
  listen('scroll', (event) => event.target === document && (frame ||= requestAnimationFrame(measure)));
  onPage(() => (reached = new Set()));
  return () => cancelAnimationFrame(frame);
};

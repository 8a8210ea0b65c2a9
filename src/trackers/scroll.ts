import type { ScrollOptions, Tracker, TrackerPart } from '../types';
import { percents } from '../lib/validate';

/**
 * `scroll_depth`, once per mark per page view, as the bottom of the viewport passes each mark of the
 * page's height as it is now (a page that grows as it loads more is measured at its new height). Marks
 * are worked out when scrolling pauses, from the deepest point of the burst: a reader who gets to the
 * end and jumps straight back up ("back to top") has passed 90. A page that cannot scroll is silent.
 *
 * Cheap on purpose, since scroll events come once a frame: the tracker has no scroll listener where it
 * can do without. An IntersectionObserver finds the deepest point, not reads of `scrollY` as the page
 * scrolls (each forces any layout the page left pending). Its root reaches far above the viewport, so
 * the part of the page it sees runs from the top down to the viewport's bottom: that share of the page
 * is the depth, and the browser calls us only as it crosses a mark, which starts the pause. Scroll events
 * serve only where the observer cannot (see below); there, the position and height are read once a pause.
 */
/** How long scrolling must pause before the position is read. */
const PAUSE_MS = 150;

export const trackScroll: Tracker<ScrollOptions> = ({ emit, listen, onPage }, { marks = [25, 50, 75, 90] }) => {
  const sorted = [...new Set(marks)].sort((a, b) => a - b);
  const page = document.documentElement;
  let reached = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | false | undefined;
  let lastScroll = 0;
  let deepest = 0; // the deepest bottom of the viewport the observer has seen since the last measure
  let box = 0; // the height of the page's box, as the observer last saw it (or a read, last measure)
  let listening = false; // to scroll events
  const measure = () => {
    // Where the observer serves alone, its reports are the position and the height, and nothing is read:
    // each read forces any layout the page left pending. They say where the page stands against the marks,
    // since the browser reports each time that changes.
    if (listening) (deepest = Math.max(deepest, scrollY + innerHeight)), (box = page.scrollHeight);
    if (box > innerHeight) {
      // Compared as the browser compares the share with its thresholds, so that a report is a mark.
      for (const mark of sorted) if (deepest / box >= mark / 100 && !reached.has(mark)) reached.add(mark), emit('scroll_depth', { percent_scrolled: mark });
    }
    deepest = 0;
  };
  // One timer for a burst of scrolling, not one per report: each only notes its time, and the timer waits
  // on until the page has been still for 150 ms.
  const settle = () => {
    const still = performance.now() - lastScroll;
    timer = still < PAUSE_MS && setTimeout(settle, PAUSE_MS - still);
    if (!timer) measure();
  };
  // What the browser reports says when to read: a scroll event, or the observer below.
  const moved = () => {
    // Every mark reached: nothing more to learn on this page view.
    if (reached.size === sorted.length) return;
    lastScroll = performance.now();
    timer ||= setTimeout(settle, PAUSE_MS);
  };
  // Scroll events only where the observer cannot tell (see below): each costs a call of our script, once
  // a frame. Only the page's own: those of inner elements reach this capture listener too.
  const listenToScroll = () => listening || ((listening = true), listen('scroll', (event) => event.target === document && moved()));
  // Where the viewport's bottom crosses a mark, of the page's box: the root, stretched far upwards, sees
  // the page from its top down to there, and the browser calls us only as that crosses a mark. A box no
  // taller than the viewport does not grow with what the document scrolls (`html, body { height: 100% }`),
  // and where there is no such observer (or it takes no document as its root), scroll events say when
  // to read the position instead.
  let depth: IntersectionObserver | undefined;
  let observed = false;
  try {
    depth = new IntersectionObserver(
      (entries) => {
        for (const { intersectionRect, intersectionRatio, boundingClientRect } of entries) {
          deepest = Math.max(deepest, intersectionRect.height);
          box = boundingClientRect.height;
          // Marks in view as the tracker starts count at the first scroll, which crosses none of them.
          if (boundingClientRect.height <= innerHeight || (!observed && intersectionRatio >= sorted[0]! / 100)) listenToScroll();
        }
        // The first report is where the page stood as the tracker started: nothing scrolled yet.
        if (observed) moved();
        observed = true;
      },
      { root: document, rootMargin: '1000000px 0px 0px', threshold: [...sorted.map((mark) => mark / 100), 1] },
    );
    depth.observe(page);
  } catch {
    listenToScroll();
  }
  // A new page view starts where the page stands: observed again, the observer reports that first.
  onPage(() => {
    reached = new Set();
    deepest = 0;
    observed = false;
    depth?.unobserve(page);
    depth?.observe(page);
  });
  return () => (clearTimeout(timer || undefined), depth?.disconnect());
};

export const scrollPart: TrackerPart<ScrollOptions> = { kind: 'tracker', keys: { scroll: { marks: percents } }, start: trackScroll };

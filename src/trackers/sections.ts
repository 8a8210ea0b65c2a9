import type { Tracker } from '../core/dom';

export interface SectionOptions {
  /** Share of the element (or of the viewport, for an element taller than it) that must be visible. Default 0.5. */
  threshold?: number;
  /** How long it must stay visible, in ms. Default 1000. */
  dwellMs?: number;
}


/**
 * `section_view` for `data-mc-section` elements, once per name per page view, when enough of the
 * element has been visible for long enough: IntersectionObserver, no scroll listener, no layout reads.
 */
export const trackSections: Tracker<SectionOptions> = ({ emit, listen, watch, onPage }, { threshold = 0.5, dwellMs = 1000 }) => {
  const sections = new Set<Element>();
  const timers = new Map<Element, ReturnType<typeof setTimeout>>();
  let viewed = new Set<string>();
  const stop = (element: Element) => (clearTimeout(timers.get(element)), timers.delete(element));

  const observer = new IntersectionObserver(
    (entries) => {
      for (const { target, isIntersecting, intersectionRatio, intersectionRect, rootBounds } of entries) {
        const name = target.getAttribute('data-mc-section')!;
        // Half of the element, or, for one taller than the viewport, half of the viewport.
        const seen = isIntersecting && (intersectionRatio >= threshold || intersectionRect.height >= threshold * (rootBounds?.height || innerHeight));
        if (!seen || document.hidden) stop(target);
        else if (!timers.has(target) && !viewed.has(name)) {
          timers.set(
            target,
            setTimeout(() => {
              timers.delete(target);
              // Seen: nothing more to watch on this page view.
              observer.unobserve(target);
              if (!viewed.has(name)) viewed.add(name), emit('section_view', { section_name: name });
            }, dwellMs),
          );
        }
      }
    },
    // The threshold itself, and small ratios for elements taller than the viewport, whose visible share
    // of their own height stays small; few thresholds, few callbacks while scrolling.
    { threshold: [0, 0.05, 0.1, 0.2, 0.3, 0.4, threshold] },
  );
  // Observing again yields a fresh entry per element: how visibility is re-read after a change of page.
  const reobserve = () =>
    sections.forEach((element) => {
      stop(element);
      observer.unobserve(element);
      if (element.isConnected) observer.observe(element);
      else sections.delete(element);
    });

  watch('[data-mc-section]', (element) => (sections.add(element), observer.observe(element)));
  // A hidden page shows nothing: dwell stops, and is read again when it comes back.
  listen('visibilitychange', () => (document.hidden ? timers.forEach((_, element) => stop(element)) : reobserve()));
  onPage(() => ((viewed = new Set()), reobserve()));
  return () => (observer.disconnect(), timers.forEach((_, element) => stop(element)));
};

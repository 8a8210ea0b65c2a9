import type { SectionOptions, Tracker, TrackerPart } from '../types';
import { ms } from '../lib/validate';

/**
 * `section_view` for `data-mc-section` elements, once per name per page view, when enough of the
 * element has been visible for long enough: IntersectionObservers, no scroll listener, no layout reads.
 * One observer says when an element's share of itself crosses the threshold. An element taller than the
 * viewport is seen when it covers that share of the viewport instead, which is a share of its own height
 * that only its height tells: such an element is watched by an observer at that share, one for all the
 * elements of the same height (a page's full-screen sections share one).
 */
export const trackSections: Tracker<SectionOptions> = ({ emit, listen, watch, onPage }, { threshold = 0.5, dwellMs = 1000 }) => {
  const sections = new Set<Element>();
  const timers = new Map<Element, ReturnType<typeof setTimeout>>();
  /** The observer of each tall element, and the observers by their share. */
  const tall = new Map<Element, IntersectionObserver>();
  const shares = new Map<number, IntersectionObserver>();
  let viewed = new Set<string>();
  const stop = (element: Element) => (clearTimeout(timers.get(element)), timers.delete(element));
  const forget = (element: Element) => (tall.get(element)?.unobserve(element), tall.delete(element));

  const seen: IntersectionObserverCallback = (entries) => {
    for (const { target, isIntersecting, intersectionRatio, intersectionRect, boundingClientRect, rootBounds } of entries) {
      const name = target.getAttribute('data-mc-section')!;
      const viewport = rootBounds?.height || innerHeight;
      const height = boundingClientRect.height;
      if (height > viewport && !tall.has(target)) {
        const share = (threshold * viewport) / height;
        // Crossing its share down is leaving too, so no threshold at 0. Its own threshold stays, for a
        // viewport that grows (a phone's address bar that hides) and leaves it short. And off the first
        // observer, whose reports of it would only repeat these (each one a call of our script).
        const own = shares.get(share) || shares.set(share, new IntersectionObserver(seen, { threshold: [share, threshold] })).get(share)!;
        tall.set(target, own);
        observer.unobserve(target);
        own.observe(target);
        continue;
      }
      // Half of the element, or half of the viewport (a pixel's rounding allowed).
      if (!isIntersecting || document.hidden || (intersectionRatio < threshold && intersectionRect.height < threshold * viewport - 1)) stop(target);
      else if (!timers.has(target) && !viewed.has(name)) {
        timers.set(
          target,
          setTimeout(() => {
            timers.delete(target);
            // Seen: nothing more to watch on this page view.
            observer.unobserve(target);
            forget(target);
            if (!viewed.has(name)) viewed.add(name), emit('section_view', { section_name: name });
          }, dwellMs),
        );
      }
    }
  };
  const observer = new IntersectionObserver(seen, { threshold: [0, threshold] });

  // Observing again yields a fresh entry per element: how visibility is read anew after a change of page.
  const reobserve = () =>
    sections.forEach((element) => {
      stop(element);
      forget(element);
      observer.unobserve(element);
      if (element.isConnected) observer.observe(element);
      else sections.delete(element);
    });

  watch('[data-mc-section]', (element) => (sections.add(element), observer.observe(element)));
  // A hidden page shows nothing: dwell stops, and is read again when it comes back.
  listen('visibilitychange', () => (document.hidden ? timers.forEach((_, element) => stop(element)) : reobserve()));
  onPage(() => ((viewed = new Set()), reobserve()));
  return () => (observer.disconnect(), shares.forEach((own) => own.disconnect()), timers.forEach((_, element) => stop(element)));
};

export const sectionsPart: TrackerPart<SectionOptions> = {
  kind: 'tracker',
  keys: { sections: { threshold: (share) => typeof share === 'number' && share >= 0 && share <= 1, dwellMs: ms } },
  start: trackSections,
};

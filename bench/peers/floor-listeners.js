// What both floors track, and how, the least any tracker can do for the bench's journey: one delegated
// listener per event type, one IntersectionObserver for the sections, the page height read once, scroll
// marks by comparison, video marks from timeupdate. `add(name, value)` takes each event; `hide()` runs
// when the page is hidden or left.
export function listen(add, hide) {
  const on = (target, type, listener) => target.addEventListener(type, listener, { capture: true, passive: true });
  on(document, 'click', (event) => {
    const cta = event.target.closest && event.target.closest('[data-mc-cta]');
    if (cta) add('cta', cta.dataset.mcCta);
  });
  const seen = new Set();
  on(document, 'focusin', (event) => {
    const form = event.target.form;
    if (form && !seen.has(form)) seen.add(form), add('form_begin', form.id);
  });
  on(document, 'submit', (event) => add('form_complete', event.target.id));
  const sections = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) if (entry.isIntersecting) add('section', entry.target.dataset.mcSection), sections.unobserve(entry.target);
    },
    { threshold: 0.5 },
  );
  document.querySelectorAll('[data-mc-section]').forEach((element) => sections.observe(element));
  let height = 0;
  const marks = [25, 50, 75, 90];
  on(window, 'scroll', () => {
    height ||= document.documentElement.scrollHeight - innerHeight;
    while (marks.length && (scrollY / height) * 100 >= marks[0]) add('scroll', marks.shift());
  });
  const videoMarks = new WeakMap();
  on(document, 'timeupdate', (event) => {
    const video = event.target;
    const left = videoMarks.get(video) || [25, 50, 75];
    videoMarks.set(video, left);
    while (left.length && (video.currentTime / video.duration) * 100 >= left[0]) add('video', left.shift());
  });
  on(document, 'visibilitychange', () => document.visibilityState === 'hidden' && hide());
  on(window, 'pagehide', hide);
}

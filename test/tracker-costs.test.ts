// What the trackers do for each event of the page, and at start, kept small (issue 11): the cheap checks
// come first, and nothing is done twice. Each test also checks that the behaviour stayed.
import { afterEach, expect, it, vi } from 'vitest';
import { createDom } from '../src/core/dom';
import { trackClicks } from '../src/trackers/clicks';
import type { TrackerContext } from '../src/types';

let dom: ReturnType<typeof createDom>;
afterEach(() => dom?.stop());

const context = (emit: TrackerContext['emit']): TrackerContext => ({
  emit,
  listen: dom.listen,
  watch: dom.watch,
  onLeave: () => {},
  onPage: () => {},
  redactUrl: (url) => url,
});

it('a keystroke other than Enter or Space is done with before the path of the event is read', () => {
  document.body.innerHTML = '<div data-mc-cta="demo" tabindex="0">Book a demo</div>';
  dom = createDom(() => {});
  const emit = vi.fn();
  trackClicks(context(emit), {});
  const cta = document.querySelector('[data-mc-cta]')!;
  // How often the trackers read the path: counted from the window's capture listener on, which runs
  // before the document's (the DOM's own dispatch reads it before that).
  let reads = 0;
  const count = (event: Event) => void vi.spyOn(event, 'composedPath').mockImplementation(function (this: Event) {
    reads++;
    return Event.prototype.composedPath.call(this);
  });
  addEventListener('keydown', count, true);
  const press = (key: string) => {
    reads = 0;
    cta.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, composed: true }));
    return reads;
  };
  expect(press('a')).toBe(0);
  expect(press('Tab')).toBe(0);
  expect(emit).not.toHaveBeenCalled();
  // Enter on a CTA that is no native control still reports it.
  expect(press('Enter')).toBe(1);
  expect(emit).toHaveBeenCalledWith('cta_click', expect.objectContaining({ cta_name: 'demo', link_type: 'button' }));
  removeEventListener('keydown', count, true);
});

it('a new watcher reads the page for itself alone: the watchers before it are not handed anything again', () => {
  document.body.innerHTML = '<section data-mc-section="a"></section><form data-mc-form="f"><fieldset data-mc-step="one"></fieldset></form>';
  dom = createDom(() => {});
  const sections = vi.fn();
  const steps = vi.fn();
  const query = vi.spyOn(document.documentElement, 'querySelectorAll');
  dom.watch('[data-mc-section]', sections);
  dom.watch('[data-mc-step]', steps);
  expect(query.mock.calls.map(([selector]) => selector)).toEqual(['[data-mc-section]', '[data-mc-step]']);
  expect(sections).toHaveBeenCalledTimes(1);
  expect(steps).toHaveBeenCalledTimes(1);
  expect(steps).toHaveBeenCalledWith(document.querySelector('[data-mc-step]'), false);
});

it('elements added later reach every watcher, once each, as late', async () => {
  document.body.innerHTML = '';
  dom = createDom(() => {});
  const sections = vi.fn();
  const steps = vi.fn();
  dom.watch('[data-mc-section]', sections);
  dom.watch('[data-mc-step]', steps);
  document.body.insertAdjacentHTML('beforeend', '<section data-mc-section="late"><div data-mc-step="s"></div></section>');
  await vi.waitFor(() => expect(steps).toHaveBeenCalledTimes(1));
  expect(sections).toHaveBeenCalledWith(document.querySelector('[data-mc-section]'), true);
  expect(steps).toHaveBeenCalledWith(document.querySelector('[data-mc-step]'), true);
  expect(sections).toHaveBeenCalledTimes(1);
});

it('each delegated listener calls its own handlers, one failing handler does not stop the next, and stop removes them all', () => {
  dom = createDom(() => {});
  const calls: string[] = [];
  dom.listen('click', () => {
    throw new Error('a tracker bug');
  });
  const off = dom.listen('click', () => void calls.push('click'));
  dom.listen('scroll', () => void calls.push('scroll'));
  dom.listen('message', () => void calls.push('message'), true);
  document.body.click();
  document.dispatchEvent(new Event('scroll'));
  dispatchEvent(new Event('message'));
  expect(calls).toEqual(['click', 'scroll', 'message']);
  off();
  document.body.click();
  expect(calls).toEqual(['click', 'scroll', 'message']);
  dom.stop();
  document.dispatchEvent(new Event('scroll'));
  dispatchEvent(new Event('message'));
  expect(calls).toEqual(['click', 'scroll', 'message']);
});

import type { Tracker, TrackerPart } from '../types';
import { IGNORED } from '../core/dom';
import { elementsOf } from './clicks';

interface FormState {
  begun?: boolean;
  completed?: boolean;
  abandoned?: boolean;
  /** The furthest step shown, 1-based; 0 before any. */
  step: number;
  /** Steps already reported complete. */
  done: Set<number>;
  /** The `name` of the last field that had focus or input. */
  field?: string;
}

// A form's own properties can be shadowed by its fields (`<input name="id">` makes `form.id` that
// input), so its attributes and children are read through Element's prototype, never through the form.
const attribute = (element: Element, name: string) => Element.prototype.getAttribute.call(element, name);
const stepsOf = (form: Element) => [...Element.prototype.querySelectorAll.call(form, '[data-mc-step]')];

/**
 * `form_begin`, `form_step`, `form_complete` and `form_abandon` for `<form data-mc-form>`. A step counts
 * as shown when its element gets a size after having none, whatever hid it (`hidden`, `display: none`,
 * a class) or when the page renders it anew; a ResizeObserver sees all of these without polling. No
 * field's value is ever read: only `name` attributes.
 */
export const trackForms: Tracker = ({ emit, listen, watch, onLeave, onPage }) => {
  let forms = new Map<Element, FormState>();
  const shown = new WeakMap<Element, boolean>();
  const late = new WeakSet<Element>();
  const stateOf = (form: Element) => forms.get(form) || forms.set(form, { step: 0, done: new Set() }).get(form)!;

  const send = (name: string, form: Element, state: FormState, step = state.step, extra?: object) => {
    const steps = stepsOf(form);
    emit(name, {
      form_name: attribute(form, 'data-mc-form'),
      form_id: attribute(form, 'id') || undefined,
      ...(steps.length && step && { step_index: step, step_name: attribute(steps[step - 1]!, 'data-mc-step'), step_count: steps.length }),
      ...extra,
    });
  };
  const complete = (form: Element, state: FormState, upTo: number) => {
    for (let step = 1; step <= upTo; step++) if (!state.done.has(step)) state.done.add(step), send('form_step', form, state, step);
  };

  listen('submit', (event) => {
    const form = event.target as Element;
    if (!attribute(form, 'data-mc-form') || Element.prototype.closest.call(form, IGNORED)) return;
    const state = stateOf(form);
    // Counted even when the page's own script prevents the default and sends the form itself.
    complete(form, state, Math.max(state.step, stepsOf(form).length && 1));
    send('form_complete', form, state);
    state.completed = true;
  });

  let lastField: EventTarget | null = null;
  const engage = (event: Event) => {
    // Typing in the same field again tells nothing new: skip it cheaply, keystroke after keystroke.
    if (event.target === lastField) return;
    lastField = event.target;
    // Most focus is outside any tracked form. A shadow host may hold a form in its shadow root.
    const target = event.target as Element;
    if (!target.shadowRoot && !target.closest?.('form[data-mc-form]')) return;
    const elements = elementsOf(event);
    if (elements.some((element) => attribute(element, 'data-mc-ignore') !== null)) return;
    // instanceof, not tagName: a field named `tagName` shadows the form's.
    const form = elements.find((element) => element instanceof HTMLFormElement && attribute(element, 'data-mc-form'));
    if (!form) return;
    const state = stateOf(form);
    state.field = attribute(elements[0]!, 'name') || state.field;
    if (!state.begun) {
      // A focus can come before the ResizeObserver's first report (held while this file loaded): the
      // step on show is read now, so that form_begin says which it is.
      state.step ||= stepsOf(form).findIndex((step) => Element.prototype.getClientRects.call(step).length) + 1;
      state.begun = true;
      send('form_begin', form, state);
    }
  };
  listen('focusin', engage);
  listen('input', engage);

  const observer = new ResizeObserver((entries) => {
    for (const { target, contentRect } of entries) {
      const form = target.closest('form[data-mc-form]');
      const visible = contentRect.width > 0 || contentRect.height > 0;
      const before = shown.get(target);
      shown.set(target, visible);
      if (!form || !visible) continue;
      const state = stateOf(form);
      const index = stepsOf(form).indexOf(target) + 1;
      // Shown after being hidden, or rendered anew: the steps before it are complete.
      if (before === false || (before === undefined && late.has(target))) complete(form, state, index - 1), (state.step = index);
      else if (before === undefined) state.step = Math.max(state.step, index);
    }
  });
  watch('form[data-mc-form] [data-mc-step]', (step, isLate) => (isLate && late.add(step), observer.observe(step)));

  onLeave(() =>
    forms.forEach((state, form) => {
      if (!state.begun || state.completed || state.abandoned) return;
      state.abandoned = true;
      send('form_abandon', form, state, state.step, { last_field: state.field });
    }),
  );
  onPage(() => ((forms = new Map()), (lastField = null)));
  return () => observer.disconnect();
};

/**
 * What the registry knows of the form tracker before its code comes: it is needed once the page has a
 * tracked form, and the first focus, input or submit that happens while it comes is held for it.
 */
export const formsDescriptor: TrackerPart = { kind: 'tracker', keys: { forms: {} }, when: 'form[data-mc-form]', events: ['focusin', 'input', 'submit'] };

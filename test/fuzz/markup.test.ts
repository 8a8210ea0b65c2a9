/**
 * Fuzzing the declarative markup (contract 2): random pages of `data-mc-cta`, `-section`, `-form`, `-step`,
 * `-video` and `-ignore` elements with hostile attribute values, forms whose fields are named like the
 * form's own properties (DOM clobbering, simulated: happy-dom does not shadow them), elements removed
 * while tracked; then clicks, Enter keys, focus, input, submits, plays and route changes. Checked: nothing
 * microconv runs throws (no error logged, none reaches the page), every event its trackers make is taken
 * (none refused, none dropped), each carries own keys only and well-formed text, the CTA and form events
 * are the ones the markup calls for, nothing comes from inside `data-mc-ignore`, and a normal event still
 * goes afterwards. The same in Chromium, with real DOM clobbering: e2e/fuzz.spec.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { init } from '../../src';
import type { MicroconvEvent } from '../../src/types';
import { fuzz, hugeText, isWellFormed, oddText, recorder, turn, watch, watchRejections, wellFormed, timeout } from './hostile';

/**
 * Names of form fields that shadow the form's own properties in a browser. Here the shadowing is
 * simulated by defining the property on the form, which happy-dom's own code reads too (a form whose
 * `parentNode` is its field makes its `closest()` loop for ever); names of DOM internals are left to
 * e2e/fuzz.spec.ts, where Chromium shadows them for real.
 */
const CLOBBERING = ['name', 'id', 'submit', 'action', 'elements', 'method', 'target', 'reset', 'length', 'title', 'tagName'];

/** An attribute value: ordinary, empty, odd, or huge. */
const value = fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_ -]{0,15}$/) }, { weight: 3, arbitrary: oddText }, fc.constant(''), { weight: 1, arbitrary: hugeText.map((text) => text.slice(0, 50_000)) });

type Spec = { tag: string; attributes: [string, string][]; children: Spec[]; text?: string };
const attribute = (name: string) => fc.tuple(fc.constant(name), value);
const element: fc.Arbitrary<Spec> = fc.letrec<{ node: Spec }>((tie) => ({
  node: fc
    .record({
      tag: fc.constantFrom('div', 'section', 'span', 'button', 'a', 'form', 'input', 'textarea', 'video', 'p'),
      attributes: fc.uniqueArray(
        fc.oneof(attribute('data-mc-cta'), attribute('data-mc-section'), attribute('data-mc-form'), attribute('data-mc-step'), attribute('data-mc-video'), attribute('data-mc-ignore'), attribute('title'), attribute('aria-label'), fc.tuple(fc.constant('name'), fc.oneof(fc.constantFrom(...CLOBBERING), value)), fc.tuple(fc.constant('href'), fc.constantFrom('#top', '/page', 'https://other.example/x', 'tel:+15551234567', 'mailto:jane@example.com', '/files/report.pdf', 'javascript:void(0)', 'http://[', ''))),
        { selector: ([name]) => name, maxLength: 4 },
      ),
      children: fc.oneof({ maxDepth: 4, depthIdentifier: 'dom' }, fc.constant([]), fc.array(tie('node'), { maxLength: 3 })),
      text: fc.option(oddText, { nil: undefined }),
    })
    .map((spec) => spec as Spec),
})).node;

type Action = { kind: 'click' | 'enter' | 'focus' | 'input' | 'submit' | 'play' | 'remove' | 'route'; at: number };
const action: fc.Arbitrary<Action> = fc.record({ kind: fc.constantFrom('click', 'click', 'enter', 'focus', 'input', 'submit', 'play', 'remove', 'route'), at: fc.nat() });

/** Builds the page; fields of a form shadow its properties by name, as browsers make them do. */
function build(spec: Spec, parent: Element): void {
  const node = document.createElement(spec.tag);
  for (const [name, text] of spec.attributes) node.setAttribute(name, text);
  if (spec.text) node.append(spec.text);
  parent.append(node);
  if (spec.tag !== 'a') for (const child of spec.children) build(child, node);
  const name = node.getAttribute('name');
  const form = node.closest('form');
  if (name && form && form !== node && ['INPUT', 'TEXTAREA', 'BUTTON'].includes(node.tagName) && !Object.prototype.hasOwnProperty.call(form, name)) {
    Object.defineProperty(form, name, { value: node, configurable: true });
  }
}

const get = (element: Element, name: string) => Element.prototype.getAttribute.call(element, name);
const closest = (element: Element, selector: string) => Element.prototype.closest.call(element, selector);

/** Contract 2: nothing from an element inside `data-mc-ignore`. */
const ignored = (element: Element) => !!closest(element, '[data-mc-ignore]');

let rejections: ReturnType<typeof watchRejections>;
beforeAll(() => {
  rejections = watchRejections();
  // The page keeps its URL, as the e2e pages do: it cancels the default of clicks (a tel: link would take
  // happy-dom's window to about:blank). Links are leaves: happy-dom follows a click inside a link even so.
  window.addEventListener('click', stay);
});
afterAll(() => rejections.stop());
afterAll(() => window.removeEventListener('click', stay));
const stay = (event: Event) => event.preventDefault();
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

it('hostile markup and interactions: no error, every tracker event taken and as the markup says, nothing from data-mc-ignore', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(element, { minLength: 1, maxLength: 4 }), fc.array(action, { maxLength: 12 }), fc.boolean(), async (specs, actions, npm) => {
      localStorage.clear();
      history.replaceState(null, '', '/');
      const root = document.createElement('main');
      document.body.append(root);
      for (const spec of specs) build(spec, root);
      // A probe that says when the trackers have started (once the page is idle).
      const probe = document.createElement('button');
      probe.setAttribute('data-mc-cta', 'probe');
      document.body.append(probe);
      const rec = recorder();
      const instance = init({ adapters: [rec], batch: { size: 1000, intervalMs: 3_600_000 }, ...(npm ? {} : { errors: 'log' }) });
      const ledger = watch(instance);
      try {
        await vi.waitFor(() => {
          probe.click();
          expect(ledger.emitted.some((event) => event.params.cta_name === 'probe')).toBe(true);
        });
        probe.remove();
        const elements = [...root.querySelectorAll('*')];
        const begun = new Set<Element>();
        const played = new Set<Element>();
        for (const { kind, at } of actions) {
          const target = elements[at % elements.length]!;
          const before = ledger.emitted.length;
          const connected = target.isConnected;
          dispatch(kind, target);
          const made = ledger.emitted.slice(before);
          if (!connected || kind === 'remove') {
            expect(made, `nothing from ${kind} on a removed element`).toEqual([]);
            continue;
          }
          if (kind === 'route') {
            expect(location.pathname, 'the route changed').toMatch(/^\/route-/);
            for (const event of made) expect(event.name, 'a route change ends forms').toBe('form_abandon');
            begun.clear();
            played.clear();
            continue;
          }
          if (ignored(target)) {
            expect(made.map((event) => event.name), `nothing from inside data-mc-ignore (${kind})`).toEqual([]);
            continue;
          }
          const cta = closest(target, '[data-mc-cta]');
          const ctas = made.filter((event) => event.name === 'cta_click' && event.params.cta_name !== 'tel' && event.params.cta_name !== 'mailto');
          if (kind === 'click' && cta) expect(ctas.map((event) => event.params.cta_name), 'a click on a CTA is one cta_click, named by it').toEqual([expected(get(cta, 'data-mc-cta')) || expect.any(String)]);
          else if (kind === 'click' || kind === 'enter') expect(ctas.filter((event) => event.params.link_type !== 'outbound').length).toBeLessThanOrEqual(cta ? 1 : 0);
          const form = closest(target, 'form[data-mc-form]');
          const formName = form && get(form, 'data-mc-form');
          if ((kind === 'focus' || kind === 'input') && formName && !begun.has(form)) {
            expect(made.filter((event) => event.name === 'form_begin').map((event) => event.params.form_name), 'the first focus in a form begins it').toEqual([expected(formName)]);
            begun.add(form);
          } else expect(made.filter((event) => event.name === 'form_begin'), 'form_begin once per form').toEqual([]);
          if (kind === 'submit' && target.tagName === 'FORM' && formName) expect(made.filter((event) => event.name === 'form_complete').map((event) => event.params.form_name), 'a submit completes its form').toEqual([expected(formName)]);
          if (kind === 'play' && target.tagName === 'VIDEO') expect(made.filter((event) => event.name === 'video_play'), 'the first play of a video').toHaveLength(played.has(target) ? 0 : 1);
          if (kind === 'play') played.add(target);
        }
        const after = instance.track('after_markup');
        await instance.flush();
        await turn();
        expect(rec.received.map((event) => event.event_id)).toContain(after);
        expect(ledger.logs.filter((entry) => entry.level === 'error'), 'nothing microconv ran threw').toEqual([]);
        expect(instance.stats().dropped, 'no tracker event refused or dropped').toEqual({});
        expect(rec.received.map((event) => event.event_id).sort(), 'every event emitted was delivered').toEqual(ledger.emitted.map((event) => event.event_id).sort());
        for (const event of rec.received) expectClean(event);
        expect(rejections.rejections).toEqual([]);
      } finally {
        await instance.destroy();
        root.remove();
        probe.remove();
        history.replaceState(null, '', '/');
      }
    }),
    fuzz(60),
  );
}, timeout(60));

/** A name from an attribute, as the event must carry it: well-formed, at most 1000 characters, never half an emoji. */
function expected(text: string | null): string | undefined {
  if (!text) return undefined;
  return wellFormed(text).slice(0, 1000).replace(/[\ud800-\udbff]$/, '');
}

/** Own keys of known types, well-formed text. */
function expectClean(event: MicroconvEvent): void {
  for (const [key, param] of Object.entries(event.params)) {
    expect(['string', 'number', 'boolean'].includes(typeof param) || param === null, `${event.name}.${key} is a plain value`).toBe(true);
    if (typeof param === 'string') expect(isWellFormed(param), `${event.name}.${key} is well-formed`).toBe(true);
  }
  for (const key in event.params) expect(Object.prototype.hasOwnProperty.call(event.params, key), `${event.name}: ${key} is its own`).toBe(true);
}

function dispatch(kind: Action['kind'], target: Element): void {
  const fire = (event: Event) => target.dispatchEvent(event);
  if (kind === 'click') fire(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true }));
  else if (kind === 'enter') fire(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
  else if (kind === 'focus') fire(new FocusEvent('focusin', { bubbles: true, composed: true }));
  else if (kind === 'input') fire(new Event('input', { bubbles: true, composed: true }));
  else if (kind === 'submit') fire(new Event('submit', { bubbles: true, cancelable: true }));
  else if (kind === 'play') fire(new Event('play'));
  else if (kind === 'remove') target.remove();
  else history.pushState(null, '', '/route-' + Math.random().toString(36).slice(2));
}

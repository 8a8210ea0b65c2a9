// A form's fields shadow its properties by name (DOM clobbering: `<input name="id">` makes `form.id` that
// input). Found by fuzzing (test/fuzz/markup.test.ts): a field named `tagName` hid its form from the form
// tracker, and form_begin was lost without a word. happy-dom does not shadow, so the test does it as
// browsers do; e2e/fuzz.spec.ts has the real thing in Chromium.
import { afterEach, expect, it, vi } from 'vitest';
import { init } from '../src';
import type { Instance } from '../src/types';

let mc: Instance<any> | undefined;
afterEach(() => mc?.destroy());

it('fields named like the form properties microconv reads do not hide the form or change its name and id', async () => {
  document.body.innerHTML = `<button data-mc-cta="probe"></button>
    <form data-mc-form="signup" id="signup-form"><input name="tagName"><input name="nodeType"><input name="id"><input name="name"><input name="email"></form>`;
  const form = document.querySelector('form')!;
  for (const field of form.querySelectorAll('input')) if (field.name !== 'email') Object.defineProperty(form, field.name, { value: field });
  mc = init({ adapters: [] });
  const events: [string, unknown][] = [];
  mc.on('event', (event) => void events.push([event.name, event.params]));
  await vi.waitFor(() => {
    document.querySelector('button')!.click();
    expect(events.length).toBeGreaterThan(0);
  });
  events.length = 0;
  form.querySelector('[name=email]')!.dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
  form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  expect(events).toEqual([
    ['form_begin', { form_name: 'signup', form_id: 'signup-form' }],
    ['form_complete', { form_name: 'signup', form_id: 'signup-form' }],
  ]);
});

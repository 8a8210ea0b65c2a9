// Contract 2: `data-mc-ignore` on any element means nothing from it or from inside it. Found by fuzzing
// (test/fuzz/markup.test.ts): only the click tracker honoured it; forms, videos and sections inside an
// ignored element still reported.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createDom } from '../src/core/dom';
import { init } from '../src';
import type { Instance, MicroconvEvent } from '../src/types';

let mc: Instance<any>;
let emitted: MicroconvEvent[];
beforeEach(async () => {
  localStorage.clear();
  document.body.innerHTML = `
    <button data-mc-cta="probe">probe</button>
    <div data-mc-ignore>
      <form data-mc-form="hidden_form"><input name="email"></form>
      <video data-mc-video="hidden_video"></video>
    </div>
    <form data-mc-form="signup"><input name="secret" data-mc-ignore><input name="email"></form>`;
  emitted = [];
  mc = init({ adapters: [] });
  mc.on('event', (event) => void emitted.push(event));
  // The trackers start once the page is idle: a click on the probe says when.
  await vi.waitFor(() => {
    document.querySelector('button')!.click();
    expect(emitted.length).toBeGreaterThan(0);
  });
  emitted = [];
});
afterEach(() => mc.destroy());

const focus = (selector: string) => document.querySelector(selector)!.dispatchEvent(new FocusEvent('focusin', { bubbles: true }));

it('forms inside an ignored element, and ignored fields, say nothing', () => {
  focus('[data-mc-form=hidden_form] input');
  document.querySelector('[data-mc-form=hidden_form]')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  focus('[name=secret]');
  expect(emitted).toEqual([]);
  focus('[data-mc-form=signup] [name=email]');
  expect(emitted.map((event) => [event.name, event.params.form_name])).toEqual([['form_begin', 'signup']]);
});

it('a video inside an ignored element says nothing', () => {
  document.querySelector('video')!.dispatchEvent(new Event('play'));
  expect(emitted).toEqual([]);
});

it('the elements trackers watch (sections, form steps, embeds) are never inside an ignored element', () => {
  document.body.innerHTML = '<section data-mc-section="seen"></section><div data-mc-ignore><section data-mc-section="ignored"></section></div>';
  const dom = createDom(() => {});
  const found: string[] = [];
  dom.watch('[data-mc-section]', (element) => void found.push(element.getAttribute('data-mc-section')!));
  expect(found).toEqual(['seen']);
  dom.stop();
});

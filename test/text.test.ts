import { describe, expect, it, vi } from 'vitest';
import { ga4Params } from '../src/adapters/gtag';
import { labelOf } from '../src/trackers/clicks';
import { show } from '../src/lib/validate';
import type { MicroconvEvent } from '../src/types';

/** A lone surrogate: half of a pair, which no receiver can store as text (issue 10, defect 1). */
const hasLoneSurrogate = (text: string) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);

// Words, as a button says them (a run of 99 letters would be redacted as token-like before any cut).
const words = (length: number) => 'Book a demo with our team '.repeat(5).slice(0, length);
// 99 characters, then an emoji (two UTF-16 units) across the 100-unit cut, then more.
const emojiAtTheCut = words(99) + '😀' + 'b'.repeat(20);

describe('user text is cut on code-point boundaries', () => {
  it('link_text: an emoji across the 100-character cut is left out whole, not halved', () => {
    const button = document.createElement('button');
    button.textContent = emojiAtTheCut;
    const text = labelOf(button);
    expect(hasLoneSurrogate(text)).toBe(false);
    expect(text).toBe(words(99));
  });

  it("gtag: GA4's 100-character value rule never halves an emoji", () => {
    const event = { event_id: 'id', name: 'cta_click', params: { link_text: emojiAtTheCut } } as unknown as MicroconvEvent;
    const params = ga4Params(event, vi.fn());
    expect(hasLoneSurrogate(params.link_text as string)).toBe(false);
    expect(params.link_text).toBe(words(99));
  });

  it('error messages quote at most 40 characters of a bad name, and never half an emoji', () => {
    const message = show('x'.repeat(39) + '😀' + 'y');
    expect(hasLoneSurrogate(JSON.parse(message))).toBe(false);
  });

  it('keeps a pair that ends exactly at the cut', () => {
    const button = document.createElement('button');
    button.textContent = words(98) + '😀' + 'b';
    expect(labelOf(button)).toBe(words(98) + '😀');
  });
});

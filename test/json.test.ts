import { afterEach, describe, expect, it } from 'vitest';
import { payload } from '../src/adapters/endpoint';
import { byteSize } from '../src/core/send';
import { copyParams } from '../src/lib/validate';
import type { MicroconvEvent } from '../src/types';

// Issue 10, defect 6: pages that patch prototypes with toJSON, as Prototype.js does with Array.prototype.toJSON
// (arrays become strings of JSON), must not change what microconv sends or stores.
const patches: [object, (this: never) => unknown][] = [
  [Array.prototype, function (this: unknown[]) { return '[' + this.map((item) => JSON.stringify(item)).join(', ') + ']'; }],
  [Object.prototype, function () { return 'object'; }],
  [String.prototype, function () { return 'string'; }],
  [Date.prototype, function () { return 'date'; }],
];
const patch = () => patches.forEach(([proto, toJSON]) => Object.defineProperty(proto, 'toJSON', { value: toJSON, configurable: true, writable: true }));
afterEach(() => patches.forEach(([proto]) => delete (proto as { toJSON?: unknown }).toJSON));

const event = (): MicroconvEvent => ({
  event_id: 'e1',
  name: 'cta_click',
  ts: 1,
  session_id: 's',
  anonymous_id: null,
  page: { url: 'https://x.example/', path: '/', title: 't', referrer: '' },
  params: { tags: ['a', 'b'], nested: { list: [1, 2] }, text: 'é😀' },
  attribution: { utm_source: null, utm_medium: null, utm_campaign: null, utm_term: null, utm_content: null, gclid: null, fbclid: null, landing_page: '', referrer: '' },
});

describe("the page's prototypes do not reach the wire", () => {
  it('the endpoint payload is the same JSON with Array, Object, String and Date toJSON patched', () => {
    const clean = JSON.parse(payload([event()]));
    patch();
    const patched = JSON.parse(payload([event()]));
    expect(Array.isArray(patched.events)).toBe(true);
    expect({ ...patched, sent_at: '' }).toEqual({ ...clean, sent_at: '' });
  });

  it('the size count is of what is sent', () => {
    patch();
    const value = event();
    const sent = payload([value]); // {"v":1,"sent_at":"…","events":[<the event>]}
    const eventText = sent.slice(sent.indexOf('"events":[') + '"events":['.length, -2);
    expect(JSON.parse(eventText).params.tags).toEqual(['a', 'b']);
    expect(byteSize(value)).toBe(new TextEncoder().encode(eventText).length);
  });

  it('params keep their arrays and objects; a date is what its own toJSON makes of it', () => {
    patch();
    expect(copyParams({ tags: ['a', 'b'], nested: { list: [1] }, when: new Date(0) })).toEqual({ tags: ['a', 'b'], nested: { list: [1] }, when: 'date' });
  });
});

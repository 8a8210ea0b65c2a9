import { afterEach, describe, expect, it } from 'vitest';
import { payload } from '../src/adapters/endpoint';
import { byteSize } from '../src/core/send';
import { copyParams } from '../src/lib/validate';
import { toJson, withoutToJson } from '../src/lib/json';
import fc from 'fast-check';
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

// toJson takes the native pass when nothing stands in its way (no page toJSON on arrays or objects, no
// half an emoji): whichever pass it takes, it must say exactly what the careful one says.
describe('the fast pass says what the careful pass says', () => {
  const careful = (value: unknown) => JSON.stringify(value, withoutToJson);
  const values = fc.jsonValue().chain((json) => fc.tuple(fc.constant(json), fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\ud83d', '\ude00', '"', '\\', '\u2028') })));

  it('for any JSON value and any text, a lone surrogate included, on a clean page', () => {
    fc.assert(fc.property(values, ([json, text]) => toJson({ json, text }) === careful({ json, text })));
  });

  it('with a toJSON on Array.prototype alone, or on Object.prototype alone', () => {
    for (const [proto, toJSON] of patches.slice(0, 2)) {
      Object.defineProperty(proto, 'toJSON', { value: toJSON, configurable: true, writable: true });
      fc.assert(fc.property(values, ([json, text]) => toJson({ list: [json], text }) === careful({ list: [json], text })), { numRuns: 50 });
      delete (proto as { toJSON?: unknown }).toJSON;
    }
  });

  it('half an emoji becomes U+FFFD, not an escape no store can keep', () => {
    expect(JSON.parse(toJson({ title: 'Sale \ud83d' })).title).toBe('Sale \ufffd');
    expect(toJson({ title: 'Sale 😀', path: '\\ud83d' })).toBe(JSON.stringify({ title: 'Sale 😀', path: '\\ud83d' }));
  });
});

import { describe, expect, it } from 'vitest';
import { consentProblem, copyParams, nameProblem, show } from '../src/lib/validate';

describe('event names', () => {
  it.each(['cta_click', 'a', 'purchase', 'x'.repeat(40), 'form_step2'])('accepts %s', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });
  it.each(['', 'Cta', '1abc', '_x', 'x'.repeat(41), 'a-b', 'a b', 'é', 42, null, undefined])('refuses %s', (name) => {
    expect(nameProblem(name)).toMatch(/^invalid event name/);
  });
});

describe('params', () => {
  it('copies JSON values deeply, so later mutation does not reach the event', () => {
    const params = { a: 1, b: 'x', c: true, d: null, e: [1, { f: 'g' }], h: { i: [] } };
    const copy = copyParams(params);
    expect(copy).toEqual(params);
    params.e.push(2);
    expect(copy.e).toEqual([1, { f: 'g' }]);
  });

  it('leaves out undefined properties and turns undefined array items into null, as JSON does', () => {
    expect(copyParams({ a: undefined, b: [undefined, 1] })).toEqual({ b: [null, 1] });
  });

  it('turns dates into their JSON text', () => {
    expect(copyParams({ when: new Date(0) })).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });

  it('takes no params as an empty object', () => {
    expect(copyParams(undefined)).toEqual({});
  });

  it.each([
    ['a function', { f: () => 1 }, 'parameter f cannot be sent: function'],
    ['a symbol', { s: Symbol('x') }, 'parameter s cannot be sent: symbol'],
    ['a BigInt', { n: 10n }, 'parameter n cannot be sent: bigint'],
    ['NaN', { n: NaN }, 'parameter n cannot be sent: NaN'],
    ['Infinity', { n: Infinity }, 'parameter n cannot be sent: Infinity'],
    ['a Map', { m: new Map() }, 'parameter m cannot be sent: Map'],
    ['a DOM node', { el: document.createElement('div') }, 'parameter el cannot be sent: HTMLDivElement'],
    ['a nested function', { a: [{ b: () => 1 }] }, 'parameter b cannot be sent: function'],
  ])('refuses %s with a message naming it', (_, params, message) => {
    expect(() => copyParams(params)).toThrow(message);
  });

  it('refuses circular references', () => {
    const params: Record<string, unknown> = {};
    params.self = params;
    expect(() => copyParams(params)).toThrow('params hold a circular reference');
  });

  it.each([[[1, 2]], ['text'], [null], [42], [document.body]])('refuses params that are not a plain object: %s', (params) => {
    expect(() => copyParams(params)).toThrow(/^params must be a plain object, not/);
  });

  it('never shows the source of a function or the contents of an object in messages', () => {
    expect(show(() => 'secret')).toBe('function');
    expect(show({ password: 'secret' })).toBe('Object');
    expect(show('x'.repeat(100))).toHaveLength(43);
  });
});

describe('consent updates', () => {
  it.each(['granted', 'denied', 'pending', { ad_storage: 'denied' }, {}])('accepts %j', (update) => {
    expect(consentProblem(update)).toBeUndefined();
  });
  it.each(['yes', { ad_storage: 'yes' }, { analytics: 'granted' }, 1, null, ['granted']])('refuses %j', (update) => {
    expect(consentProblem(update)).toMatch(/^consent must be/);
  });
});

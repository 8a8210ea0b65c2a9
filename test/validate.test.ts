import { describe, expect, it } from 'vitest';
import { word } from '../src/core/errors';
import { consentProblem, copyParams, nameProblem, ownParams, show, type Problem } from '../src/lib/validate';

/** The full message of a problem the checks returned; none when they returned none. */
const said = (problem: Problem | undefined) => problem && word(problem);
/** The full message of the refusal `copy` threw: always a problem of ours, never what the page threw. */
const refusal = (copy: () => unknown): string => {
  try {
    copy();
  } catch (problem) {
    expect(problem, 'a problem of ours').toEqual(expect.arrayContaining([expect.any(String)]));
    return word(problem as Problem);
  }
  throw new Error('not refused');
};

describe('event names', () => {
  it.each(['cta_click', 'a', 'purchase', 'x'.repeat(40), 'form_step2'])('accepts %s', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });
  it.each(['', 'Cta', '1abc', '_x', 'x'.repeat(41), 'a-b', 'a b', 'é', 42, null, undefined])('refuses %s', (name) => {
    expect(said(nameProblem(name))).toMatch(/^invalid event name/);
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
    expect(refusal(() => copyParams(params))).toMatch(message);
  });

  it('refuses circular references', () => {
    const params: Record<string, unknown> = {};
    params.self = params;
    expect(refusal(() => copyParams(params))).toMatch('params hold a circular reference');
  });

  it.each([[[1, 2]], ['text'], [null], [42], [document.body]])('refuses params that are not a plain object: %s', (params) => {
    expect(refusal(() => copyParams(params))).toMatch(/^params must be a plain object, not/);
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
    expect(said(consentProblem(update))).toMatch(/^consent must be/);
  });
});

// Found by fuzzing (test/fuzz/track.test.ts): each of these once threw something other than a clear
// refusal, or named the wrong problem, or handed on what a receiver cannot take.
describe('hostile params', () => {
  const nest = (depth: number) => {
    let inner: unknown = 'bottom';
    for (let level = 1; level < depth; level++) inner = { deeper: inner };
    return { deeper: inner };
  };

  it('says a getter or a Proxy cannot be read, rather than calling it a circular reference', () => {
    expect(refusal(() => copyParams({ get total() { throw new Error('not loaded yet'); } }))).toMatch('params cannot be read: not loaded yet');
    expect(refusal(() => copyParams({ get total() { throw 'not loaded yet'; } }))).toMatch('params cannot be read: not loaded yet');
    expect(refusal(() => copyParams({ get total() { throw undefined; } }))).toMatch('params cannot be read: undefined');
    expect(refusal(() => copyParams({ cart: new Proxy({}, { ownKeys() { throw new Error('revoked'); } }) }))).toMatch('params cannot be read: revoked');
    expect(refusal(() => copyParams(new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } })))).toMatch('params cannot be read: trap');
  });

  it('refuses params nested deeper than the collector stores (32 levels, the event being the first), by name', () => {
    expect(copyParams(nest(31))).toEqual(nest(31));
    expect(refusal(() => copyParams(nest(32)))).toMatch('params are nested deeper than 31 levels');
    expect(refusal(() => copyParams(nest(5000)))).toMatch('params are nested deeper than 31 levels');
  });

  it('never throws while describing a value, whatever the value', () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(show(new Proxy({}, { get() { throw new Error('trap'); } }))).toEqual(expect.any(String));
    expect(show(revoked.proxy)).toEqual(expect.any(String));
    expect(said(nameProblem(revoked.proxy))).toMatch(/^invalid event name/);
    expect(said(consentProblem(new Proxy({}, { ownKeys() { throw new Error('trap'); } })))).toMatch(/^consent must be/);
    expect(said(consentProblem(revoked.proxy))).toMatch(/^consent must be/);
  });

  it('refuses an own __proto__ key, which vendor code that copies by assignment turns into a prototype', () => {
    expect(refusal(() => copyParams(JSON.parse('{"item": {"__proto__": {"admin": true}}}')))).toMatch('parameter __proto__ cannot be sent');
  });

  it('makes text well-formed (half an emoji becomes U+FFFD), and refuses a parameter name that is half an emoji', () => {
    expect(copyParams({ query: 'caf\u00e9 \ud83d', list: ['\udc00x'], ok: '\u{1f600}' })).toEqual({ query: 'caf\u00e9 \ufffd', list: ['\ufffdx'], ok: '\u{1f600}' });
    expect(refusal(() => copyParams({ ['a\ud83d']: 1 }))).toMatch(/parameter name "a\\ud83d" is not valid Unicode/);
  });
});

describe("trackers' params", () => {
  it('keep their own keys only, well-formed text, at most 1000 characters each', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'from the page';
    try {
      const params = ownParams({ cta_name: 'x'.repeat(5000), link_text: 'a \ud83d', n: Infinity });
      expect(params).toEqual({ cta_name: 'x'.repeat(1000), link_text: 'a \ufffd', n: null });
      expect(Object.keys(params)).toEqual(['cta_name', 'link_text', 'n']);
    } finally {
      delete proto.polluted;
    }
  });
});

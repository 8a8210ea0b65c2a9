// The words of refusals (src/core/errors.ts) and how the script tag comes by them (explain-later.ts).
// That both paths refuse the same and end up saying the same: test/fuzz/errors.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPTIONS, word } from '../src/core/errors';
import { RULES } from '../src/core/options';

const loadPart = vi.hoisted(() => vi.fn());
vi.mock('../src/core/loader', () => ({ loadPart }));

describe('the words', () => {
  it('say what each option of the core must be, for every rule and no other', () => {
    expect(Object.keys(OPTIONS).sort()).toEqual(Object.keys(RULES).sort());
  });

  it('name every known key once, in order', () => {
    expect(word(['option endpont', 'unknown', { endpoint: 1, batch: 1 }, { endpoint: 1, gtag: 1 }])).toBe('unknown option endpont (known: endpoint,batch,gtag)');
  });

  it('say where a refusal was met', () => {
    expect(word(['track("x"): params', 'in', 'track("x")', ['params', 'cycle']])).toBe('track("x"): params hold a circular reference');
  });
});

describe('the script tag', () => {
  let explain: typeof import('../src/core/explain-later').explain;
  beforeEach(async () => {
    vi.resetModules();
    loadPart.mockReset();
    ({ explain } = await import('../src/core/explain-later'));
  });
  afterEach(() => vi.restoreAllMocks());

  it('says a short message at once and the full ones in order once the words come, fetched once; then full messages at once', async () => {
    let bring!: (part: typeof word) => void;
    loadPart.mockReturnValue(new Promise((resolve) => (bring = resolve)));
    const later: string[] = [];
    const say = (message: string) => void later.push(message);
    expect(explain(['option batch', 'rule', 'batch', '"often"'], say)).toBe('option batch cannot be used; the details follow in the console');
    expect(explain(['params', 'cycle'], say)).toBe('params cannot be used; the details follow in the console');
    expect(explain('a message the core words itself', say)).toBe('a message the core words itself');
    expect(later).toEqual([]);
    bring(word);
    await vi.waitFor(() => expect(later).toEqual(['option batch must be { size: 1 to 1000, intervalMs: 0 to 3600000 }, not "often"', 'params hold a circular reference']));
    expect(explain(['params', 'deep'], say)).toBe('params are nested deeper than 31 levels');
    expect(loadPart).toHaveBeenCalledTimes(1);
    expect(loadPart).toHaveBeenCalledWith('errors');
  });

  it('keeps the short message when the words cannot come, and does not ask again', async () => {
    const rejected = Promise.reject('microconv-errors.js could not be loaded');
    loadPart.mockReturnValue(rejected);
    const later = vi.fn();
    expect(explain(['consent', 'consent', '"maybe"'], later)).toBe('consent cannot be used; the details follow in the console');
    await rejected.catch(() => {});
    expect(explain(['event name', 'name', '"Bad"'], later)).toBe('event name cannot be used; the details follow in the console');
    await new Promise((resolve) => setImmediate(resolve)); // every reaction to the failed fetch has run
    expect(later).not.toHaveBeenCalled();
    expect(loadPart).toHaveBeenCalledTimes(1);
  });

  it('loses no message to a console that throws', async () => {
    loadPart.mockResolvedValue(word);
    const said: string[] = [];
    explain(['params', 'cycle'], () => {
      throw new Error('patched console');
    });
    explain(['params', 'deep'], (message) => void said.push(message));
    await vi.waitFor(() => expect(said).toEqual(['params are nested deeper than 31 levels']));
  });
});

/**
 * Consent and privacy at the instance (issue 10, defects 7 to 9): a consent change takes effect in memory
 * whatever storage does; own keys only, whatever the page added to `Object.prototype`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { init } from '../src';
import { ownParams } from '../src/lib/validate';
import { labelOf } from '../src/trackers/clicks';
import type { Adapter, MicroconvEvent } from '../src/types';

/** A custom adapter that records what it is sent; `persistKey` makes its queue use IndexedDB. */
function recorder(extra: Partial<Adapter> = {}) {
  const sent: MicroconvEvent[] = [];
  const adapter: Adapter = { name: 'rec', send: (events) => void sent.push(...events), ...extra };
  return { adapter, sent };
}

/** Storage as a sandboxed frame or a strict private mode has it: every call throws at once. */
function breakStorage() {
  const refuse = () => {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  vi.stubGlobal('indexedDB', { open: refuse, deleteDatabase: refuse, databases: refuse });
  for (const method of ['getItem', 'setItem', 'removeItem', 'clear', 'key'] as const) vi.spyOn(Storage.prototype, method).mockImplementation(refuse);
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('consent where storage throws at once', () => {
  it('withdrawn: takes effect for every adapter, and throws nothing to the caller', async () => {
    breakStorage();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const stored = recorder({ name: 'stored', persistKey: 'stored', consent: ['analytics_storage'] }); // its queue tries IndexedDB
    const vendor = recorder({ name: 'vendor', consent: ['ad_storage'] });
    const mc = init({ adapters: [stored.adapter, vendor.adapter] });
    mc.track('before');
    await mc.flush();
    expect([stored.sent.length, vendor.sent.length]).toEqual([1, 1]);

    expect(() => mc.consent('denied')).not.toThrow();
    mc.track('after');
    await mc.flush();
    expect(stored.sent.map((event) => event.name)).toEqual(['before']);
    expect(vendor.sent.map((event) => event.name)).toEqual(['before']);
    expect(mc.stats().dropped).toEqual({ consent_denied: 2 });
    await mc.destroy();
  });

  it('granted after pending: held events go, and nothing throws', async () => {
    breakStorage();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { adapter, sent } = recorder({ persistKey: 'rec', consent: ['analytics_storage'] });
    const mc = init({ adapters: [adapter], consent: 'pending' });
    mc.track('held');
    expect(() => mc.consent('granted')).not.toThrow();
    await mc.flush();
    expect(sent.map((event) => event.name)).toEqual(['held']);
    expect(() => mc.consent('denied')).not.toThrow();
    mc.track('after');
    await mc.flush();
    expect(sent.map((event) => event.name)).toEqual(['held']);
    await mc.destroy();
  });
});

describe('enumerable additions to Object.prototype', () => {
  const proto = Object.prototype as Record<string, unknown>;
  afterEach(() => {
    delete proto.leaked;
    delete proto.ad_storage;
  });

  it('never become parameters, of tracked events or of the trackers’ own', async () => {
    proto.leaked = 'from the prototype'; // enumerable, as a careless library adds it
    const { adapter, sent } = recorder();
    const mc = init({ adapters: [adapter] });
    mc.track('custom', { plan: 'pro' });
    await mc.flush();
    expect(sent[0]!.params).toEqual({ plan: 'pro' });
    expect(Object.keys(sent[0]!.params)).toEqual(['plan']);
    // The trackers' params take the quick copy, which must read own keys only too.
    expect(Object.keys(ownParams({ cta_name: 'hero', link_type: 'button' }))).toEqual(['cta_name', 'link_type']);
    await mc.destroy();
  });

  it('never grant a purpose a consent update left out', async () => {
    const vendor = recorder({ consent: ['ad_storage'] });
    const mc = init({ adapters: [vendor.adapter], consent: 'pending' });
    proto.ad_storage = 'granted';
    mc.consent({ analytics_storage: 'granted' });
    mc.track('a');
    await mc.flush();
    expect(vendor.sent).toEqual([]);
    expect(mc.stats().waiting).toEqual({ rec: 1 });
    await mc.destroy();
  });
});

describe('link_text', () => {
  const SENTINEL = 'typed-by-a-person';
  afterEach(() => void (document.body.innerHTML = ''));

  it('never holds what a person typed or chose: editable content, inputs, textareas, selects', () => {
    document.body.innerHTML = `
      <div data-mc-cta="note" id="editable-inside">Save <span contenteditable="true">${SENTINEL}</span> note</div>
      <div data-mc-cta="composer" id="editable" contenteditable>${SENTINEL}</div>
      <p contenteditable><a href="/x" data-mc-cta="in_editor" id="in-editor">${SENTINEL}</a></p>
      <label data-mc-cta="search" id="controls">Search <input name="q"> in <textarea name="t">${SENTINEL}</textarea><select name="s"><option selected>${SENTINEL}</option></select> now</label>
      <div data-mc-cta="plaintext" id="plaintext">Post <div contenteditable="plaintext-only">${SENTINEL}</div></div>
      <button data-mc-cta="fixed" id="not-editable" contenteditable="false">Send</button>`;
    document.querySelector('textarea')!.value = SENTINEL;
    document.querySelector('input')!.value = SENTINEL;
    document.querySelector('input')!.setAttribute('value', SENTINEL);
    const label = (id: string) => labelOf(document.getElementById(id)!);
    expect(label('editable-inside')).toBe('Save note');
    expect(label('editable')).toBe('');
    expect(label('in-editor')).toBe('');
    expect(label('controls')).toBe('Search in now');
    expect(label('plaintext')).toBe('Post');
    expect(label('not-editable')).toBe('Send');
  });
});

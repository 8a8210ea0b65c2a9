import { describe, expect, it } from 'vitest';
import { byteSize } from '../src/core/send';
import { uuid } from '../src/lib/uuid';

describe('byteSize', () => {
  it.each([['ascii'], ['é ü ß'], ['€ 1 234'], ['日本語のテキスト'], ['emoji 😀👍🏽'], ['mixed é€😀 end']])('counts UTF-8 bytes of %s as TextEncoder does', (text) => {
    const value = { text, n: 1 };
    expect(byteSize(value)).toBe(new TextEncoder().encode(JSON.stringify(value)).length);
  });
});

describe('uuid', () => {
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  it('makes distinct v4 UUIDs, also without crypto.randomUUID (insecure contexts)', () => {
    const original = crypto.randomUUID;
    try {
      Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
      const ids = new Set(Array.from({ length: 1000 }, uuid));
      expect(ids.size).toBe(1000);
      for (const id of ids) expect(id).toMatch(V4);
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true });
    }
    expect(uuid()).toMatch(V4);
  });
});

/**
 * A UUID v4. `crypto.randomUUID` exists only in secure contexts, and some marketing sites still serve
 * plain http, so this builds one from `getRandomValues`, which exists everywhere.
 */
export const uuid = (): string =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (digit) =>
    (+digit ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+digit / 4)))).toString(16),
  );

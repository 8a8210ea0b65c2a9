/**
 * A UUID v4: `crypto.randomUUID` where the page is a secure context, else built from `getRandomValues`,
 * which exists everywhere (some marketing sites still serve plain http).
 */
export function uuid(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 15) | 64; // version 4
  bytes[8] = (bytes[8]! & 63) | 128; // RFC 4122 variant
  const hex = [...bytes].map((byte) => (byte + 256).toString(16).slice(1)).join('');
  return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

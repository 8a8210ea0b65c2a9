import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactUrl } from '../src/lib/redact';

describe('redactText', () => {
  it.each([
    ['Write to jane.doe+news@example.co.uk today', `Write to ${REDACTED} today`],
    ['Call +1 (555) 123-4567', `Call ${REDACTED}`],
    ['Call 030 1234567', `Call ${REDACTED}`],
    ['Ring 07700 900123 now', `Ring ${REDACTED} now`],
  ])('redacts %s', (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it.each(['Pricing from 1,299 EUR', 'Download the 2026 report', 'Save 25% now', 'Start free trial', 'Top 10 tips'])('keeps %s', (text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactUrl', () => {
  it.each([
    ['tel:+15551234567', `tel:${REDACTED}`],
    ['TEL:555', `tel:${REDACTED}`],
    ['mailto:sales@example.com?subject=Hi', `mailto:${REDACTED}`],
    ['sms:+441234567890', `sms:${REDACTED}`],
  ])('removes the number or address of %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('redacts click ids and personal parameters, keeping the rest', () => {
    expect(redactUrl('https://shop.example/p?utm_source=ads&gclid=abc123&fbclid=XYZ&msclkid=1&color=red')).toBe(
      `https://shop.example/p?utm_source=ads&gclid=${REDACTED}&fbclid=${REDACTED}&msclkid=${REDACTED}&color=red`,
    );
    expect(redactUrl('https://x.example/?email=a%40b.com&first_name=Jo&Phone=1&token=t&page=2')).toBe(
      `https://x.example/?email=${REDACTED}&first_name=${REDACTED}&Phone=${REDACTED}&token=${REDACTED}&page=2`,
    );
  });

  it('redacts e-mail addresses anywhere, also percent-encoded', () => {
    expect(redactUrl('https://x.example/users/jane@example.com/profile')).toBe(`https://x.example/users/${REDACTED}/profile`);
    expect(redactUrl('https://x.example/?ref=jane%40example.com')).toBe(`https://x.example/?ref=${REDACTED}`);
  });

  it('redacts parameters of hash routes and OAuth redirects', () => {
    expect(redactUrl('https://app.example/#/signup?email=x&plan=pro')).toBe(`https://app.example/#/signup?email=${REDACTED}&plan=pro`);
    expect(redactUrl('https://app.example/cb#access_token=abc&state=1')).toBe(`https://app.example/cb#access_token=${REDACTED}&state=1`);
  });

  it('keeps a URL without personal data unchanged', () => {
    const url = 'https://example.com/docs/spec-sheet.pdf?v=3#page=2';
    expect(redactUrl(url)).toBe(url);
  });
});

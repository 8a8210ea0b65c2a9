import { afterEach, describe, expect, it } from 'vitest';
import { landingAttribution, pageContext } from '../src/lib/context';
import { REDACTED, redactPath, redactText, redactUrl } from '../src/lib/redact';

const R = REDACTED;

describe('redactText', () => {
  it.each([
    ['Write to jane.doe+news@example.co.uk today', `Write to ${R} today`],
    ['Call +1 (555) 123-4567', `Call ${R}`],
    ['Call 030 1234567', `Call ${R}`],
    ['Ring 07700 900123 now', `Ring ${R} now`],
    // Percent-encoded, and encoded twice (a URL inside a URL).
    ['jane%40example.com', R],
    ['jane%2540example.com', R],
    ['Order 123456789 shipped', `Order ${R} shipped`],
    ['Card 4111 1111 1111 1111', `Card ${R}`],
    ['Reset eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U now', `Reset ${R} now`],
    ['Invite 550e8400-e29b-41d4-a716-446655440000', `Invite ${R}`],
    ['Key sk_live_4eC39HqLyjWDarjtT1zdp7dc', `Key sk_live_${R}`],
    ['hash 8f14e45fceea167a5a36dedd4bea2543', `hash ${R}`],
  ])('redacts %s', (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it.each([
    'Pricing from 1,299 EUR',
    'Download the 2026 report',
    'Save 25% now',
    'Start free trial',
    'Top 10 tips',
    'Webinar on 2026-05-12',
    'iPhone15ProMax in stock',
    'JavaScript frameworks',
    'Internationalization guide',
    'how-to-track-micro-conversions-in-2026',
  ])('keeps %s', (text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactPath', () => {
  it.each([
    ['/users/jane@example.com/orders', `/users/${R}/orders`],
    ['/users/jane%40example.com/orders', `/users/${R}/orders`],
    ['/users/jane%2540example.com/orders', `/users/${R}/orders`],
    ['/orders/123456789', `/orders/${R}`],
    ['/call/+1%20555%20123%204567', `/call/${R}`],
    ['/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', `/reset/${R}`],
    ['/invite/8f14e45fceea167a5a36dedd4bea2543/accept', `/invite/${R}/accept`],
  ])('redacts %s', (path, expected) => {
    expect(redactPath(path)).toBe(expected);
  });

  it.each(['/', '/pricing', '/blog/2026/05/12/launch', '/blog/2026-05-12-launch', '/docs/v2/spec-sheet.pdf', '/p/how-to-track-micro-conversions'])('keeps %s', (path) => {
    expect(redactPath(path)).toBe(path);
  });
});

describe('redactUrl', () => {
  it.each([
    ['tel:+15551234567', `tel:${R}`],
    ['TEL:555', `tel:${R}`],
    ['mailto:sales@example.com?subject=Hi', `mailto:${R}`],
    ['sms:+441234567890', `sms:${R}`],
  ])('removes the number or address of %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('keeps only utm_* values: every other query value is redacted, click ids and unknown names alike', () => {
    expect(redactUrl('https://shop.example/p?utm_source=ads&gclid=abc123&fbclid=XYZ&msclkid=1&gbraid=g&wbraid=w&color=red&UTM_Medium=cpc')).toBe(
      `https://shop.example/p?utm_source=ads&gclid=${R}&fbclid=${R}&msclkid=${R}&gbraid=${R}&wbraid=${R}&color=${R}&UTM_Medium=cpc`,
    );
    expect(redactUrl('https://x.example/?api_key=k1&jwt=j&otp=123456&card=4111&sig=s&message=Hi+there&search=my+name&page=2')).toBe(
      `https://x.example/?api_key=${R}&jwt=${R}&otp=${R}&card=${R}&sig=${R}&message=${R}&search=${R}&page=${R}`,
    );
  });

  it('keeps the values of the parameters a site names (urlParams), unless they hold personal data', () => {
    const url = 'https://x.example/list?page=2&Sort=price&color=red&ref=jane%2540example.com&q=jane@example.com';
    expect(redactUrl(url, ['page', 'sort', 'ref'])).toBe(`https://x.example/list?page=2&Sort=price&color=${R}&ref=${R}&q=${R}`);
  });

  it('redacts personal data in kept values, also double-encoded', () => {
    expect(redactUrl('https://x.example/?utm_source=jane%2540example.com&utm_term=0301234567&utm_medium=email')).toBe(
      `https://x.example/?utm_source=${R}&utm_term=${R}&utm_medium=email`,
    );
  });

  it('redacts e-mail addresses, phone numbers, digit runs and tokens in the path, file names included', () => {
    expect(redactUrl('https://x.example/users/jane@example.com/profile')).toBe(`https://x.example/users/${R}/profile`);
    expect(redactUrl('https://x.example/users/jane%2540example.com/profile')).toBe(`https://x.example/users/${R}/profile`);
    expect(redactUrl('https://x.example/files/call-0301234567.pdf')).toBe(`https://x.example/files/${R}`);
    expect(redactUrl('https://x.example/files/quote%20+44%2020%207946%200958.pdf')).toBe(`https://x.example/files/${R}`);
  });

  it('removes credentials written into the URL', () => {
    expect(redactUrl('https://jane:s3cret@x.example/private?utm_source=a')).toBe('https://x.example/private?utm_source=a');
  });

  it('applies the same rules to hash routes and to parameters after #', () => {
    expect(redactUrl('https://app.example/#/signup?email=x&plan=pro&utm_source=a')).toBe(`https://app.example/#/signup?email=${R}&plan=${R}&utm_source=a`);
    expect(redactUrl('https://app.example/cb#access_token=abc&state=1')).toBe(`https://app.example/cb#access_token=${R}&state=${R}`);
    expect(redactUrl('https://app.example/#/users/jane@example.com')).toBe(`https://app.example/#/users/${R}`);
    expect(redactUrl('https://app.example/pricing#plans')).toBe('https://app.example/pricing#plans');
  });

  it('keeps a URL without query or personal data unchanged', () => {
    for (const url of ['https://example.com/docs/spec-sheet.pdf', 'https://example.com/', '', 'https://example.com/blog/2026/05/12/launch#comments']) expect(redactUrl(url)).toBe(url);
  });
});

describe('the page and the attribution', () => {
  const referrer = Object.getOwnPropertyDescriptor(Document.prototype, 'referrer');
  afterEach(() => {
    delete (document as { referrer?: string }).referrer;
    if (referrer) Object.defineProperty(Document.prototype, 'referrer', referrer);
  });

  const arrive = (url: string, from: string, title = '') => {
    history.replaceState(null, '', url);
    Object.defineProperty(document, 'referrer', { value: from, configurable: true });
    document.title = title;
  };

  it('redacts the landing page, its referrer and the utm values; click ids are kept as they came', () => {
    arrive(
      '/landing/jane@example.com?utm_source=jane%40example.com&utm_medium=cpc&utm_campaign=spring&gclid=Cj0KCQ1&gbraid=GB1&wbraid=WB1&fbclid=FB1&email=x@y.z',
      'https://search.example/results?q=jane+doe&utm_term=0301234567',
    );
    expect(landingAttribution()).toEqual({
      utm_source: R,
      utm_medium: 'cpc',
      utm_campaign: 'spring',
      utm_term: null,
      utm_content: null,
      gclid: 'Cj0KCQ1',
      gbraid: 'GB1',
      wbraid: 'WB1',
      fbclid: 'FB1',
      landing_page: `${location.origin}/landing/${R}?utm_source=${R}&utm_medium=cpc&utm_campaign=spring&gclid=${R}&gbraid=${R}&wbraid=${R}&fbclid=${R}&email=${R}`,
      referrer: `https://search.example/results?q=${R}&utm_term=${R}`,
    });
  });

  it('keeps a click id as it came, however token-like (ad attribution needs it whole)', () => {
    // A real gclid is a long mixed-case token: redactText would take it for a secret.
    const gclid = 'Cj0KCQiAoae5BhCNARIsADVLzZfZq9x7Yv3k2L8mN4pQ1rS6tU0wX5yZ';
    arrive(`/p?gclid=${gclid}&utm_content=${gclid}`, '');
    const attribution = landingAttribution();
    expect(attribution.gclid).toBe(gclid);
    expect(attribution.utm_content).toBe(R);
  });

  it('keeps the parameters the site names in the landing page', () => {
    arrive('/list?page=2&color=red', '');
    expect(landingAttribution(['page']).landing_page).toBe(`${location.origin}/list?page=2&color=${R}`);
  });

  it('redacts the page URL, path, title and referrer', () => {
    arrive('/users/jane@example.com/orders?message=hello&utm_source=a', 'https://x.example/?token=abc', 'Orders of jane@example.com, +44 20 7946 0958');
    expect(pageContext()).toEqual({
      url: `${location.origin}/users/${R}/orders?message=${R}&utm_source=a`,
      path: `/users/${R}/orders`,
      title: `Orders of ${R}, ${R}`,
      referrer: `https://x.example/?token=${R}`,
    });
  });
});

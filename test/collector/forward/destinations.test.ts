// @vitest-environment node
import { afterEach, describe, expect, test, vi } from 'vitest';
import { sha256Hex } from '../../../collector/forward/hash';
import { bodies, event, setup, T0, USER_AGENT, type Setup } from './support';

// Each test starts a collector and the stand-ins, on DuckDB: seconds on a loaded machine, not the default 5.
vi.setConfig({ testTimeout: 30_000 });

let current: Setup | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});
const start = async (...args: Parameters<typeof setup>) => (current = await setup(...args));

describe('Meta Conversions API', () => {
  test('POST /{version}/{pixel_id}/events?access_token=…: data[] with the browser event_id, seconds, website, hashed user data, IP and agent', async () => {
    const { post, forwarder, standIns, rows } = await start((forward) => ({ meta: forward.meta, autoSend: false }));
    const lead = event('generate_lead', { ids: { fbp: 'fb.1.1718452800000.1234567890', email: ' Jane.Doe@Example.com ', phone: '+33 6 12 34 56 78', user_id: 'user-42' } });
    const click = event('cta_click', { attribution: { ...event('x').attribution, fbclid: 'IwAR-abc' }, ids: null });
    const answer = await post([lead, click], { 'X-Forwarded-For': '203.0.113.9' });
    expect([answer.status, await answer.json()]).toEqual([200, { stored: 2, duplicates: 0, rejected: [] }]);
    await forwarder.flush();

    const [request, ...more] = standIns.requests;
    expect(more).toEqual([]);
    expect(request!.path).toBe(`/v22.0/${standIns.credentials.meta.pixelId}/events`);
    expect(request!.query).toEqual({ access_token: standIns.credentials.meta.accessToken });
    const [leadEvent, clickEvent] = (request!.body as any).data;
    expect(leadEvent).toEqual({
      event_name: 'Lead', // the browser adapter's 'standard' mapping: the same name the pixel sent
      event_time: Math.floor(lead.ts / 1000),
      event_id: lead.event_id,
      action_source: 'website',
      event_source_url: 'https://tally.example/pricing',
      referrer_url: 'https://tally.example/',
      user_data: {
        em: [sha256Hex('jane.doe@example.com')],
        ph: [sha256Hex('33612345678')],
        external_id: [sha256Hex('user-42')],
        fbp: 'fb.1.1718452800000.1234567890',
        fbc: `fb.1.${lead.ts}.IwAR-fbclid-1`,
        client_ip_address: '127.0.0.1',
        client_user_agent: USER_AGENT,
      },
      custom_data: { cta_name: 'start_trial' },
    });
    expect(clickEvent).toMatchObject({ event_name: 'cta_click', event_id: click.event_id, user_data: { fbc: `fb.1.${click.ts}.IwAR-abc`, client_user_agent: USER_AGENT } });
    expect(JSON.stringify(request!.body)).not.toMatch(/jane|612345678\b/i);
    expect(standIns.problems).toEqual([]);
    expect((await rows('meta')).map((row) => [row.status, row.payload])).toEqual([
      ['sent', null],
      ['sent', null],
    ]);
  });

  test('test mode: test_event_code in the body, rows marked tested', async () => {
    const { post, forwarder, standIns, rows } = await start((forward) => ({ meta: { ...forward.meta!, testEventCode: 'TEST4242' }, autoSend: false }));
    const lead = event('generate_lead');
    await post([lead]);
    await forwarder.flush();
    expect(bodies(standIns, 'meta')[0].test_event_code).toBe('TEST4242');
    expect([...standIns.tested.meta.keys()]).toEqual([lead.event_id]);
    expect(standIns.accepted.meta.size).toBe(0);
    expect((await rows('meta'))[0]!.status).toBe('tested');
  });

  test('Meta\'s temporary error codes are retried although the status is 400; a bad token fails for good with Meta\'s message', async () => {
    const { post, forwarder, standIns, rows, clock } = await start((forward) => ({ meta: forward.meta, autoSend: false }));
    standIns.script('meta', { status: 400, body: { error: { message: 'Application request limit reached', type: 'OAuthException', code: 4, is_transient: true, fbtrace_id: 'x' } } });
    await post([event('generate_lead')]);
    await forwarder.flush();
    expect((await rows('meta'))[0]).toMatchObject({ status: 'pending', attempts: 1, error: expect.stringContaining('Application request limit reached') });
    clock.now += 60_000;
    standIns.script('meta', { status: 400, body: { error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190, fbtrace_id: 'y' } } });
    await forwarder.flush();
    expect((await rows('meta'))[0]).toMatchObject({ status: 'failed', error: 'http_400: Invalid OAuth access token (OAuthException code 190)' });
    clock.now += 3_600_000;
    await forwarder.flush();
    expect(standIns.count('meta')).toBe(2);
  });
});

describe('Google Ads click conversions', () => {
  test('uploadClickConversions: developer-token, OAuth bearer, login-customer-id; one click id per conversion; enhanced conversions for leads', async () => {
    const { post, forwarder, standIns } = await start((forward) => ({ googleAds: forward.googleAds, autoSend: false }));
    const base = event('generate_lead').attribution;
    // Seconds apart: the outbox sends in event time order.
    const byGclid = event('generate_lead', { at: T0 - 5000, ids: { email: 'Jane.Doe@gmail.com' } });
    const byWbraid = event('generate_lead', { at: T0 - 4000, attribution: { ...base, gclid: null, wbraid: 'wbraid-1', gbraid: 'gbraid-1' } });
    const byGbraid = event('purchase', { at: T0 - 3000, attribution: { ...base, gclid: null, gbraid: 'gbraid-2' }, ids: { email: 'x@example.com' } });
    const forLeads = event('generate_lead', { at: T0 - 2000, attribution: { ...base, gclid: null }, ids: { email: 'Jane.Doe@gmail.com', phone: '+1 650 555 0123' } });
    const nothing = event('generate_lead', { at: T0 - 1000, attribution: { ...base, gclid: null }, ids: null });
    await post([byGclid, byWbraid, byGbraid, forLeads, nothing]);
    await forwarder.flush();

    const [token, upload, ...more] = standIns.requests;
    expect(more).toEqual([]);
    expect(token!.destination).toBe('oauth');
    expect(upload!.path).toBe(`/v22/customers/${standIns.credentials.googleAds.customerId}:uploadClickConversions`);
    expect(upload!.headers['developer-token']).toBe(standIns.credentials.googleAds.developerToken);
    expect(upload!.headers.authorization).toBe('Bearer ya29.stand-in-1');
    expect(upload!.headers['login-customer-id']).toBe(standIns.credentials.googleAds.loginCustomerId);
    const body = upload!.body as any;
    expect(body).toMatchObject({ partialFailure: true, validateOnly: false });
    const action = (id: string) => `customers/${standIns.credentials.googleAds.customerId}/conversionActions/${id}`;
    const time = (ts: number) => `${new Date(ts).toISOString().slice(0, 19).replace('T', ' ')}+00:00`;
    const consent = { adUserData: 'GRANTED' };
    expect(body.conversions).toEqual([
      {
        conversionAction: action('555'),
        conversionDateTime: time(byGclid.ts),
        gclid: 'Cj0KCQjw-gclid-1',
        userIdentifiers: [{ hashedEmail: sha256Hex('janedoe@gmail.com'), userIdentifierSource: 'FIRST_PARTY' }],
        orderId: byGclid.event_id,
        consent,
      },
      { conversionAction: action('555'), conversionDateTime: time(byWbraid.ts), wbraid: 'wbraid-1', orderId: byWbraid.event_id, consent },
      { conversionAction: action('556'), conversionDateTime: time(byGbraid.ts), gbraid: 'gbraid-2', conversionValue: 49.5, currencyCode: 'EUR', orderId: byGbraid.event_id, consent },
      {
        conversionAction: action('555'),
        conversionDateTime: time(forLeads.ts),
        userIdentifiers: [
          { hashedEmail: sha256Hex('janedoe@gmail.com'), userIdentifierSource: 'FIRST_PARTY' },
          { hashedPhoneNumber: sha256Hex('+16505550123'), userIdentifierSource: 'FIRST_PARTY' },
        ],
        orderId: forLeads.event_id,
        consent,
      },
    ]);
    expect(standIns.problems).toEqual([]);
    expect(standIns.accepted.google_ads.size).toBe(4);
    const counts = (await (await forwarder.outbox).counts()).find((count) => count.destination === 'google_ads')!;
    expect(counts).toMatchObject({ sent: 4, skipped: 1, skips: [{ reason: 'no gclid, gbraid, wbraid or hashed e-mail or phone', count: 1 }] });
  });

  test('partial failure: the refused conversion fails with its code, an order id already in use counts as sent, TOO_RECENT_EVENT waits 6 hours', async () => {
    const { post, forwarder, standIns, rows, clock } = await start((forward) => ({ googleAds: forward.googleAds, autoSend: false }));
    const base = event('generate_lead').attribution;
    const good = event('generate_lead', { at: T0 - 3000 });
    const unparseable = event('generate_lead', { at: T0 - 2000, attribution: { ...base, gclid: 'invalid-gclid' } });
    const recent = event('generate_lead', { at: T0 - 1000, attribution: { ...base, gclid: 'recent-click' } });
    standIns.accepted.google_ads.set(good.event_id, 1); // recorded by an earlier upload whose answer was lost
    // The stand-in's own rules cover the first two; TOO_RECENT_EVENT is scripted as Google words it.
    await post([good, unparseable, recent]);
    standIns.script('google_ads', {
      status: 200,
      body: {
        partialFailureError: {
          code: 3,
          message: 'Multiple errors',
          details: [
            {
              '@type': 'type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure',
              errors: [
                { errorCode: { conversionUploadError: 'ORDER_ID_ALREADY_IN_USE' }, message: 'The order ID was already used.', location: { fieldPathElements: [{ fieldName: 'conversions', index: 0 }] } },
                { errorCode: { conversionUploadError: 'UNPARSEABLE_GCLID' }, message: 'The imported gclid could not be decoded.', location: { fieldPathElements: [{ fieldName: 'conversions', index: 1 }] } },
                { errorCode: { conversionUploadError: 'TOO_RECENT_EVENT' }, message: 'Retry after 6 hours.', location: { fieldPathElements: [{ fieldName: 'conversions', index: 2 }, { fieldName: 'gclid' }] } },
              ],
            },
          ],
        },
        results: [{}, {}, {}],
      },
    });
    await forwarder.flush();
    const byId = new Map((await rows('google_ads')).map((row) => [row.event_id, row]));
    expect(byId.get(good.event_id)).toMatchObject({ status: 'sent', error: 'already recorded' });
    expect(byId.get(unparseable.event_id)).toMatchObject({ status: 'failed', error: 'UNPARSEABLE_GCLID: The imported gclid could not be decoded.' });
    expect(byId.get(recent.event_id)).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: T0 + 6 * 3_600_000 });
    clock.now = T0 + 6 * 3_600_000;
    await forwarder.flush();
    expect((await rows('google_ads')).map((row) => row.status).sort()).toEqual(['failed', 'sent', 'sent']);
    expect(standIns.count('google_ads')).toBe(2);
    expect((bodies(standIns, 'google_ads')[1].conversions as any[]).map((c) => c.gclid)).toEqual(['recent-click']);
  });

  test('validateOnly in test mode; a refresh token Google refuses fails the rows with its reason and is not retried', async () => {
    const { post, forwarder, standIns, rows } = await start((forward) => ({ googleAds: { ...forward.googleAds!, validateOnly: true }, autoSend: false }));
    const lead = event('generate_lead');
    await post([lead]);
    await forwarder.flush();
    expect(bodies(standIns, 'google_ads')[0].validateOnly).toBe(true);
    expect([...standIns.tested.google_ads.keys()]).toEqual([lead.event_id]);
    expect((await rows('google_ads'))[0]!.status).toBe('tested');

    const wrong = await setup((forward) => ({ googleAds: { ...forward.googleAds!, oauth: { ...forward.googleAds!.oauth!, refreshToken: 'revoked' } }, autoSend: false }), { standIns });
    try {
      await wrong.post([event('generate_lead')]);
      await wrong.forwarder.flush();
      expect((await wrong.rows('google_ads'))[0]).toMatchObject({ status: 'failed', error: 'oauth token: http_400: invalid_grant Bad Request' });
      wrong.clock.now += 3_600_000;
      await wrong.forwarder.flush();
      expect(standIns.count('google_ads')).toBe(1);
    } finally {
      await wrong.close();
    }
  });

  test('the upload file: the time zone line, the template\'s columns, yyyy-MM-dd HH:mm:ss in that zone; gclid rows only; basic authentication', async () => {
    const { post, running, standIns } = await start((forward) => ({
      googleAds: { ...forward.googleAds!, delivery: 'file', file: { timeZone: 'Europe/Paris', username: 'ads', password: 's3cret' } },
      autoSend: false,
    }));
    const base = event('generate_lead').attribution;
    const lead = event('generate_lead', { at: Date.UTC(2025, 5, 15, 9, 30, 5) });
    const purchase = event('purchase', { at: Date.UTC(2025, 5, 15, 10, 0, 0), attribution: { ...base, gclid: 'gclid,with"quote' } });
    const braid = event('generate_lead', { attribution: { ...base, gclid: null, wbraid: 'w-1' } });
    await post([lead, purchase, braid]);
    const url = `${running.url}/forward/google-ads.csv`;
    expect((await fetch(url)).status).toBe(401);
    const answer = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from('ads:s3cret').toString('base64')}` } });
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await answer.text()).toBe(
      [
        'Parameters:TimeZone=Europe/Paris',
        'Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency',
        'Cj0KCQjw-gclid-1,Demo request,2025-06-15 11:30:05,,',
        '"gclid,with""quote",purchase,2025-06-15 12:00:00,49.5,EUR',
        '',
      ].join('\n'),
    );
    expect(standIns.requests).toEqual([]);
  });
});

describe('GA4 Measurement Protocol', () => {
  test('POST /mp/collect?measurement_id&api_secret: client_id from _ga, user_id, consent, events with session_id, engagement_time_msec, event_id', async () => {
    const { post, forwarder, standIns } = await start((forward) => ({ ga4: forward.ga4, autoSend: false }));
    const first = event('generate_lead', { consent: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'denied' } });
    const second = event('cta_click', { consent: first.consent, at: first.ts + 1000 });
    const other = event('cta_click', { at: first.ts + 2000, ids: { ga_client_id: null }, anonymous_id: 'anon-2' });
    await post([first, second, other]);
    await forwarder.flush();
    const requests = standIns.requests.filter((request) => request.destination === 'ga4');
    expect(requests.map((request) => [request.path, request.query])).toEqual([
      ['/mp/collect', { measurement_id: 'G-TEST123', api_secret: 'mp-secret' }],
      ['/mp/collect', { measurement_id: 'G-TEST123', api_secret: 'mp-secret' }],
    ]);
    expect(requests[0]!.body).toEqual({
      client_id: '123456789.1718452800',
      user_id: 'user-42',
      consent: { ad_user_data: 'GRANTED', ad_personalization: 'DENIED' },
      events: [
        { name: 'generate_lead', params: { session_id: 's-1', engagement_time_msec: 1, event_id: first.event_id, cta_name: 'start_trial' }, timestamp_micros: first.ts * 1000 },
        { name: 'cta_click', params: { session_id: 's-1', engagement_time_msec: 1, event_id: second.event_id, cta_name: 'start_trial' }, timestamp_micros: second.ts * 1000 },
      ],
    });
    expect(requests[1]!.body).toMatchObject({ client_id: 'anon-2', events: [{ name: 'cta_click' }] });
    expect(standIns.problems).toEqual([]);
    expect(standIns.accepted.ga4.size).toBe(3);
  });

  test('validate: /debug/mp/collect; validationMessages fail the event with GA4\'s words, and it is not retried', async () => {
    const { post, forwarder, standIns, rows, clock } = await start((forward) => ({ ga4: { ...forward.ga4!, validate: true, names: { cta_click: '_bad_name' } }, autoSend: false }));
    const good = event('generate_lead');
    const bad = event('cta_click', { ids: { ga_client_id: 'other.1' } });
    await post([good, bad]);
    await forwarder.flush();
    expect(standIns.requests.map((request) => request.path)).toEqual(['/debug/mp/collect', '/debug/mp/collect']);
    const byId = new Map((await rows('ga4')).map((row) => [row.event_id, row]));
    expect(byId.get(good.event_id)!.status).toBe('tested');
    expect(byId.get(bad.event_id)).toMatchObject({
      status: 'failed',
      error: 'validation: NAME_INVALID at events[0].name: Event at index: [0] has invalid name [_bad_name]. Names must start with an alphabetic character.',
    });
    clock.now += 3_600_000;
    await forwarder.flush();
    expect(standIns.count('ga4')).toBe(2);
  });

  test('GA4\'s reserved names are never forwarded, and the report says why', async () => {
    const { post, forwarder, rows } = await start((forward) => ({ ga4: { ...forward.ga4!, names: { cta_click: 'click' } }, autoSend: false }));
    await post([event('cta_click')]);
    await forwarder.flush();
    expect(await rows('ga4')).toEqual([]);
    const report = await (await fetch(`${current!.running.url}/report.json`)).json();
    const cta = report.forwarding.signals.find((signal: any) => signal.signal === 'cta_click');
    expect(cta.forwarding).toEqual([{ destination: 'ga4', forwarded: false, why: 'GA4 reserves the event name click' }]);
  });
});

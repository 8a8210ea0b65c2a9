// @vitest-environment node
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadForwardConfig } from '../../../collector/forward/config';

const directory = mkdtempSync(join(tmpdir(), 'microconv-forward-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const path = join(directory, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const ENV = { META_ACCESS_TOKEN: 'meta-token', GOOGLE_ADS_DEVELOPER_TOKEN: 'dev', GOOGLE_ADS_CLIENT_ID: 'id', GOOGLE_ADS_CLIENT_SECRET: 'secret', GOOGLE_ADS_REFRESH_TOKEN: 'refresh', GA4_API_SECRET: 'ga4' };

describe('loadForwardConfig', () => {
  test('the example config loads, its secrets read from the environment', async () => {
    const config = await loadForwardConfig('collector/forward/example.json', ENV);
    expect(config.forward.meta).toMatchObject({ pixelId: '1234567890', accessToken: 'meta-token', testEventCode: 'TEST12345' });
    expect(config.forward.googleAds!.oauth).toEqual({ clientId: 'id', clientSecret: 'secret', refreshToken: 'refresh' });
    expect(config.forward.ga4).toMatchObject({ apiSecret: 'ga4', send: ['generate_lead'], validate: true });
    expect(config.identifiers).toEqual({ defaultCallingCode: '33' });
  });

  test('every problem names the file and the setting', async () => {
    await expect(loadForwardConfig('collector/forward/example.json', { ...ENV, GA4_API_SECRET: '' })).rejects.toThrow(
      'collector/forward/example.json: ga4.apiSecret names the environment variable GA4_API_SECRET, which is not set',
    );
    const typo = file('typo.json', { meta: { pixelId: '1', accessToken: 'x' }, gaa4: {} });
    await expect(loadForwardConfig(typo, ENV)).rejects.toThrow(`${typo}: unknown setting gaa4`);
    const bad = file('bad.json', { googleAds: { customerId: '1', developerToken: 'd', accessToken: 'a', conversions: { generate_lead: { action: 'Demo request' } } } });
    await expect(loadForwardConfig(bad, ENV)).rejects.toThrow(`${bad}: forward.googleAds.conversions.generate_lead.action: expected a conversion action id or customers/{id}/conversionActions/{id}, got "Demo request"`);
    const rule = file('rule.json', { meta: { pixelId: '1', accessToken: 'x', send: 'some' } });
    await expect(loadForwardConfig(rule, ENV)).rejects.toThrow(`${rule}: forward.meta.send: 'validated', 'all' or a list of event names`);
    await expect(loadForwardConfig(file('empty.json', {}), ENV)).rejects.toThrow('configure at least one of meta, googleAds, ga4');
    await expect(loadForwardConfig(file('broken.json', '{'), ENV)).rejects.toThrow(/broken\.json: .*JSON/);
  });
});

describe('startCollector', () => {
  test('a store without an outbox of its own, and no forward.outbox: starting fails, saying so', async () => {
    const { startCollector } = await import('../../../collector/http');
    const store = { insert: async () => 0, signalCounts: async () => [], funnelCounts: async () => ({ sessions: 0, converted: 0, stages: [] }), close: async () => {} };
    await expect(startCollector({ port: 0, store, onError: () => {}, forward: { ga4: { measurementId: 'G-X1', apiSecret: 's' } } })).rejects.toThrow(
      'forward: this store has no outbox of its own (DuckDB and PostgreSQL have); pass forward.outbox',
    );
  });
});

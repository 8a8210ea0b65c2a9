import { describe, expect, it } from 'vitest';
import { applyConsent, gate } from '../src/core/consent';

describe('consent', () => {
  it('starts from the given default, granted where nothing is said', () => {
    expect(applyConsent(undefined, 'pending', false)).toEqual({
      analytics_storage: 'pending',
      ad_storage: 'pending',
      ad_user_data: 'pending',
      ad_personalization: 'pending',
    });
    expect(applyConsent(undefined, { ad_storage: 'denied' }, false)).toMatchObject({ analytics_storage: 'granted', ad_storage: 'denied' });
  });

  it('updates only the purposes named', () => {
    const state = applyConsent(undefined, 'pending', false);
    expect(applyConsent(state, { analytics_storage: 'granted' }, false)).toMatchObject({ analytics_storage: 'granted', ad_storage: 'pending' });
  });

  it('keeps the ad purposes denied under Global Privacy Control, whatever the update', () => {
    const state = applyConsent(undefined, 'granted', true);
    expect(state).toEqual({ analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
    expect(applyConsent(state, 'granted', true).ad_user_data).toBe('denied');
  });

  it('gates an adapter by the purposes it needs', () => {
    const state = applyConsent(undefined, { analytics_storage: 'granted', ad_storage: 'pending', ad_user_data: 'denied' }, false);
    expect(gate(state, ['analytics_storage'])).toBe('granted');
    expect(gate(state, ['analytics_storage', 'ad_storage'])).toBe('pending');
    expect(gate(state, ['ad_storage', 'ad_user_data'])).toBe('denied');
    expect(gate(state)).toBe('granted');
  });
});

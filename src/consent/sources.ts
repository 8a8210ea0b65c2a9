import type { ConsentUpdate } from '../types';
import type { Log } from '../lib/safe';
import { followGtagConsent } from './gtag';
import { followTcfConsent } from './tcf';

/**
 * A consent tool the site already runs, followed: each decision it makes goes to `apply` (the instance's
 * own `consent`), from the moment it starts until the function it returns is called.
 */
export type ConsentSource = (apply: (update: ConsentUpdate) => void, log: Log) => () => void;

/** The sources that `consent: 'name'` and `data-consent="name"` can name. Until one speaks, consent is pending. */
export const consentSources: Partial<Record<string, ConsentSource>> = { gtag: followGtagConsent, tcf: followTcfConsent };

/**
 * The registry of built-in parts: one line each. `microconv` (src/index.ts) and the script tag
 * (src/script.ts) register all of them; `microconv/core` exports them for an app to pick from.
 *
 * A part with `start` or `create` comes with `microconv.js`. A part with `load` is fetched when a page
 * needs it: for the script tag, from its own file next to `microconv.js`, which the build makes from the
 * `import()` on its line (`microconv-forms.js` from `./trackers/forms`); in the npm builds its code is
 * bundled, and `load` resolves at once. Its descriptor, registered at once, says what the core holds
 * while it comes. To add a destination: its file in `adapters/`, and one line here. This file exports
 * parts and nothing else: the entries register `Object.values` of it.
 */
import type { AdapterPart, ConsentPart, DataLayerOptions, GtagOptions, LinkedinOptions, MetaOptions, TiktokOptions, TrackerPart, VideoOptions, XOptions } from './types';
import { dataLayerDescriptor } from './adapters/datalayer';
import { gtagDescriptor } from './adapters/gtag';
import { linkedinDescriptor } from './adapters/linkedin';
import { metaDescriptor } from './adapters/meta';
import { tiktokDescriptor } from './adapters/tiktok';
import { xDescriptor } from './adapters/x';
import { formsDescriptor } from './trackers/forms';
import { videoDescriptor } from './trackers/video';

export { endpointPart } from './adapters/endpoint';
export { clicksPart } from './trackers/clicks';
export { sectionsPart } from './trackers/sections';
export { scrollPart } from './trackers/scroll';
export const formsPart: TrackerPart = { ...formsDescriptor, load: () => import('./trackers/forms').then((module) => module.trackForms) };
export const videoPart: TrackerPart<VideoOptions> = { ...videoDescriptor, load: () => import('./trackers/video').then((module) => module.trackVideo) };
export const gtagPart: AdapterPart<GtagOptions> = { ...gtagDescriptor, load: () => import('./adapters/gtag').then((module) => module.gtagAdapter) };
export const metaPart: AdapterPart<MetaOptions> = { ...metaDescriptor, load: () => import('./adapters/meta').then((module) => module.metaAdapter) };
export const dataLayerPart: AdapterPart<DataLayerOptions> = { ...dataLayerDescriptor, load: () => import('./adapters/datalayer').then((module) => module.dataLayerAdapter) };
export const tiktokPart: AdapterPart<TiktokOptions> = { ...tiktokDescriptor, load: () => import('./adapters/tiktok').then((module) => module.tiktokAdapter) };
export const linkedinPart: AdapterPart<LinkedinOptions> = { ...linkedinDescriptor, load: () => import('./adapters/linkedin').then((module) => module.linkedinAdapter) };
export const xPart: AdapterPart<XOptions> = { ...xDescriptor, load: () => import('./adapters/x').then((module) => module.xAdapter) };
// The consent sources: fetched by a page whose consent option names one (consent is pending meanwhile).
export const gtagConsentPart: ConsentPart = { kind: 'consent', name: 'gtag', load: () => import('./consent/consent-mode').then((module) => module.followGtagConsent) };
export const tcfConsentPart: ConsentPart = { kind: 'consent', name: 'tcf', load: () => import('./consent/tcf').then((module) => module.followTcfConsent) };

export { init } from './core/instance';
export { endpointAdapter } from './adapters/endpoint';
export { gtagAdapter, GA4_RESERVED_EVENTS, GA4_RESERVED_PARAMS } from './adapters/gtag';
export { metaAdapter, META_STANDARD_EVENTS } from './adapters/meta';
export { dataLayerAdapter } from './adapters/datalayer';
export type * from './types';
export type { GtagOptions } from './adapters/gtag';
export type { MetaOptions, MetaMapping } from './adapters/meta';
export type { DataLayerOptions } from './adapters/datalayer';

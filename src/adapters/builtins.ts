import type { AdapterFactory } from '../core/options';
import { dataLayerAdapter } from './datalayer';
import { endpointAdapter } from './endpoint';
import { gtagAdapter } from './gtag';
import { metaAdapter } from './meta';

/** The adapters that `adapters: ['name']` and `data-adapters` can name; each takes its options from `options[name]`. */
export const builtInAdapters: Record<string, AdapterFactory> = {
  endpoint: (options) => endpointAdapter(options.endpoint!),
  gtag: (options) => gtagAdapter(options.gtag),
  meta: (options) => metaAdapter(options.meta),
  datalayer: (options) => dataLayerAdapter(options.datalayer),
};

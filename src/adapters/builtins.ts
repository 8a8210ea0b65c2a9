import type { AdapterFactory } from '../core/options';
import { endpointAdapter } from './endpoint';

/** The adapters that `adapters: ['name']` and `data-adapters` can name. */
export const builtInAdapters: Record<string, AdapterFactory> = {
  endpoint: (options) => endpointAdapter(options.endpoint!),
};

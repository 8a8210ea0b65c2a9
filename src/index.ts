export { init } from './core/instance';
export { endpointAdapter } from './adapters/endpoint';
export type * from './types';

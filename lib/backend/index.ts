export { selectBackend, describeBackend, currentBackend, BACKEND_NAMES } from './select.ts';
export type { BackendName, BackendInfo, SelectOptions } from './select.ts';

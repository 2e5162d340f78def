export * from './schemas.js';
export * from './errors.js';
export type * from './invoker.js';

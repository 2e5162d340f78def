export { buildApp, type BuildAppOptions } from './app.js';
export * from './config.js';
export { errors } from './errors.js';
export { TokenVerifier, ANONYMOUS } from './auth.js';
export { startGateway, type RunningGateway } from './main.js';
